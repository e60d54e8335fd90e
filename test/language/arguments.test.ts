// KnownArguments: calls match the signature of the layer, function or block.
// Each row: a source, and every diagnostic it must produce (message, line, column).
import { describe, it } from 'vitest';
import { expectDiagnostics, type Expected } from '../helpers/diagnostics.js';

const cases: { name: string; source: string; options?: { input?: [number, number] }; expected: Expected[] }[] = [
  {
    name: "too many args",
    source: "model G(blur: rgb) {\n  output blur -> conv(3, 5, 1, 2, true, zeros, 9)\n}\n",
    expected: [
      { message: "'conv' takes at most 6 arguments, got 7", line: 2, column: 48 },
    ],
  },
  {
    name: "missing arg",
    source: "model G(blur: rgb) {\n  output blur -> conv(3)\n}\n",
    expected: [
      { message: "'conv' is missing argument 'kernel'", line: 2, column: 18 },
    ],
  },
  {
    name: "unknown named arg",
    source: "model G(blur: rgb) {\n  output blur -> conv(3, 5, strides = 2)\n}\n",
    expected: [
      { message: "'conv' has no argument 'strides' (did you mean 'stride'?)", line: 2, column: 29 },
    ],
  },
  {
    name: "arg twice",
    source: "model G(blur: rgb) {\n  output blur -> conv(3, 5, stride = 1, stride = 2)\n}\n",
    expected: [
      { message: "'conv': argument 'stride' is given twice", line: 2, column: 41 },
    ],
  },
  {
    name: "block unknown arg",
    source: "block A(c = 3) {\n  conv(c, 3)\n}\nmodel G(blur: rgb) {\n  output blur -> A(d = 2)\n}\n",
    expected: [
      { message: "block 'A' has no argument 'd'", line: 5, column: 20 },
    ],
  },
  {
    name: "block missing arg",
    source: "block A(c) {\n  conv(c, 3)\n}\nmodel G(blur: rgb) {\n  output blur -> A()\n}\n",
    expected: [
      { message: "block 'A' is missing argument 'c'", line: 5, column: 18 },
    ],
  },
];

describe("arguments", () => {
  it.each(cases)('$name', ({ source, options, expected }) => expectDiagnostics(source, expected, options));
});
