// Stages: what a tensor can be sent through with `->`. Layers (their op and attributes come
// from builtins.ts), block instances, compositions, repeats (one repeat node with a body
// graph), `for` loops and coarse_to_fine.
import type { Argument, Expr, Statement } from '../ast.js';
import { LAYER_BUILTINS, blockSignature, isLayer, matchArguments } from '../builtins.js';
import { GraphBuilder, POISON, Scope, shapeText, type Poison, type Site, type Tensor } from '../graph-builder.js';
import type { SourceSpan } from '../ir.js';
import { LIMITS, formatCount } from '../limits.js';
import { coarseToFineProblems } from '../validation/CoarseToFineCases.js';
import { bind } from './calls.js';
import { evaluate, integer } from './expressions.js';
import { describe, suffix, type BlockDecl, type Elaboration, type Env, type EvalContext, type Stage, type Value } from './values.js';

/** Values that can follow `->`: layers, blocks, composed chains. */
export function asStage(el: Elaboration, v: Value): Stage | undefined {
  if (v.kind === 'stage') return v;
  if (v.kind === 'block') return blockStage(el, v.decl, []);
  if (v.kind === 'builtin' && isLayer(v.name)) {
    const stage = layerStage(el, v.name, [], undefined);
    return stage?.kind === 'stage' ? stage : undefined;
  }
  return undefined;
}

/** Stage-like values applied to the block's or loop's implicit `input` where a tensor is needed. */
export function asTensorish(el: Elaboration, v: Value, ctx: EvalContext, loc: SourceSpan): Value {
  const stage = asStage(el, v);
  if (!stage) return v;
  const input = ctx.env.get('input');
  if (input?.kind === 'tensor') return stage.apply(input, { loc, scope: ctx.scope });
  return v;
}

export function chain(el: Elaboration, e: Extract<Expr, { kind: 'chain' }>, ctx: EvalContext): Value {
  let current = evaluate(el, e.stages[0], ctx);
  for (const stageExpr of e.stages.slice(1)) {
    const next = evaluate(el, stageExpr, ctx);
    if (current.kind === 'poison' || next.kind === 'poison') return POISON;
    const stage = asStage(el, next);
    if (!stage) {
      el.report.error(`${describe(next)} cannot follow '->': expected a layer or a block`, stageExpr.loc);
      return POISON;
    }
    current = applyStage(el, current, stage, { loc: stageExpr.loc, scope: ctx.scope }, e.stages[0].loc);
    if (current.kind === 'poison') return POISON;
  }
  return current;
}

/** Sends a tensor (or each of a list of tensors) through a stage; composes two stages. */
function applyStage(el: Elaboration, value: Value, stage: Stage, site: Site, valueLoc: SourceSpan): Value {
  if (value.kind === 'tensor') return stage.apply(value, site);
  if (value.kind === 'list') return { kind: 'list', items: value.items.map((v) => applyStage(el, v, stage, site, valueLoc)) };
  const first = asStage(el, value);
  if (first) {
    return { kind: 'stage', label: `${first.label} -> ${stage.label}`, apply: (x, at) => {
      const mid = first.apply(x, at);
      return mid.kind === 'poison' ? mid : applyStage(el, mid, stage, { ...site, scope: at.scope }, valueLoc);
    } };
  }
  el.report.error(`${describe(value)} cannot be sent through '->': expected a tensor, a layer or a block`, valueLoc);
  return POISON;
}

export function repeat(el: Elaboration, e: Extract<Expr, { kind: 'repeat' }>, ctx: EvalContext): Value {
  const target = evaluate(el, e.target, ctx);
  const countValue = evaluate(el, e.count, ctx);
  if (target.kind === 'poison' || countValue.kind === 'poison') return POISON;
  const stage = asStage(el, target);
  if (!stage) {
    el.report.error(`only a layer or a block can be repeated, not ${describe(target)}`, e.target.loc);
    return POISON;
  }
  const count = integer(el, countValue, e.count.loc, 'a repeat count');
  if (count === undefined) return POISON;
  if (count < 1) {
    el.report.error(`a repeat count must be at least 1, got ${count}`, e.count.loc);
    return POISON;
  }
  if (count > LIMITS.repeat) {
    el.report.error(`a repeat count must be at most ${formatCount(LIMITS.repeat)}, got ${formatCount(count)}`, e.count.loc);
    return POISON;
  }
  const label = `${stage.label} x ${count}`;
  return {
    kind: 'stage', label, apply: (x, site) => {
      // The body is built once, on a graph of its own; iteration i owns params `prefix.i/...`.
      const body = new GraphBuilder(label, el.report);
      const bodyInput = body.input('input', x.shape, site.loc);
      if (bodyInput.kind === 'poison') return POISON;
      const segment = `${stage.label}${suffix(site.scope.next(stage.label))}`;
      const out = stage.apply(bodyInput, { loc: site.loc, scope: new Scope([], []) });
      if (out.kind === 'poison') return POISON;
      if (out.kind !== 'tensor') {
        el.report.error(`a repeated stage must produce a tensor`, e.loc);
        return POISON;
      }
      if (shapeText(out.shape) !== shapeText(x.shape)) {
        el.report.error(`'${stage.label}' cannot be repeated: it maps ${shapeText(x.shape)} to ${shapeText(out.shape)}, and a repeated stage must keep its shape`, e.loc);
        return POISON;
      }
      if (!x.graph.grow(count * body.expandedLayers, e.loc)) return POISON;
      const graph = body.finish([{ name: 'output', id: out.id, shape: out.shape }]);
      const id = `repeat_${x.graph.nodes.length}_${segment}`;
      x.graph.push({
        id, op: 'repeat', inputs: [x.id], attrs: { count }, params: [], shape: x.shape,
        scope: [x.graph.name, ...site.scope.human, label].join(' / '), loc: e.loc,
        repeat: { count, body: graph, paramPrefix: site.scope.paramPath(segment) },
      });
      return { kind: 'tensor', id, shape: x.shape, graph: x.graph };
    },
  };
}

/** A layer with its arguments bound (`ctx` given) or its defaults (a bare `relu`): the node
 *  builtins.ts says it adds, or poison after reporting what is wrong with the arguments. */
export function layerStage(el: Elaboration, name: string, args: Argument[], loc: SourceSpan | undefined, ctx?: EvalContext): Stage | Poison | undefined {
  const builtin = LAYER_BUILTINS[name as keyof typeof LAYER_BUILTINS];
  const a = bind(el, builtin.params, args, ctx ?? { env: el.globals, scope: new Scope([], []) }, name);
  if (!a) return ctx ? POISON : undefined;
  const node = builtin.node(a);
  if (typeof node === 'string') {
    el.report.error(`${name}: ${node}`, loc!);
    return POISON;
  }
  return {
    kind: 'stage', label: name,
    apply: (x: Tensor, site: Site) => x.graph.add(node.op, [x], node.attrs, { loc: loc ?? site.loc, scope: site.scope }, name, `${name}${site.scope.next(name)}`, el.report),
  };
}

/** A block instance: a stage that elaborates the block body on its input, in a scope of
 *  its own (`Block`, or `Block_1` for the second use in the same scope). */
export function blockStage(el: Elaboration, decl: BlockDecl, args: Argument[], ctx?: EvalContext): Stage {
  const name = decl.name.name;
  const bound = new Map<string, Value>();
  for (const { arg, param } of matchArguments(blockSignature(decl), args, name).pairs) {
    if (param && ctx) bound.set(param.name, evaluate(el, arg.value, ctx));
  }
  return {
    kind: 'stage', label: name, apply: (x, site) => {
      if (el.blockStack.includes(name)) return POISON; // reported by NoRecursiveBlocks
      const env: Env = new Map(el.globals);
      for (const p of decl.params) {
        const v = bound.get(p.name.name) ?? (p.default ? evaluate(el, p.default, { env: el.globals, scope: site.scope }) : POISON);
        env.set(p.name.name, v);
      }
      env.set('input', x);
      const scope = site.scope.child(`${name}${suffix(site.scope.next(`block:${name}`))}`, name);
      el.blockStack.push(name);
      try {
        return body(el, decl.body, { env, scope });
      } finally {
        el.blockStack.pop();
      }
    },
  };
}

/** Evaluates statements; the result is the last statement's value (coerced to a tensor
 *  by applying a trailing stage to `input`). */
function body(el: Elaboration, statements: Statement[], ctx: EvalContext): Value {
  let result: Value = POISON;
  for (const s of statements) {
    result = asTensorish(el, evaluate(el, s.value, ctx), ctx, s.value.loc);
    if (s.kind === 'assign') ctx.env.set(s.target.name, result);
  }
  return result;
}

export function forLoop(el: Elaboration, e: Extract<Expr, { kind: 'for' }>, ctx: EvalContext): Value {
  const over = evaluate(el, e.over, ctx);
  if (over.kind === 'poison') return POISON;
  if (over.kind !== 'list') {
    el.report.error(`for: expected a list or a range to loop over, not ${describe(over)}`, e.over.loc);
    return POISON;
  }
  // A loop is a stage: each iteration's body is applied to the previous one's output.
  return {
    kind: 'stage', label: 'for', apply: (x, site) => {
      let current: Value = x;
      for (const item of over.items) {
        if (current.kind !== 'tensor') return POISON;
        const env: Env = new Map(ctx.env);
        const values = e.variables.length === 1 ? [item] : item.kind === 'list' ? item.items : [];
        if (values.length !== e.variables.length) {
          el.report.error(`for: each item must have ${e.variables.length} values to unpack, got ${describe(item)}`, e.over.loc);
          return POISON;
        }
        e.variables.forEach((v, i) => env.set(v.name, values[i]));
        env.set('input', current);
        current = body(el, e.body, { env, scope: site.scope });
      }
      return current;
    },
  };
}

/** Runs the coarsest case on the last level, then each finer case with the level's image and
 *  the next-coarser result, each level in a scope (and with weights) of its own. The cases'
 *  names and parameters were checked by validation (CoarseToFineCases). */
export function coarseToFine(el: Elaboration, e: Extract<Expr, { kind: 'coarseToFine' }>, ctx: EvalContext): Value {
  const levels = evaluate(el, e.levels, ctx);
  if (levels.kind === 'poison') return POISON;
  if (levels.kind !== 'list' || levels.items.length === 0) {
    el.report.error(`coarse_to_fine expects a pyramid (a list of images), not ${describe(levels)}`, e.levels.loc);
    return POISON;
  }
  const coarsest = e.cases.find((c) => c.which.name === 'coarsest')!;
  const finer = e.cases.find((c) => c.which.name === 'finer');
  // Whether a finer case is needed depends on the pyramid's levels: checked here, not in validation.
  const finerMissing = !finer && levels.items.length > 1;
  if (finerMissing) el.report.error(`coarse_to_fine needs a 'finer(b, coarser) = ...' case`, e.loc);
  if (finerMissing || coarseToFineProblems(e).length) return POISON;
  const k = levels.items.length;
  const outputs: Value[] = new Array(k).fill(POISON);
  for (let s = k - 1; s >= 0; s--) {
    const c = s === k - 1 ? coarsest : finer!;
    const env: Env = new Map(ctx.env);
    env.set(c.params[0].name, levels.items[s]);
    if (s < k - 1) env.set(c.params[1].name, outputs[s + 1]);
    const scope = ctx.scope.child(`scale${s}`, `scale ${s}`);
    const out = asTensorish(el, evaluate(el, c.body, { env, scope }), { env, scope }, c.body.loc);
    if (out.kind === 'poison') return POISON;
    if (out.kind !== 'tensor') {
      el.report.error(`a coarse_to_fine case must produce a tensor, not ${describe(out)}`, c.body.loc);
      return POISON;
    }
    outputs[s] = out;
  }
  return { kind: 'list', items: outputs };
}
