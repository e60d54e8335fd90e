// Table-driven diagnostics tests: compile a source and compare every diagnostic's
// {message, line, column} (the graphql-js way: the exact words a user sees).
import { expect } from 'vitest';
import { CompileError, compileSource } from '../../src/compiler/index.js';

export interface Expected { message: string; line: number; column: number; severity?: 'error' | 'warning' }

export function diagnosticsOf(source: string, options: Parameters<typeof compileSource>[2] = {}): Expected[] {
  try {
    const { diagnostics } = compileSource(source, 'test.net', options);
    return diagnostics.map((d) => ({ message: d.message, line: d.loc.line, column: d.loc.column, severity: d.severity }));
  } catch (err) {
    if (!(err instanceof CompileError)) throw err;
    return err.diagnostics.map((d) => ({ message: d.message, line: d.loc.line, column: d.loc.column, severity: d.severity }));
  }
}

export function expectDiagnostics(source: string, expected: Expected[], options: Parameters<typeof compileSource>[2] = {}): void {
  const actual = diagnosticsOf(source, options);
  expect(actual).toEqual(expected.map((e) => ({ severity: 'error', ...e })));
}

/** A minimal valid model around `body` lines, for cases about one statement. */
export function inModel(...body: string[]): string {
  return ['model G(blur: rgb) {', ...body.map((l) => `  ${l}`), '}', ''].join('\n');
}
