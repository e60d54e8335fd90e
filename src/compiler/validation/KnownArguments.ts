// Calls pass arguments the callee has: built-ins by their signature, blocks by their
// parameters; no argument twice, none missing, none too many.
import type { Argument, Expr, Statement } from '../ast.js';
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
  const expr = (e: Expr): void => {
    switch (e.kind) {
      case 'call': call(e.callee, e.args, e.loc); e.args.forEach((a) => expr(a.value)); return;
      case 'index': expr(e.target); expr(e.index); return;
      case 'repeat': expr(e.target); expr(e.count); return;
      case 'binary': expr(e.left); expr(e.right); return;
      case 'negate': expr(e.operand); return;
      case 'chain': e.stages.forEach(expr); return;
      case 'tuple': case 'list': e.items.forEach(expr); return;
      case 'range': expr(e.from); expr(e.to); return;
      case 'reduce': expr(e.over); expr(e.body); return;
      case 'for': expr(e.over); statements(e.body); return;
      case 'coarseToFine': expr(e.levels); e.cases.forEach((c) => expr(c.body)); return;
      default: return;
    }
  };
  const statements = (body: Statement[]) => body.forEach((s) => expr(s.value));
  for (const d of doc.declarations) {
    if (d.kind === 'const') expr(d.value);
    if (d.kind === 'block') { d.params.forEach((p) => p.default && expr(p.default)); statements(d.body); }
    if (d.kind === 'model' || d.kind === 'loss') statements(d.body);
    if (d.kind === 'train') d.settings.forEach((s) => s.values.forEach(expr));
  }
};
