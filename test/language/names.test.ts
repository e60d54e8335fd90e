// NoUndefinedNames and NoDuplicateNames: every name resolves, once per scope.
// Each row: a source, and every diagnostic it must produce (message, line, column).
import { describe, it } from 'vitest';
import { expectDiagnostics, type Expected } from '../helpers/diagnostics.js';

const cases: { name: string; source: string; options?: { input?: [number, number] }; expected: Expected[] }[] = [
  {
    name: "unknown name",
    source: "model G(blur: rgb) {\n  output blur -> conv(3, kernal)\n}\n",
    expected: [
      { message: "unknown name 'kernal'", line: 2, column: 26 },
    ],
  },
  {
    name: "unknown layer",
    source: "model G(blur: rgb) {\n  output blur -> cnov(3, 5)\n}\n",
    expected: [
      { message: "unknown layer, block or function 'cnov' (did you mean 'conv'?)", line: 2, column: 18 },
    ],
  },
  {
    name: "unknown block name bare",
    source: "model G(blur: rgb) {\n  output blur -> ResBlok\n}\n",
    expected: [
      { message: "unknown name 'ResBlok'", line: 2, column: 18 },
    ],
  },
  {
    name: "use before assign",
    source: "model G(blur: rgb) {\n  y = x -> relu\n  x = blur -> relu\n  output y\n}\n",
    expected: [
      { message: "unknown name 'x'", line: 2, column: 7 },
      { message: "'x' is assigned but never used", line: 3, column: 3, severity: "warning" },
    ],
  },
  {
    name: "duplicate constant",
    source: "feats = 1\nfeats = 2\nmodel G(blur: rgb) {\n  output blur -> conv(feats, 3)\n}\n",
    expected: [
      { message: "'feats' is already defined (first defined at line 1)", line: 2, column: 1 },
      { message: "constant 'feats' is never used", line: 2, column: 1, severity: "warning" },
    ],
  },
  {
    name: "duplicate block",
    source: "block A {\n  relu\n}\nblock A {\n  relu\n}\nmodel G(blur: rgb) {\n  output blur -> A\n}\n",
    expected: [
      { message: "'A' is already defined (first defined at line 1)", line: 4, column: 7 },
      { message: "block 'A' is never used", line: 4, column: 7, severity: "warning" },
    ],
  },
  {
    name: "duplicate assignment",
    source: "model G(blur: rgb) {\n  y = blur -> relu\n  y = blur -> sigmoid\n  output y\n}\n",
    expected: [
      { message: "'y' is already defined (first defined at line 2)", line: 3, column: 3 },
      { message: "'y' is assigned but never used", line: 3, column: 3, severity: "warning" },
    ],
  },
  {
    name: "input outside block",
    source: "model G(blur: rgb) {\n  output input -> relu\n}\n",
    expected: [
      { message: "unknown name 'input'", line: 2, column: 10 },
    ],
  },
];

describe("names", () => {
  it.each(cases)('$name', ({ source, options, expected }) => expectDiagnostics(source, expected, options));
});
