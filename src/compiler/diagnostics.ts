// Diagnostics: located messages about the source text, printed as
//   path:line:col: error: message
//       12 |   conv(feats, kernal)
//          |               ^^^^^^
import type { SourceSpan } from './ir.js';

export type Severity = 'error' | 'warning';

export interface Diagnostic {
  severity: Severity;
  message: string;
  loc: SourceSpan;
}

/** Collects diagnostics for one compilation; errors do not stop it, so all are reported. */
export class DiagnosticBag {
  readonly items: Diagnostic[] = [];
  error(message: string, loc: SourceSpan): void {
    this.items.push({ severity: 'error', message, loc });
  }
  warning(message: string, loc: SourceSpan): void {
    this.items.push({ severity: 'warning', message, loc });
  }
  get hasErrors(): boolean {
    return this.items.some((d) => d.severity === 'error');
  }
  sorted(): Diagnostic[] {
    return [...this.items].sort((a, b) => a.loc.offset - b.loc.offset || a.message.localeCompare(b.message));
  }
}

/** Thrown by the compiler's entry points when the source has errors. */
export class CompileError extends Error {
  constructor(readonly diagnostics: Diagnostic[], readonly source: string) {
    super(diagnostics.filter((d) => d.severity === 'error').map((d) => `${d.loc.file}:${d.loc.line}:${d.loc.column}: ${d.message}`).join('\n'));
    this.name = 'CompileError';
  }
}

/** Renders one diagnostic with the source line and a caret under its span. */
export function formatDiagnostic(d: Diagnostic, source: string): string {
  const lines = source.split('\n');
  const text = (lines[d.loc.line - 1] ?? '').replace(/\t/g, ' ');
  const gutter = String(d.loc.line).length;
  const width = d.loc.endLine === d.loc.line ? Math.max(1, d.loc.endColumn - d.loc.column + 1) : Math.max(1, text.length - d.loc.column + 1);
  const pad = ' '.repeat(gutter);
  return [
    `${d.loc.file}:${d.loc.line}:${d.loc.column}: ${d.severity}: ${d.message}`,
    `${pad} |`,
    `${d.loc.line} | ${text}`,
    `${pad} | ${' '.repeat(d.loc.column - 1)}${'^'.repeat(width)}`,
  ].join('\n');
}

export function formatDiagnostics(diagnostics: Diagnostic[], source: string): string {
  const blocks = diagnostics.map((d) => formatDiagnostic(d, source));
  const errors = diagnostics.filter((d) => d.severity === 'error').length;
  const warnings = diagnostics.length - errors;
  const summary = [errors && `${errors} error${errors > 1 ? 's' : ''}`, warnings && `${warnings} warning${warnings > 1 ? 's' : ''}`].filter(Boolean).join(', ');
  return blocks.join('\n\n') + (summary ? `\n\n${summary}` : '');
}

/** A span covering `a` through `b`. */
export function spanBetween(a: SourceSpan, b: SourceSpan): SourceSpan {
  return {
    file: a.file, line: a.line, column: a.column, offset: a.offset,
    endLine: b.endLine, endColumn: b.endColumn, length: b.offset + b.length - a.offset,
  };
}
