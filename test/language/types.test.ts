// Elaboration: argument types and values.
// Each row: a source, and every diagnostic it must produce (message, line, column).
import { describe, it } from 'vitest';
import { expectDiagnostics, type Expected } from '../helpers/diagnostics.js';

const cases: { name: string; source: string; options?: { input?: [number, number] }; expected: Expected[] }[] = [
  {
    name: "non-integer filters",
    source: "model G(blur: rgb) {\n  output blur -> conv(2.5, 3)\n}\n",
    expected: [
      { message: "conv: 'filters' must be an integer, not the number 2.5", line: 2, column: 23 },
    ],
  },
  {
    name: "bool for int",
    source: "model G(blur: rgb) {\n  output blur -> conv(true, 3)\n}\n",
    expected: [
      { message: "conv: 'filters' must be an integer, not true", line: 2, column: 23 },
    ],
  },
  {
    name: "string for number",
    source: "model G(blur: rgb) {\n  output blur -> leaky_relu(\"x\")\n}\n",
    expected: [
      { message: "leaky_relu: 'slope' must be a number, not the string \"x\"", line: 2, column: 29 },
    ],
  },
  {
    name: "zero filters",
    source: "model G(blur: rgb) {\n  output blur -> conv(0, 3)\n}\n",
    expected: [
      { message: "conv: 'filters' must be at least 1, got 0", line: 2, column: 18 },
    ],
  },
  {
    name: "negative stride",
    source: "model G(blur: rgb) {\n  output blur -> conv(3, 3, stride = -1)\n}\n",
    expected: [
      { message: "conv: 'stride' must be at least 1, got -1", line: 2, column: 18 },
    ],
  },
  {
    name: "number after arrow",
    source: "model G(blur: rgb) {\n  output blur -> 3\n}\n",
    expected: [
      { message: "the number 3 cannot follow '->': expected a layer or a block", line: 2, column: 18 },
    ],
  },
  {
    name: "tensor times tensor",
    source: "model G(blur: rgb) {\n  output blur * blur\n}\n",
    expected: [
      { message: "'*' between two tensors is not supported (only '+', a residual sum)", line: 2, column: 10 },
    ],
  },
  {
    name: "index non-list",
    source: "model G(blur: rgb) {\n  output blur[0]\n}\n",
    expected: [
      { message: "cannot index a tensor 256x256x3", line: 2, column: 10 },
    ],
  },
  {
    name: "index out of range",
    source: "model G(blur: rgb) {\n  B = pyramid(blur, levels = 2)\n  output B[2]\n}\n",
    expected: [
      { message: "index 2 is out of range: the list has 2 items (0..1)", line: 3, column: 12 },
    ],
  },
  {
    name: "division by zero",
    source: "k = 3 / 0\nmodel G(blur: rgb) {\n  output blur -> conv(3, k)\n}\n",
    expected: [
      { message: "division by zero", line: 1, column: 5 },
    ],
  },
];

describe("types", () => {
  it.each(cases)('$name', ({ source, options, expected }) => expectDiagnostics(source, expected, options));
});
