// Repetition: counts and shape-preserving bodies.
// Each row: a source, and every diagnostic it must produce (message, line, column).
import { describe, it } from 'vitest';
import { expectDiagnostics, type Expected } from '../helpers/diagnostics.js';

const cases: { name: string; source: string; options?: { input?: [number, number] }; expected: Expected[] }[] = [
  {
    name: "repeat zero",
    source: "block A {\n  relu\n}\nmodel G(blur: rgb) {\n  output blur -> A x 0\n}\n",
    expected: [
      { message: "a repeat count must be at least 1, got 0", line: 5, column: 22 },
    ],
  },
  {
    name: "repeat negative via const",
    source: "n = -2\nblock A {\n  relu\n}\nmodel G(blur: rgb) {\n  output blur -> A x n\n}\n",
    expected: [
      { message: "a repeat count must be at least 1, got -2", line: 6, column: 22 },
    ],
  },
  {
    name: "repeat fractional",
    source: "block A {\n  relu\n}\nmodel G(blur: rgb) {\n  output blur -> A x 1.5\n}\n",
    expected: [
      { message: "a repeat count must be an integer, not the number 1.5", line: 5, column: 22 },
    ],
  },
  {
    name: "repeat changes shape",
    source: "model G(blur: rgb) {\n  output blur -> conv(8, 3) x 2\n}\n",
    expected: [
      { message: "'conv' cannot be repeated: it maps 256x256x3 to 256x256x8, and a repeated stage must keep its shape", line: 2, column: 18 },
    ],
  },
  {
    name: "repeat a number",
    source: "model G(blur: rgb) {\n  output blur -> 3 x 2\n}\n",
    expected: [
      { message: "only a layer or a block can be repeated, not the number 3", line: 2, column: 18 },
    ],
  },
];

describe("repeat", () => {
  it.each(cases)('$name', ({ source, options, expected }) => expectDiagnostics(source, expected, options));
});
