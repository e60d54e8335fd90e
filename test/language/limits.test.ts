// Size limits of the language (src/compiler/limits.ts): each is a located error, reached in
// well under a second and without allocating what the text asks for. Before the limits,
// `ResBlock x 1000000000` compiled for hours (receptive fields walk every iteration),
// `levels = 1e9` in a loss allocated a billion-item list, and nested loops ran unbounded.
import { describe, expect, it } from 'vitest';
import { compileFile } from '../../src/compiler/index.js';
import { LIMITS } from '../../src/compiler/limits.js';
import { diagnosticsOf, expectDiagnostics, type Expected } from '../helpers/diagnostics.js';
import { netc } from '../helpers/spawn-cli.js';

const MODEL = 'models/deepdeblur-pytorch.net';

const cases: { name: string; source: string; input?: [number, number]; expected: Expected[] }[] = [
  {
    name: 'a repeat count of a billion',
    source: 'block A {\n  relu\n}\nmodel G(blur: rgb) {\n  output blur -> A x 1000000000\n}\n',
    expected: [{ message: 'a repeat count must be at most 1,000, got 1,000,000,000', line: 5, column: 22 }],
  },
  {
    name: 'repeats nested past the layer limit',
    source: 'block A {\n  relu -> relu\n}\nblock B {\n  A x 1000\n}\nblock C {\n  B x 1000\n}\nmodel G(blur: rgb) {\n  output blur -> C x 1000\n}\n',
    expected: [{ message: "'C x 1000' grows past 100,000 layers here (repeats and loops expanded)", line: 8, column: 3 }],
  },
  {
    name: 'loops nested past the layer limit',
    source: 'model G(blur: rgb) {\n  output blur -> for i in 0..10000 { for j in 0..10000 { relu } }\n}\n',
    expected: [{ message: "'G' grows past 100,000 layers here (repeats and loops expanded)", line: 2, column: 58 }],
  },
  {
    name: 'pyramid levels of a billion (in the loss: a billion-item list)',
    source: 'model G(blur: rgb) {\n  output L = blur -> conv(3, 3)\n}\nloss {\n  S = pyramid(sharp, levels = 1000000000)\n  total = l1(L, S[0])\n}\n',
    expected: [{ message: "pyramid: 'levels' must be at most 16, got 1,000,000,000", line: 5, column: 22 }],
  },
  {
    name: 'a range of a billion',
    source: 'model G(blur: rgb) {\n  output blur -> for i in 0..1000000000 { relu }\n}\n',
    expected: [{ message: 'range 0..1000000000 is too long (at most 10,000 items)', line: 2, column: 27 }],
  },
  {
    name: 'reductions nested past the evaluation limit',
    source: 'model G(blur: rgb) {\n  output L = blur -> conv(3, 3)\n}\nloss {\n  total = sum(k in 0..10000) sum(j in 0..10000) l1(L, sharp)\n}\n',
    expected: [{ message: 'the file takes more than 1,000,000 evaluation steps to elaborate (loops or reductions too large); stopped here', line: 5, column: 49 }],
  },
  {
    name: 'a convolution with a 26-billion-element output',
    source: 'model G(blur: rgb) {\n  output blur -> conv(6400000, 3)\n}\n',
    input: [64, 64],
    expected: [{ message: 'conv: its output 64x64x6400000 has 26,214,400,000 elements, more than the limit of 2,147,483,647', line: 2, column: 18 }],
  },
  {
    name: 'a filter past the limit',
    source: 'model G(blur: rgb) {\n  output blur -> conv(100000, 3) -> conv(100000, 3)\n}\n',
    input: [8, 8],
    expected: [{ message: 'conv: its weight [3, 3, 100000, 100000] has 90,000,000,000 elements, more than the limit of 2,147,483,647', line: 2, column: 37 }],
  },
  {
    name: 'an input of 100000x100000',
    source: 'model G(blur: rgb) {\n  output blur -> relu\n}\n',
    input: [100000, 100000],
    expected: [{ message: "input 'blur' 100000x100000x3 has 30,000,000,000 elements, more than the limit of 2,147,483,647", line: 1, column: 9 }],
  },
];

describe('limits on model text', () => {
  it.each(cases)('$name: one located error, quickly', ({ source, input, expected }) => {
    const started = performance.now();
    expectDiagnostics(source, expected, { input: input ?? [64, 64] });
    expect(performance.now() - started).toBeLessThan(3000);
  });

  it('--set blocks=1e9 on the real model is the repeat limit at the `x blocks` site', () => {
    const r = netc(['compile', MODEL, '--set', 'blocks=1e9'], { timeout: 15_000 });
    expect(r.status).toBe(1);
    expect(r.stderr).toContain(`${MODEL}:18:37: error: a repeat count must be at most 1,000, got 1,000,000,000`);
  });

  it('a training batch past the tensor limit is an error at the train section', () => {
    const diagnostics = diagnosticsOf(`patch = 65536\nbatch = 4\niterations = 1\nmodel G(blur: rgb) {\n  output L = blur -> relu\n}\nloss {\n  total = l1(L, sharp)\n}\ntrain {\n  optimizer: adam(1e-4)\n}\n`, { input: [8, 8] });
    expect(diagnostics).toContainEqual({ severity: 'error', message: 'a training batch of 4 patches of 65536x65536 is 51,539,607,552 elements, more than the limit of 2,147,483,647', line: 10, column: 1 });
  });

  it('the limits leave the real models far inside them', () => {
    const { program } = compileFile(MODEL, { input: [720, 1280] });
    expect(LIMITS.repeat).toBeGreaterThan(program.constants.blocks * 10);
  });
});
