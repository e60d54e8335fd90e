// Shape inference: channel and spatial mismatches, pyramids, coarse_to_fine.
// Each row: a source, and every diagnostic it must produce (message, line, column).
import { describe, it } from 'vitest';
import { expectDiagnostics, type Expected } from '../helpers/diagnostics.js';

const cases: { name: string; source: string; options?: { input?: [number, number] }; expected: Expected[] }[] = [
  {
    name: "channel mismatch add",
    source: "model G(blur: rgb) {\n  output blur -> conv(8, 3) + blur\n}\n",
    expected: [
      { message: "add: needs equal shapes, got 256x256x8 and 256x256x3", line: 2, column: 10 },
    ],
  },
  {
    name: "spatial mismatch concat",
    source: "model G(blur: rgb) {\n  output concat(blur, blur -> conv(4, 3, stride = 2))\n}\n",
    expected: [
      { message: "concat needs equal spatial sizes, got 256x256 and 128x128", line: 2, column: 10 },
    ],
  },
  {
    name: "odd input through pyramid",
    source: "scales = 3\nmodel G(blur: rgb) {\n  B = pyramid(blur, levels = scales)\n  output B\n}\n",
    options: {"input": [255, 255]},
    expected: [
      { message: "pyramid: level 0 is 255x255, which cannot be halved exactly (the input 255x255 is not divisible by 4 = 2^(scales-1); netc deblur pads images to a multiple of 4)", line: 3, column: 7 },
    ],
  },
  {
    name: "dense without flatten",
    source: "model G(blur: rgb) {\n  output blur -> dense(10)\n}\n",
    expected: [
      { message: "dense: expects a flat vector, got 256x256x3; put 'flatten' before it", line: 2, column: 18 },
    ],
  },
  {
    name: "pixel shuffle channels",
    source: "model G(blur: rgb) {\n  output blur -> conv(5, 3) -> pixel_shuffle(2)\n}\n",
    expected: [
      { message: "pixel_shuffle: factor 2 needs channels divisible by 4, got 5", line: 2, column: 32 },
    ],
  },
  {
    name: "conv too large",
    source: "model G(blur: rgb) {\n  output blur -> conv(3, 9, pad = 0)\n}\n",
    options: {"input": [8, 8]},
    expected: [
      { message: "conv: kernel 9 (pad 0) does not fit a 8x8 input", line: 2, column: 18 },
    ],
  },
  {
    name: "ctf odd",
    source: "block S {\n  conv(3, 3)\n}\nmodel G(blur: rgb) {\n  B = pyramid(blur, levels = 2)\n  out = coarse_to_fine(B) {\n    coarsest(b) = b -> S\n    finer(b, coarser) = concat(b, coarser -> conv(12, 3)) -> S\n  }\n  output out\n}\n",
    expected: [
      { message: "concat needs equal spatial sizes, got 256x256 and 128x128", line: 8, column: 25 },
    ],
  },
  {
    name: "ctf missing finer",
    source: "model G(blur: rgb) {\n  B = pyramid(blur, levels = 2)\n  out = coarse_to_fine(B) {\n    coarsest(b) = b -> relu\n  }\n  output out\n}\n",
    expected: [
      { message: "coarse_to_fine needs a 'finer(b, coarser) = ...' case", line: 3, column: 9 },
    ],
  },
  {
    name: "ctf wrong arity",
    source: "model G(blur: rgb) {\n  B = pyramid(blur, levels = 2)\n  out = coarse_to_fine(B) {\n    coarsest(b, c) = b -> relu\n    finer(b, c) = b -> relu\n  }\n  output out\n}\n",
    expected: [
      { message: "'coarsest' takes 1 parameter, got 2", line: 4, column: 5 },
    ],
  },
  {
    name: "ctf unknown case",
    source: "model G(blur: rgb) {\n  B = pyramid(blur, levels = 1)\n  out = coarse_to_fine(B) {\n    coarsest(b) = b -> relu\n    finest(b) = b -> relu\n  }\n  output out\n}\n",
    expected: [
      { message: "unknown coarse_to_fine case 'finest': use coarsest(b) and finer(b, coarser)", line: 5, column: 5 },
    ],
  },
];

describe("shapes", () => {
  it.each(cases)('$name', ({ source, options, expected }) => expectDiagnostics(source, expected, options));
});
