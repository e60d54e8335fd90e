// Fuzzing the front end: thousands of random mutations of the real model files (the .net
// fuzzer's mutations, fuzz/mutate.ts). Every one either compiles or fails with located
// diagnostics (or a UserError for a bad --set); the compiler never crashes and never points
// outside the file. Long runs: `npm run fuzz -- --format net --cases N`.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { CompileError, compileSource, formatDiagnostics } from '../../src/compiler/index.js';
import { mulberry32 } from '../../src/compiler/init.js';
import { UserError } from '../../src/errors.js';
import { mutateNet } from '../../fuzz/mutate.js';

const MODELS = ['models/deepdeblur.net', 'models/deepdeblur-pytorch.net'].map((f) => ({ file: f, text: readFileSync(f, 'utf8') }));
describe('fuzzing the model files', () => {
  it('3,000 mutations: no crash, every failure a located diagnostic', () => {
    const random = mulberry32(20171124);
    let failed = 0;
    let compiled = 0;
    for (let i = 0; i < 3000; i++) {
      const { file, text } = MODELS[i % MODELS.length];
      const source = mutateNet(text, random);
      const lines = source.split('\n');
      try {
        compileSource(source, file, { input: [64, 64] });
        compiled++;
      } catch (err) {
        if (err instanceof UserError) continue;
        if (!(err instanceof CompileError)) {
          throw new Error(`mutation ${i} crashed the compiler: ${(err as Error).stack}\n--- source ---\n${source}`);
        }
        failed++;
        const errors = err.diagnostics.filter((d) => d.severity === 'error');
        expect(errors.length, `mutation ${i} failed without an error diagnostic`).toBeGreaterThan(0);
        for (const d of err.diagnostics) {
          expect(d.loc.line, d.message).toBeGreaterThanOrEqual(1);
          expect(d.loc.line, d.message).toBeLessThanOrEqual(lines.length);
          expect(d.loc.column, d.message).toBeGreaterThanOrEqual(1);
          expect(d.message.length).toBeGreaterThan(5);
        }
        expect(formatDiagnostics(err.diagnostics, source)).toContain('^');
      }
    }
    // Both outcomes must be exercised for the test to mean something.
    expect(failed).toBeGreaterThan(500);
    expect(compiled).toBeGreaterThan(100);
  });
});
