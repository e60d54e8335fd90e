// Syntax errors: the lexer and parser report where and what, one per line, with recovery.
// Each row: a source, and every diagnostic it must produce (message, line, column).
import { describe, it } from 'vitest';
import { expectDiagnostics, type Expected } from '../helpers/diagnostics.js';

const cases: { name: string; source: string; options?: { input?: [number, number] }; expected: Expected[] }[] = [
  {
    name: "missing paren",
    source: "model G(blur: rgb) {\n  output blur -> conv(3, 5\n}\n",
    expected: [
      { message: "expected ')' but found '}'", line: 3, column: 1 },
    ],
  },
  {
    name: "missing comma",
    source: "model G(blur: rgb) {\n  output blur -> conv(3 5)\n}\n",
    expected: [
      { message: "expected ')' but found '5'", line: 2, column: 25 },
    ],
  },
  {
    name: "bad char",
    source: "model G(blur: rgb) {\n  output blur -> conv(3, 5) @ 2\n}\n",
    expected: [
      { message: "unexpected character '@'", line: 2, column: 29 },
    ],
  },
  {
    name: "unclosed block",
    source: "block A {\n  relu\n",
    expected: [
      { message: "expected '}' but found the end of the file", line: 2, column: 3 },
    ],
  },
  {
    name: "stray token top",
    source: "feats = 64\n)\n",
    expected: [
      { message: "unexpected ')': expected a declaration (a constant, block, model, loss or train section)", line: 2, column: 1 },
    ],
  },
  {
    name: "keyword as name",
    source: "model = 3\n",
    expected: [
      { message: "expected a name but found '='", line: 1, column: 7 },
    ],
  },
  {
    name: "missing model input type",
    source: "model G(blur) {\n  output blur\n}\n",
    expected: [
      { message: "expected ':' but found ')'", line: 1, column: 13 },
    ],
  },
  {
    name: "empty model input list",
    source: "model G() {\n  output 1\n}\n",
    expected: [
      { message: "unexpected ')' in a model's inputs (e.g. model G(blur: rgb))", line: 1, column: 9 },
    ],
  },
  {
    name: "unterminated string",
    source: "train {\n  data: gopro(\"data/x)\n}\n",
    expected: [
      { message: "unterminated string (a string ends on the same line)", line: 2, column: 15 },
    ],
  },
  {
    name: "arrow at end",
    source: "model G(blur: rgb) {\n  output blur -> \n}\n",
    expected: [
      { message: "unexpected '}' in an expression", line: 3, column: 1 },
    ],
  },
];

describe("syntax", () => {
  it.each(cases)('$name', ({ source, options, expected }) => expectDiagnostics(source, expected, options));
});
