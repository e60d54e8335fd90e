// The validation rules that took over elaboration's checks needing no evaluation, each run
// alone on a parsed file: its table of bad inputs with every message it must give (line and
// column), and valid inputs it must pass in silence. Then the whole compiler on the bad
// inputs: each mistake is reported once (elaboration no longer repeats it).
import { describe, expect, it } from 'vitest';
import { compileSource } from '../../src/compiler/index.js';
import { DiagnosticBag } from '../../src/compiler/diagnostics.js';
import { parseDocument } from '../../src/compiler/parse.js';
import type { ValidationRule } from '../../src/compiler/validation/context.js';
import { CoarseToFineCases } from '../../src/compiler/validation/CoarseToFineCases.js';
import { KnownReductions } from '../../src/compiler/validation/KnownReductions.js';
import { NoCyclicConstants } from '../../src/compiler/validation/NoCyclicConstants.js';
import { resolve } from '../../src/compiler/validation/resolve.js';
import { SectionStructure } from '../../src/compiler/validation/SectionStructure.js';
import { diagnosticsOf, inModel, type Expected } from '../helpers/diagnostics.js';

/** What `rule` alone reports on `source` (which must parse). */
function ruleDiagnostics(rule: ValidationRule, source: string): Expected[] {
  const report = new DiagnosticBag();
  const doc = parseDocument(source, 'test.net', report);
  expect(report.items, 'the source parses').toEqual([]);
  rule({ doc: doc!, names: resolve(doc!), report });
  return report.sorted().map((d) => ({ message: d.message, line: d.loc.line, column: d.loc.column, severity: d.severity }));
}

const TRAIN_CONSTANTS = 'patch = 8\nbatch = 1\niterations = 2\n';
const PYRAMID = ['B = pyramid(blur, levels = 2)'];

interface RuleTable { rule: ValidationRule; bad: { source: string; expected: Expected[] }[]; valid: string[] }

const error = (message: string, line: number, column: number): Expected => ({ message, line, column, severity: 'error' });

const tables: Record<string, RuleTable> = {
  NoCyclicConstants: {
    rule: NoCyclicConstants,
    bad: [
      { source: 'a = a + 1\n', expected: [error("constant 'a' is defined in terms of itself", 1, 1)] },
      { source: 'a = b + 1\nb = a + 1\n', expected: [error("constant 'a' is defined in terms of itself", 1, 1)] },
      { source: 'x = 1\nb = c\nc = d * 2\nd = b\n', expected: [error("constant 'b' is defined in terms of itself", 2, 1)] },
      { source: 'a = b\nb = a\nc = d\nd = [c, 1]\n', expected: [error("constant 'a' is defined in terms of itself", 1, 1), error("constant 'c' is defined in terms of itself", 3, 1)] },
    ],
    valid: ['a = 1\n', 'a = b + 1\nb = 2\n', 'a = b * c\nc = b\nb = 3\n', 'feats = 64\nwide = [feats, feats * 2]\n'],
  },
  CoarseToFineCases: {
    rule: CoarseToFineCases,
    bad: [
      { source: inModel(...PYRAMID, 'out = coarse_to_fine(B) {', '  finest(b) = b', '}', 'output out'), expected: [
        error("coarse_to_fine needs a 'coarsest(b) = ...' case", 3, 9),
        error("unknown coarse_to_fine case 'finest': use coarsest(b) and finer(b, coarser)", 4, 5),
      ] },
      { source: inModel(...PYRAMID, 'out = coarse_to_fine(B) {', '  coarsest(b, c) = b', '  finer(b) = b', '}', 'output out'), expected: [
        error("'coarsest' takes 1 parameter, got 2", 4, 5),
        error("'finer' takes 2 parameters, got 1", 5, 5),
      ] },
      { source: inModel(...PYRAMID, 'out = coarse_to_fine(B) {', '  finer(b, c) = b', '}', 'output out'), expected: [
        error("coarse_to_fine needs a 'coarsest(b) = ...' case", 3, 9),
      ] },
      // Checked in blocks that are never used too, and whatever the levels turn out to be.
      { source: 'block A {\n  coarse_to_fine(input) {\n    constructor(b) = b\n    coarsest(b) = b\n  }\n}\n', expected: [
        error("unknown coarse_to_fine case 'constructor': use coarsest(b) and finer(b, coarser)", 3, 5),
      ] },
    ],
    valid: [
      inModel(...PYRAMID, 'out = coarse_to_fine(B) {', '  coarsest(b) = b -> relu', '  finer(b, coarser) = concat(b, coarser)', '}', 'output out'),
      // 'finer' is needed only where the pyramid has two levels or more: elaboration's call.
      inModel('B = pyramid(blur, levels = 1)', 'out = coarse_to_fine(B) {', '  coarsest(b) = b', '}', 'output out'),
    ],
  },
  KnownReductions: {
    rule: KnownReductions,
    bad: [
      { source: 'loss {\n  total = avg(k in 0..1) l1(L, sharp)\n}\n', expected: [error("unknown reduction 'avg': use mean(k in a..b) or sum(k in a..b)", 2, 11)] },
      { source: 'loss {\n  total = mean(k in 0..2) max(j in 0..1) l1(L, sharp)\n}\n', expected: [error("unknown reduction 'max': use mean(k in a..b) or sum(k in a..b)", 2, 27)] },
      { source: 'x = prod(k in 0..2) k\n', expected: [error("unknown reduction 'prod': use mean(k in a..b) or sum(k in a..b)", 1, 5)] },
    ],
    valid: ['loss {\n  total = mean(k in 0..2) l1(L[k], S[k])\n}\n', 'loss {\n  total = sum(k in 0..2) 2 * mse(L[k], S[k])\n}\n'],
  },
  SectionStructure: {
    rule: SectionStructure,
    bad: [
      { source: 'feats = 3\n', expected: [error('the file defines no model', 1, 1)] },
      { source: 'block A {\n  relu\n}\nloss {\n  total = l1(L, sharp)\n}\n', expected: [error('the file defines no model', 1, 1)] },
      { source: `${inModel('output blur')}loss {\n  l1(L, sharp)\n  total = l1(L, sharp)\n}\n`, expected: [error("each line of the loss section names a term: 'name = ...'", 5, 3)] },
      { source: `${inModel('output blur')}${TRAIN_CONSTANTS}train {\n  optimizer: adam(1e-4), adam(1e-3)\n  augment: flip, rot90\n  checkpoint_every: 10, 20\n}\n`, expected: [
        error("train setting 'optimizer' takes one value", 8, 3),
        error("train setting 'checkpoint_every' takes one value", 10, 3),
      ] },
      { source: `${inModel('output blur')}${TRAIN_CONSTANTS}train {\n  constructor: 1\n}\n`, expected: [error("unknown train setting 'constructor'", 8, 3)] },
    ],
    valid: [
      inModel('output blur'),
      `${inModel('output L = blur -> relu')}loss {\n  S = pyramid(sharp, levels = 1)\n  total = l1(L, S[0])\n}\n${TRAIN_CONSTANTS}train {\n  optimizer: adam(1e-4)\n  augment: flip, rot90, permute_channels\n  schedule: constant\n  validate_every: 5\n}\n`,
    ],
  },
};

describe.each(Object.entries(tables))('%s', (_name, { rule, bad, valid }) => {
  it.each(bad.map((b, i) => [i, b] as const))('bad input %i: every problem, located', (_i, { source, expected }) => {
    expect(ruleDiagnostics(rule, source)).toEqual(expected);
  });
  it.each(valid.map((v, i) => [i, v] as const))('valid input %i: nothing to say', (_i, source) => {
    expect(ruleDiagnostics(rule, source)).toEqual([]);
  });
  it('the compiler reports each of these mistakes once', () => {
    for (const { source, expected } of bad) {
      const all = diagnosticsOf(source).filter((d) => d.severity === 'error');
      for (const e of expected) expect(all.filter((d) => d.message === e.message && d.line === e.line && d.column === e.column), e.message).toHaveLength(1);
    }
  });
});

describe('validation and elaboration together', () => {
  it('a valid file through the whole compiler gives no errors', () => {
    const source = `${inModel(...PYRAMID, 'out = coarse_to_fine(B) {', '  coarsest(b) = b -> conv(3, 3)', '  finer(b, coarser) = concat(b, coarser -> conv(12, 3) -> pixel_shuffle(2)) -> conv(3, 3)', '}', 'output L = out')}`;
    expect(() => compileSource(source, 'test.net', { input: [32, 32] })).not.toThrow();
  });
});
