// Lowering the loss section to LossIR: the sharp target pyramid, named terms (mse, l1, gan,
// reductions over levels, arithmetic with weights folded), the objective, and which
// discriminator (if any) the objective needs.
import type { Declaration, Expr } from '../ast.js';
import { BUILTINS, REDUCTIONS } from '../builtins.js';
import { POISON, Scope, shapeText } from '../graph-builder.js';
import type { LossExpr, LossIR, SourceSpan } from '../ir.js';
import { pyramidLevelSide } from '../ops.js';
import { bind } from './calls.js';
import { evaluate } from './expressions.js';
import { describe, type CallExpr, type Elaboration, type Env, type EvalContext, type Value } from './values.js';

export function lowerLoss(el: Elaboration, decl: Extract<Declaration, { kind: 'loss' }>): LossIR | undefined {
  const env: Env = new Map(el.globals);
  env.set('sharp', { kind: 'target', level: 0 });
  // The generator's outputs by name: a list output L[0..K-1] binds L to a list.
  const groups = new Map<string, Value[]>();
  el.generatorOutputs.forEach((o, i) => {
    const m = /^(.*)\[(\d+)\]$/.exec(o.name);
    const base = m ? m[1] : o.name;
    if (!groups.has(base)) groups.set(base, []);
    groups.get(base)!.push({ kind: 'output', index: i });
  });
  for (const [name, items] of groups) env.set(name, items.length === 1 && !el.generatorOutputs.some((o) => o.name.startsWith(`${name}[`)) ? items[0] : { kind: 'list', items });
  let target: LossIR['target'] | undefined;
  const terms: LossIR['terms'] = [];
  const ctx: EvalContext = { env, scope: new Scope([], []) };
  for (const s of decl.body) {
    if (s.kind !== 'assign') continue; // reported by validation (LossSectionTerms)
    if (s.value.kind === 'call' && s.value.callee === 'pyramid') {
      const v = evaluate(el, s.value, ctx);
      if (v.kind === 'list') {
        const args = bind(el, BUILTINS.pyramid.params, s.value.args, ctx, 'pyramid');
        target = { levels: v.items.length, down: { sigma: args?.sigma as number, radius: args?.radius as number } };
      }
      env.set(s.target.name, v);
      continue;
    }
    const v = evaluate(el, s.value, ctx);
    if (v.kind === 'poison') continue;
    if (v.kind !== 'loss') {
      el.report.error(`a loss term must be a loss (mse, l1, gan and arithmetic on them), not ${describe(v)}`, s.value.loc);
      continue;
    }
    terms.push({ name: s.target.name, expr: v.expr, loc: s.loc });
    env.set(s.target.name, { kind: 'loss', expr: { kind: 'term', name: s.target.name } });
  }
  if (!terms.length) return undefined;
  const objective = terms.find((t) => t.name === 'total')?.name ?? terms[terms.length - 1].name;
  // Terms the objective does not use are still logged, except adversarial ones: they
  // would need a discriminator that nothing trains (e.g. with --set gan_weight=0).
  const byName = new Map(terms.map((t) => [t.name, t.expr]));
  const used = new Set<string>();
  const visit = (e: LossExpr): boolean => {
    switch (e.kind) {
      case 'term': if (!used.has(e.name)) { used.add(e.name); return visit(byName.get(e.name)!); } return false;
      case 'binary': return visit(e.left) || visit(e.right);
      case 'reduce': return e.terms.some(visit);
      case 'adversarial': return true;
      default: return false;
    }
  };
  used.add(objective);
  const adversarial = visit(byName.get(objective)!);
  if (!adversarial) el.discriminator = undefined;
  const hasAdversarial = (e: LossExpr): boolean =>
    e.kind === 'adversarial' || (e.kind === 'binary' && (hasAdversarial(e.left) || hasAdversarial(e.right))) || (e.kind === 'reduce' && e.terms.some(hasAdversarial));
  const kept = terms.filter((t) => used.has(t.name) || !hasAdversarial(t.expr));
  return { target: target ?? { levels: 1, down: { sigma: 2 / 3, radius: 3 } }, terms: kept, objective };
}

export function lossArithmetic(el: Elaboration, op: '+' | '-' | '*' | '/', left: Value, right: Value, loc: SourceSpan): Value {
  const asLoss = (v: Value): LossExpr | undefined => (v.kind === 'loss' ? v.expr : v.kind === 'number' ? { kind: 'const', value: v.value } : undefined);
  const l = asLoss(left);
  const r = asLoss(right);
  if (!l || !r) {
    el.report.error(`cannot apply '${op}' to ${describe(left)} and ${describe(right)}`, loc);
    return POISON;
  }
  return { kind: 'loss', expr: foldLoss(op, l, r) };
}

/** mse / l1 between a generator output and the sharp level of its size. */
export function distance(el: Elaboration, fn: 'mse' | 'l1', args: Record<string, unknown>, e: CallExpr): Value {
  const output = args.output as Value;
  const target = args.target as Value;
  if (output.kind !== 'output') {
    el.report.error(`${fn}: the first argument must be a generator output (e.g. L[k]), not ${describe(output)}`, e.args[0].loc);
    return POISON;
  }
  if (target.kind !== 'target') {
    el.report.error(`${fn}: the second argument must be a level of the sharp pyramid (e.g. S[k]), not ${describe(target)}`, e.args[1].loc);
    return POISON;
  }
  const outShape = el.generatorOutputs[output.index].shape;
  const [h, w] = el.options.input;
  if (outShape[1] !== pyramidLevelSide(h, target.level)) {
    el.report.error(`${fn}: output ${el.generatorOutputs[output.index].name} is ${outShape[1]}x${outShape[2]} but sharp level ${target.level} is ${pyramidLevelSide(h, target.level)}x${pyramidLevelSide(w, target.level)}`, e.loc);
    return POISON;
  }
  return { kind: 'loss', expr: { kind: 'distance', fn, output: output.index, target: { level: target.level } } };
}

export function gan(el: Elaboration, args: Record<string, unknown>, e: CallExpr): Value {
  const d = args.discriminator as Value;
  const real = args.real as Value;
  const fake = args.fake as Value;
  if (d.kind !== 'model') {
    el.report.error(`gan: the first argument must be a model (the discriminator), not ${describe(d)}`, e.args[0].loc);
    return POISON;
  }
  if (real.kind !== 'target') {
    el.report.error(`gan: 'real' must be the sharp image, not ${describe(real)}`, e.args[1].loc);
    return POISON;
  }
  if (fake.kind !== 'output') {
    el.report.error(`gan: 'fake' must be a generator output, not ${describe(fake)}`, e.args[2].loc);
    return POISON;
  }
  const graph = el.models.get(d.decl.name.name);
  if (graph && (graph.outputs.length !== 1 || graph.outputs[0].shape.join() !== '1,1')) {
    el.report.error(`gan: the discriminator must output one value per image, but '${d.decl.name.name}' outputs ${graph.outputs.map((o) => shapeText(o.shape)).join(', ')}`, e.args[0].loc);
    return POISON;
  }
  el.discriminator = d.decl.name.name;
  return { kind: 'loss', expr: { kind: 'adversarial', discriminator: d.decl.name.name, fakeOutput: fake.index, real: { level: real.level } } };
}

/** mean(k in a..b) body, sum(k in a..b) body: one loss term per item. */
export function reduce(el: Elaboration, e: Extract<Expr, { kind: 'reduce' }>, ctx: EvalContext): Value {
  const fn = REDUCTIONS.find((r) => r === e.fn);
  if (!fn) return POISON; // reported by validation (KnownReductions)
  const over = evaluate(el, e.over, ctx);
  if (over.kind !== 'list') return POISON;
  const terms: LossExpr[] = [];
  for (const item of over.items) {
    const env: Env = new Map(ctx.env);
    env.set(e.variable.name, item);
    const v = evaluate(el, e.body, { env, scope: ctx.scope });
    if (v.kind === 'poison') return POISON;
    if (v.kind === 'number') { terms.push({ kind: 'const', value: v.value }); continue; }
    if (v.kind !== 'loss') {
      el.report.error(`${fn}: the body must be a loss, not ${describe(v)}`, e.body.loc);
      return POISON;
    }
    terms.push(v.expr);
  }
  return { kind: 'loss', expr: { kind: 'reduce', fn, terms } };
}

/** Constant folding, so that `content + 0 * adversarial` (e.g. `--set gan_weight=0`)
 *  leaves the adversarial term out of the objective and the trainer skips the
 *  discriminator entirely. */
function foldLoss(op: '+' | '-' | '*' | '/', l: LossExpr, r: LossExpr): LossExpr {
  const value = (e: LossExpr) => (e.kind === 'const' ? e.value : undefined);
  const a = value(l), b = value(r);
  if (a !== undefined && b !== undefined) return { kind: 'const', value: op === '+' ? a + b : op === '-' ? a - b : op === '*' ? a * b : a / b };
  if (op === '*' && (a === 0 || b === 0)) return { kind: 'const', value: 0 };
  if (op === '/' && a === 0) return { kind: 'const', value: 0 };
  if ((op === '+' || op === '-') && b === 0) return l;
  if (op === '+' && a === 0) return r;
  if ((op === '*' && b === 1) || (op === '/' && b === 1)) return l;
  if (op === '*' && a === 1) return r;
  return { kind: 'binary', op, left: l, right: r };
}
