// Fuzzing the front end: thousands of random mutations of the real model files. Every one
// either compiles or fails with located diagnostics (or a UserError for a bad --set); the
// compiler never crashes and never points outside the file.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { CompileError, compileSource, formatDiagnostics } from '../../src/compiler/index.js';
import { mulberry32 } from '../../src/compiler/init.js';
import { UserError } from '../../src/errors.js';

const MODELS = ['models/deepdeblur.net', 'models/deepdeblur-pytorch.net'].map((f) => ({ file: f, text: readFileSync(f, 'utf8') }));
const FRAGMENTS = ['->', '(', ')', '{', '}', '[', ']', ',', '=', ':', '+', '-', '*', '/', ' x ', '..', 'conv', 'relu', 'input', 'block', 'model', 'output', 'for', 'in', 'coarse_to_fine', '"s"', '0', '-1', '2.5', '1e9', 'feats', 'L[7]', 'ResBlock', '#', '\n', '@', 'concat(', 'pyramid(', 'mean(k in 0..3)', 'true'];

function mutate(text: string, random: () => number): string {
  const pick = <T>(xs: T[]) => xs[Math.floor(random() * xs.length)];
  const at = () => Math.floor(random() * (text.length + 1));
  let out = text;
  const edits = 1 + Math.floor(random() * 3);
  for (let i = 0; i < edits; i++) {
    const p = Math.min(at(), out.length);
    switch (Math.floor(random() * 5)) {
      case 0: out = out.slice(0, p) + out.slice(p + 1 + Math.floor(random() * 12)); break; // delete a span
      case 1: out = out.slice(0, p) + pick(FRAGMENTS) + out.slice(p); break; // insert a token
      case 2: out = out.replace(/\d+(\.\d+)?/g, (m) => (random() < 0.15 ? pick(['0', '-3', '1.5', '100000', '7']) : m)); break; // numbers
      case 3: { // swap two lines
        const lines = out.split('\n');
        const a = Math.floor(random() * lines.length), b = Math.floor(random() * lines.length);
        [lines[a], lines[b]] = [lines[b], lines[a]];
        out = lines.join('\n');
        break;
      }
      default: { // replace a name with another name
        const names = out.match(/[A-Za-z_]\w*/g) ?? ['x'];
        const from = pick(names), to = pick(names);
        out = out.replace(from, to);
      }
    }
  }
  return out;
}

describe('fuzzing the model files', () => {
  it('3,000 mutations: no crash, every failure a located diagnostic', () => {
    const random = mulberry32(20171124);
    let failed = 0;
    let compiled = 0;
    for (let i = 0; i < 3000; i++) {
      const { file, text } = MODELS[i % MODELS.length];
      const source = mutate(text, random);
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
