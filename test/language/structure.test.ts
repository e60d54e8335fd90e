// NoRecursiveBlocks, SectionStructure, NoUnusedValues, loss and train sections.
// Each row: a source, and every diagnostic it must produce (message, line, column).
import { describe, it } from 'vitest';
import { expectDiagnostics, type Expected } from '../helpers/diagnostics.js';

const cases: { name: string; source: string; options?: { input?: [number, number] }; expected: Expected[] }[] = [
  {
    name: "recursive block",
    source: "block A {\n  relu -> A\n}\nmodel G(blur: rgb) {\n  output blur -> A\n}\n",
    expected: [
      { message: "block 'A' uses itself", line: 1, column: 7 },
    ],
  },
  {
    name: "mutually recursive",
    source: "block A {\n  relu -> B\n}\nblock B {\n  relu -> A\n}\nmodel G(blur: rgb) {\n  output blur -> A\n}\n",
    expected: [
      { message: "block 'A' uses itself through A -> B -> A", line: 1, column: 7 },
      { message: "block 'B' uses itself through B -> A -> B", line: 4, column: 7 },
    ],
  },
  {
    name: "model without output",
    source: "model G(blur: rgb) {\n  y = blur -> relu\n}\n",
    expected: [
      { message: "model 'G' has no output statement", line: 1, column: 7 },
      { message: "'y' is assigned but never used", line: 2, column: 3, severity: "warning" },
    ],
  },
  {
    name: "unknown input type",
    source: "model G(blur: rgba) {\n  output blur\n}\n",
    expected: [
      { message: "unknown input type 'rgba' (known: rgb)", line: 1, column: 15 },
    ],
  },
  {
    name: "two loss sections",
    source: "model G(blur: rgb) {\n  output L = blur -> relu\n}\nloss {\n  total = l1(L, sharp)\n}\nloss {\n  total = l1(L, sharp)\n}\n",
    expected: [
      { message: "a file has one 'loss' section; another one starts at line 4", line: 7, column: 1 },
    ],
  },
  {
    name: "unknown train setting",
    source: "model G(blur: rgb) {\n  output blur\n}\npatch = 8\nbatch = 1\niterations = 2\nlr = 1\ntrain {\n  optimiser: adam(1e-4)\n}\n",
    expected: [
      { message: "unknown train setting 'optimiser' (did you mean 'optimizer'?)", line: 9, column: 3 },
    ],
  },
  {
    name: "train missing constant",
    source: "model G(blur: rgb) {\n  output blur\n}\ntrain {\n  optimizer: adam(1e-4)\n}\n",
    expected: [
      { message: "the train section needs a top-level constant 'batch' (e.g. 'batch = ...')", line: 4, column: 1 },
      { message: "the train section needs a top-level constant 'iterations' (e.g. 'iterations = ...')", line: 4, column: 1 },
      { message: "the train section needs a top-level constant 'patch' (e.g. 'patch = ...')", line: 4, column: 1 },
    ],
  },
  {
    name: "bad augmentation",
    source: "model G(blur: rgb) {\n  output blur\n}\npatch = 8\nbatch = 1\niterations = 2\ntrain {\n  augment: flip, relu\n}\n",
    expected: [
      { message: "augment: 'relu' is not an augmentation (flip, rot90, permute_channels, saturation, noise, shake)", line: 8, column: 18 },
    ],
  },
  {
    name: "shake shorter than a pixel",
    source: "model G(blur: rgb) {\n  output blur\n}\npatch = 8\nbatch = 1\niterations = 2\ntrain {\n  augment: flip, shake(0, 16)\n}\n",
    expected: [
      { message: 'shake: expected 1 <= min <= max <= 64 pixels, got min 0, max 16', line: 8, column: 18 },
    ],
  },
  {
    name: "shake min above max",
    source: "model G(blur: rgb) {\n  output blur\n}\npatch = 8\nbatch = 1\niterations = 2\ntrain {\n  augment: shake(max = 2)\n}\n",
    expected: [
      { message: 'shake: expected 1 <= min <= max <= 64 pixels, got min 3, max 2', line: 8, column: 12 },
    ],
  },
  {
    name: "cosine min above lr",
    source: "model G(blur: rgb) {\n  output blur\n}\npatch = 8\nbatch = 1\niterations = 2\ntrain {\n  schedule: cosine(min = 1e-3)\n  optimizer: adam(1e-4)\n}\n",
    expected: [
      { message: "cosine: 'min' must be between 0 and lr (0.0001), got 0.001", line: 8, column: 13 },
    ],
  },
  {
    name: "ema decay out of range",
    source: "model G(blur: rgb) {\n  output blur\n}\npatch = 8\nbatch = 1\niterations = 2\ntrain {\n  average: ema(1)\n}\n",
    expected: [
      { message: "ema: 'decay' must be between 0 and 1 (e.g. 0.999), got 1", line: 8, column: 12 },
    ],
  },
  {
    name: "average that is not ema",
    source: "model G(blur: rgb) {\n  output blur\n}\npatch = 8\nbatch = 1\niterations = 2\ntrain {\n  average: cosine\n}\n",
    expected: [
      { message: "average: expected ema(decay), got the built-in 'cosine'", line: 8, column: 12 },
    ],
  },
  {
    name: "loss on non-output",
    source: "model G(blur: rgb) {\n  output L = blur -> relu\n}\nloss {\n  total = mse(sharp, sharp)\n}\n",
    expected: [
      { message: "mse: the first argument must be a generator output (e.g. L[k]), not sharp level 0", line: 5, column: 15 },
    ],
  },
  {
    name: "loss shape mismatch",
    source: "model G(blur: rgb) {\n  B = pyramid(blur, levels = 2)\n  output L = B\n}\nloss {\n  S = pyramid(sharp, levels = 2)\n  total = mse(L[1], S[0])\n}\n",
    expected: [
      { message: "mse: output L[1] is 128x128 but sharp level 0 is 256x256", line: 7, column: 11 },
    ],
  },
  {
    name: "unknown reduction",
    source: "model G(blur: rgb) {\n  output L = blur -> relu\n}\nloss {\n  total = avg(k in 0..1) l1(L, sharp)\n}\n",
    expected: [
      { message: "unknown reduction 'avg': use mean(k in a..b) or sum(k in a..b)", line: 5, column: 11 },
    ],
  },
  {
    name: "empty range",
    source: "model G(blur: rgb) {\n  output L = blur -> relu\n}\nloss {\n  total = sum(k in 2..1) l1(L, sharp)\n}\n",
    expected: [
      { message: "empty range 2..1", line: 5, column: 20 },
    ],
  },
  {
    name: "gan with block",
    source: "block D {\n  relu\n}\nmodel G(blur: rgb) {\n  output L = blur -> relu\n}\nloss {\n  total = gan(D, real = sharp, fake = L)\n}\n",
    expected: [
      { message: "gan: the first argument must be a model (the discriminator), not the block 'D'", line: 8, column: 15 },
    ],
  },
  {
    name: "unused value warning",
    source: "model G(blur: rgb) {\n  t = blur -> relu\n  output blur\n}\n",
    expected: [
      { message: "'t' is assigned but never used", line: 2, column: 3, severity: "warning" },
    ],
  },
  {
    name: "unused block warning",
    source: "block A {\n  relu\n}\nmodel G(blur: rgb) {\n  output blur\n}\n",
    expected: [
      { message: "block 'A' is never used", line: 1, column: 7, severity: "warning" },
    ],
  },
  {
    name: "const cycle",
    source: "a = b + 1\nb = a + 1\nmodel G(blur: rgb) {\n  output blur -> conv(3, a)\n}\n",
    expected: [
      { message: "constant 'a' is defined in terms of itself", line: 1, column: 1 },
    ],
  },
  {
    name: "for unpack",
    source: "model G(blur: rgb) {\n  output blur -> for (c, s) in [1, 2] {\n    conv(c, 3, stride = s)\n  }\n}\n",
    expected: [
      { message: "for: each item must have 2 values to unpack, got the number 1", line: 2, column: 32 },
    ],
  },
  {
    name: "for over number",
    source: "model G(blur: rgb) {\n  output blur -> for c in 3 {\n    conv(c, 3)\n  }\n}\n",
    expected: [
      { message: "for: expected a list or a range to loop over, not the number 3", line: 2, column: 27 },
    ],
  },
  {
    name: "output in block",
    source: "block A {\n  output relu\n}\nmodel G(blur: rgb) {\n  output blur -> A\n}\n",
    expected: [
      { message: "'output' belongs in a model; a block's result is its last line", line: 2, column: 3 },
    ],
  },
  {
    name: "no model",
    source: "feats = 3\n",
    expected: [
      { message: "constant 'feats' is never used", line: 1, column: 1, severity: "warning" },
      { message: "the file defines no model", line: 1, column: 1 },
    ],
  },
];

describe("structure", () => {
  it.each(cases)('$name', ({ source, options, expected }) => expectDiagnostics(source, expected, options));
});
