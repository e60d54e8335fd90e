// Calls pass arguments the callee has: built-ins by their signature, blocks by their
// parameters; no argument twice, none missing, none too many.
import { expressionsOf, type Argument, type Expr } from '../ast.js';
import { BUILTINS, blockSignature, matchArguments, type BuiltinParam } from '../builtins.js';
import type { ValidationRule } from './context.js';

export const KnownArguments: ValidationRule = ({ doc, report }) => {
  const blocks = new Map(doc.declarations.flatMap((d) => (d.kind === 'block' ? [[d.name.name, d] as const] : [])));
  const signature = (name: string): BuiltinParam[] | undefined => {
    const block = blocks.get(name);
    if (block) return blockSignature(block);
    return BUILTINS[name]?.params;
  };
  const call = (callee: string, args: Argument[], loc: Expr['loc']) => {
    const params = signature(callee);
    if (!params) return; // unknown callee: NoUndefinedNames reports it
    const what = blocks.has(callee) ? `block '${callee}'` : `'${callee}'`;
    const { problems, missing } = matchArguments(params, args, what);
    for (const p of problems) report.error(p.message, p.arg?.loc ?? loc);
    if (missing.length) report.error(`${what} is missing argument${missing.length > 1 ? 's' : ''} ${missing.map((m) => `'${m}'`).join(', ')}`, loc);
  };
  for (const d of doc.declarations) {
    for (const e of expressionsOf(d)) if (e.kind === 'call') call(e.callee, e.args, e.loc);
  }
};
