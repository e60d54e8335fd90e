// A reduction over levels is mean(k in a..b) or sum(k in a..b).
import { expressionsOf } from '../ast.js';
import { REDUCTIONS } from '../builtins.js';
import type { ValidationRule } from './context.js';

export const KnownReductions: ValidationRule = ({ doc, report }) => {
  for (const d of doc.declarations) {
    for (const e of expressionsOf(d)) {
      if (e.kind === 'reduce' && !(REDUCTIONS as readonly string[]).includes(e.fn)) {
        report.error(`unknown reduction '${e.fn}': use ${REDUCTIONS.map((r) => `${r}(k in a..b)`).join(' or ')}`, e.fnLoc);
      }
    }
  }
};
