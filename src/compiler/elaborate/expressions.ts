// Evaluating expressions: literals, names, lists and ranges, indexing, arithmetic (numbers,
// tensor shifts and scales folded into one affine node, residual sums, lists elementwise).
// Chains, repeats and loops are in stages.ts, calls in calls.ts, reductions in loss.ts.
import type { Expr } from '../ast.js';
import { POISON, type Tensor } from '../graph-builder.js';
import type { SourceSpan } from '../ir.js';
import { LIMITS, formatCount } from '../limits.js';
import { call } from './calls.js';
import { lossArithmetic, reduce } from './loss.js';
import { asTensorish, chain, coarseToFine, forLoop, repeat } from './stages.js';
import { describe, type Elaboration, type EvalContext, type Value } from './values.js';

export function evaluate(el: Elaboration, e: Expr, ctx: EvalContext): Value {
  if (++el.steps > LIMITS.evaluationSteps) {
    if (el.steps === LIMITS.evaluationSteps + 1) el.report.error(`the file takes more than ${formatCount(LIMITS.evaluationSteps)} evaluation steps to elaborate (loops or reductions too large); stopped here`, e.loc);
    return POISON;
  }
  switch (e.kind) {
    case 'number': return { kind: 'number', value: e.value };
    case 'string': return { kind: 'string', value: e.value };
    case 'bool': return { kind: 'bool', value: e.value };
    case 'name': return ctx.env.get(e.name) ?? POISON; // an unknown name: reported by validation
    case 'list': case 'tuple': return { kind: 'list', items: e.items.map((i) => evaluate(el, i, ctx)) };
    case 'range': return range(el, e, ctx);
    case 'negate': return arithmetic(el, '*', { kind: 'number', value: -1 }, evaluate(el, e.operand, ctx), e.loc, ctx);
    case 'binary': return arithmetic(el, e.op, evaluate(el, e.left, ctx), evaluate(el, e.right, ctx), e.loc, ctx);
    case 'index': return index(el, evaluate(el, e.target, ctx), evaluate(el, e.index, ctx), e);
    case 'chain': return chain(el, e, ctx);
    case 'repeat': return repeat(el, e, ctx);
    case 'call': return call(el, e, ctx);
    case 'reduce': return reduce(el, e, ctx);
    case 'for': return forLoop(el, e, ctx);
    case 'coarseToFine': return coarseToFine(el, e, ctx);
  }
}

/** The value as an integer, else an error ("a repeat count must be an integer, not ..."). */
export function integer(el: Elaboration, v: Value, loc: SourceSpan, what: string): number | undefined {
  if (v.kind === 'poison') return undefined;
  if (v.kind !== 'number' || !Number.isInteger(v.value)) {
    el.report.error(`${what} must be an integer, not ${describe(v)}`, loc);
    return undefined;
  }
  return v.value;
}

/** A tensor or a list of tensors, else an error. */
export function tensorList(el: Elaboration, value: Value, loc: SourceSpan, what: string): Tensor[] | undefined {
  if (value.kind === 'poison') return undefined;
  if (value.kind === 'tensor') return [value];
  if (value.kind === 'list' && value.items.every((v) => v.kind === 'tensor')) return value.items as Tensor[];
  if (value.kind === 'list' && value.items.some((v) => v.kind === 'poison')) return undefined;
  el.report.error(`${what} must be a tensor or a list of tensors, not ${describe(value)}`, loc);
  return undefined;
}

function range(el: Elaboration, e: Extract<Expr, { kind: 'range' }>, ctx: EvalContext): Value {
  const from = integer(el, evaluate(el, e.from, ctx), e.from.loc, 'a range start');
  const to = integer(el, evaluate(el, e.to, ctx), e.to.loc, 'a range end');
  if (from === undefined || to === undefined) return POISON;
  if (to <= from) {
    el.report.error(`empty range ${from}..${to}`, e.loc);
    return POISON;
  }
  if (to - from > LIMITS.range) {
    el.report.error(`range ${from}..${to} is too long (at most ${formatCount(LIMITS.range)} items)`, e.loc);
    return POISON;
  }
  return { kind: 'list', items: Array.from({ length: to - from }, (_, i) => ({ kind: 'number', value: from + i })) };
}

function index(el: Elaboration, target: Value, at: Value, e: Extract<Expr, { kind: 'index' }>): Value {
  if (target.kind === 'poison' || at.kind === 'poison') return POISON;
  if (target.kind !== 'list') {
    el.report.error(`cannot index ${describe(target)}`, e.target.loc);
    return POISON;
  }
  const i = integer(el, at, e.index.loc, 'an index');
  if (i === undefined) return POISON;
  if (i < 0 || i >= target.items.length) {
    el.report.error(`index ${i} is out of range: the list has ${target.items.length} item${target.items.length === 1 ? '' : 's'} (0..${target.items.length - 1})`, e.index.loc);
    return POISON;
  }
  return target.items[i];
}

function arithmetic(el: Elaboration, op: '+' | '-' | '*' | '/', leftRaw: Value, rightRaw: Value, loc: SourceSpan, ctx: EvalContext): Value {
  if (leftRaw.kind === 'poison' || rightRaw.kind === 'poison') return POISON;
  const left = asTensorish(el, leftRaw, ctx, loc);
  const right = asTensorish(el, rightRaw, ctx, loc);
  if (left.kind === 'poison' || right.kind === 'poison') return POISON;
  const divisionByZero = () => {
    el.report.error('division by zero', loc);
    return POISON;
  };
  if (left.kind === 'number' && right.kind === 'number') {
    if (op === '/' && right.value === 0) return divisionByZero();
    return { kind: 'number', value: op === '+' ? left.value + right.value : op === '-' ? left.value - right.value : op === '*' ? left.value * right.value : left.value / right.value };
  }
  if (left.kind === 'loss' || right.kind === 'loss') return lossArithmetic(el, op, left, right, loc);
  // Lists map elementwise: `out + 0.5` shifts every pyramid level.
  if (left.kind === 'list' || right.kind === 'list') {
    const n = left.kind === 'list' ? left.items.length : (right as { items: Value[] }).items.length;
    if (left.kind === 'list' && right.kind === 'list' && left.items.length !== right.items.length) {
      el.report.error(`'${op}' on lists of different lengths (${left.items.length} and ${right.items.length})`, loc);
      return POISON;
    }
    const at = (v: Value, i: number) => (v.kind === 'list' ? v.items[i] : v);
    return { kind: 'list', items: Array.from({ length: n }, (_, i) => arithmetic(el, op, at(left, i), at(right, i), loc, ctx)) };
  }
  if (left.kind === 'tensor' && right.kind === 'tensor') {
    if (op === '+') return left.graph.add('add', [left, right], {}, { loc, scope: ctx.scope }, 'add', undefined, el.report);
    el.report.error(`'${op}' between two tensors is not supported (only '+', a residual sum)`, loc);
    return POISON;
  }
  if (left.kind === 'tensor' && right.kind === 'number') {
    const c = right.value;
    if (op === '/' && c === 0) return divisionByZero();
    return affine(el, left, op === '*' ? c : op === '/' ? 1 / c : 1, op === '+' ? c : op === '-' ? -c : 0, loc, ctx);
  }
  if (left.kind === 'number' && right.kind === 'tensor') {
    if (op === '/') {
      el.report.error('dividing a number by a tensor is not supported', loc);
      return POISON;
    }
    return affine(el, right, op === '-' ? -1 : op === '*' ? left.value : 1, op === '*' ? 0 : left.value, loc, ctx);
  }
  el.report.error(`cannot apply '${op}' to ${describe(left)} and ${describe(right)}`, loc);
  return POISON;
}

/** y = x * scale + shift, folded into the producing affine node when there is one. */
function affine(el: Elaboration, x: Tensor, scale: number, shift: number, loc: SourceSpan, ctx: EvalContext): Value {
  const producer = x.graph.node(x.id);
  if (producer?.op === 'affine') {
    const a = producer.attrs as { scale: number; shift: number };
    const source = x.graph.node(producer.inputs[0]);
    const input: Tensor = { kind: 'tensor', id: producer.inputs[0], shape: source?.shape ?? x.shape, graph: x.graph };
    const inputShape = source?.shape ?? x.graph.inputs.find((i) => i.id === producer.inputs[0])?.shape ?? x.shape;
    return x.graph.add('affine', [{ ...input, shape: inputShape }], { scale: a.scale * scale, shift: a.shift * scale + shift }, { loc, scope: ctx.scope }, 'affine', undefined, el.report);
  }
  return x.graph.add('affine', [x], { scale, shift }, { loc, scope: ctx.scope }, 'affine', undefined, el.report);
}
