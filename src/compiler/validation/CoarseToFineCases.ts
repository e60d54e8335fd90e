// coarse_to_fine has a 'coarsest(b)' case and may have a 'finer(b, coarser)' case, no other,
// each with its number of parameters. (Whether 'finer' is needed depends on the pyramid's
// levels, which elaboration knows.)
import { expressionsOf, type Expr } from '../ast.js';
import type { SourceSpan } from '../ir.js';
import type { ValidationRule } from './context.js';

const ARITY = new Map([['coarsest', 1], ['finer', 2]]);

/** What is wrong with the cases of one coarse_to_fine (elaboration skips such a one). */
export function coarseToFineProblems(e: Extract<Expr, { kind: 'coarseToFine' }>): { message: string; loc: SourceSpan }[] {
  const problems: { message: string; loc: SourceSpan }[] = [];
  for (const c of e.cases) {
    const arity = ARITY.get(c.which.name);
    if (!arity) problems.push({ message: `unknown coarse_to_fine case '${c.which.name}': use coarsest(b) and finer(b, coarser)`, loc: c.which.loc });
    else if (c.params.length !== arity) problems.push({ message: `'${c.which.name}' takes ${arity} parameter${arity > 1 ? 's' : ''}, got ${c.params.length}`, loc: c.which.loc });
  }
  if (!e.cases.some((c) => c.which.name === 'coarsest')) problems.push({ message: `coarse_to_fine needs a 'coarsest(b) = ...' case`, loc: e.loc });
  return problems;
}

export const CoarseToFineCases: ValidationRule = ({ doc, report }) => {
  for (const d of doc.declarations) {
    for (const e of expressionsOf(d)) {
      if (e.kind === 'coarseToFine') for (const p of coarseToFineProblems(e)) report.error(p.message, p.loc);
    }
  }
};
