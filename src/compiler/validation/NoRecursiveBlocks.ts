// A block may not use itself, directly or through other blocks: it would never end.
import { expressionsOf, type Declaration } from '../ast.js';
import type { SourceSpan } from '../ir.js';
import type { ValidationRule } from './context.js';

export const NoRecursiveBlocks: ValidationRule = ({ doc, report }) => {
  const blocks = new Map(doc.declarations.flatMap((d) => (d.kind === 'block' ? [[d.name.name, d] as const] : [])));
  const uses = new Map<string, { name: string; loc: SourceSpan }[]>();
  for (const [name, block] of blocks) uses.set(name, blockUses(block).filter((u) => blocks.has(u.name)));
  const reported = new Set<string>();
  for (const start of blocks.keys()) {
    // Depth-first search for a path start -> ... -> start.
    const path: string[] = [start];
    const visit = (name: string, seen: Set<string>): { loc: SourceSpan; cycle: string[] } | undefined => {
      for (const use of uses.get(name) ?? []) {
        if (use.name === start) return { loc: use.loc, cycle: [...path, start] };
        if (seen.has(use.name)) continue;
        seen.add(use.name);
        path.push(use.name);
        const found = visit(use.name, seen);
        if (found) return found;
        path.pop();
      }
      return undefined;
    };
    const found = visit(start, new Set([start]));
    if (found && !reported.has(start)) {
      reported.add(start);
      const chain = found.cycle.join(' -> ');
      report.error(found.cycle.length === 2 ? `block '${start}' uses itself` : `block '${start}' uses itself through ${chain}`, blocks.get(start)!.name.loc);
    }
  }
};

function blockUses(block: Extract<Declaration, { kind: 'block' }>): { name: string; loc: SourceSpan }[] {
  const out: { name: string; loc: SourceSpan }[] = [];
  for (const e of expressionsOf(block)) {
    if (e.kind === 'name') out.push({ name: e.name, loc: e.loc });
    if (e.kind === 'call') out.push({ name: e.callee, loc: e.calleeLoc });
  }
  return out;
}
