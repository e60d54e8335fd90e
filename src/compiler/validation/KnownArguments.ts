// Calls pass arguments the callee has: built-ins by their signature, blocks by their
// parameters; no argument twice, none missing, none too many.
import { expressionsOf, type Argument, type Expr } from '../ast.js';
import { BUILTINS, checkArguments, missingArguments, type BuiltinParam } from '../builtins.js';
import type { ValidationRule } from './context.js';

export const KnownArguments: ValidationRule = ({ doc, report }) => {
  const blocks = new Map(doc.declarations.flatMap((d) => (d.kind === 'block' ? [[d.name.name, d] as const] : [])));
  const signature = (name: string): BuiltinParam[] | undefined => {
    const block = blocks.get(name);
    if (block) return block.params.map((p) => ({ name: p.name.name, type: 'any', default: p.default ? true : undefined }));
    return BUILTINS[name]?.params;
  };
  const call = (callee: string, args: Argument[], loc: Expr['loc']) => {
    const params = signature(callee);
    if (!params) return; // unknown callee: NoUndefinedNames reports it
    const what = blocks.has(callee) ? `block '${callee}'` : `'${callee}'`;
    for (const p of checkArguments(params, args, what)) report.error(p.message, p.arg?.loc ?? loc);
    const missing = missingArguments(params, args);
    if (missing.length) report.error(`${what} is missing argument${missing.length > 1 ? 's' : ''} ${missing.map((m) => `'${m}'`).join(', ')}`, loc);
  };
  for (const d of doc.declarations) {
    for (const e of expressionsOf(d)) if (e.kind === 'call') call(e.callee, e.args, e.loc);
  }
};
