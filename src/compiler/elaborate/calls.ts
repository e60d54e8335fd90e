// Calls: blocks become stages, layers become stages adding their op (builtins.ts), and every
// other built-in is evaluated from FUNCTIONS, a Record over builtins.ts's FunctionName (a
// built-in without an evaluation is a type error). Arguments are bound by builtins.ts's
// matchArguments, the rule validation checked them with, and type-checked here.
import type { Argument } from '../ast.js';
import { BUILTINS, matchArguments, type BuiltinParam, type FunctionName } from '../builtins.js';
import { POISON, type Tensor } from '../graph-builder.js';
import type { PyramidDownAttrs, SourceSpan } from '../ir.js';
import { LIMITS, formatCount } from '../limits.js';
import { pyramidMultiple } from '../ops.js';
import { evaluate } from './expressions.js';
import { distance, gan } from './loss.js';
import { asTensorish, blockStage, layerStage } from './stages.js';
import { describe, type CallExpr, type Elaboration, type EvalContext, type Value } from './values.js';

/** A built-in's value from its bound arguments; `name` is the built-in's own name (the call
 *  may use another name bound to it). */
type Evaluate = (el: Elaboration, args: Record<string, unknown>, e: CallExpr, ctx: EvalContext, name: FunctionName) => Value;

/** Training settings stay as their arguments until the train section reads them. */
const setting: Evaluate = (_el, args, _e, _ctx, name) => ({ kind: 'setting', name, args });

const FUNCTIONS: Record<FunctionName, Evaluate> = {
  concat: (el, args, e, ctx) => concat(el, args.values as Value[], e, ctx),
  pyramid,
  mse: (el, args, e) => distance(el, 'mse', args, e),
  l1: (el, args, e) => distance(el, 'l1', args, e),
  gan: (el, args, e) => gan(el, args, e),
  normal: (_el, args) => ({ kind: 'distribution', mean: args.mean as number, std: args.std as number }),
  saturation: (_el, args) => ({ kind: 'augment', augment: { kind: 'saturation', low: args.low as number, high: args.high as number } }),
  shake(el, args, e) {
    const min = args.min as number, max = args.max as number;
    if (min >= 1 && max >= min && max <= LIMITS.shakeLength) return { kind: 'augment', augment: { kind: 'shake', minLength: min, maxLength: max } };
    el.report.error(`shake: expected 1 <= min <= max <= ${LIMITS.shakeLength} pixels, got min ${min}, max ${max}`, e.loc);
    return POISON;
  },
  noise(el, args, e) {
    const sigma = args.sigma as Value;
    if (sigma.kind === 'number') return { kind: 'augment', augment: { kind: 'noise', sigmaMean: sigma.value, sigmaStd: 0 } };
    if (sigma.kind === 'distribution') return { kind: 'augment', augment: { kind: 'noise', sigmaMean: sigma.mean, sigmaStd: sigma.std } };
    el.report.error(`noise: sigma must be a number or normal(mean, std), not ${describe(sigma)}`, e.loc);
    return POISON;
  },
  adam: setting, constant: setting, step: setting, cosine: setting, ema: setting, flip: setting, rot90: setting, permute_channels: setting, gopro: setting,
  nearest: setting, bilinear: setting, kaiming: setting, zeros: setting,
};

export function call(el: Elaboration, e: CallExpr, ctx: EvalContext): Value {
  const callee = ctx.env.get(e.callee);
  if (!callee || callee.kind === 'poison') return POISON;
  if (callee.kind === 'block') return blockStage(el, callee.decl, e.args, ctx);
  if (callee.kind !== 'builtin') {
    el.report.error(`'${e.callee}' is ${describe(callee)}, not something that can be called`, e.calleeLoc);
    return POISON;
  }
  const builtin = BUILTINS[callee.name];
  if (builtin.context === 'layer') return layerStage(el, callee.name, e.args, e.loc, ctx) ?? POISON;
  const args = bind(el, builtin.params, e.args, ctx, e.callee);
  if (!args) return POISON;
  return FUNCTIONS[callee.name as FunctionName](el, args, e, ctx, callee.name as FunctionName);
}

/** Binds call arguments to a signature, checking types. Missing/unknown names were
 *  reported by validation; here they just make the call poison. */
export function bind(el: Elaboration, params: BuiltinParam[], args: Argument[], ctx: EvalContext, what: string): Record<string, unknown> | undefined {
  const bound: Record<string, unknown> = {};
  const rest = params.find((p) => p.rest);
  if (rest) bound[rest.name] = [];
  let ok = true;
  for (const { arg, param } of matchArguments(params, args, what).pairs) {
    if (!param) return undefined;
    const value = evaluate(el, arg.value, ctx);
    if (value.kind === 'poison') { ok = false; continue; }
    const checked = checkType(el, value, param, arg.value.loc, what);
    if (checked === undefined) { ok = false; continue; }
    if (param.rest) (bound[param.name] as unknown[]).push(checked);
    else bound[param.name] = checked;
  }
  for (const p of params) {
    if (p.name in bound || p.rest) continue;
    if (p.default === undefined) return undefined;
    bound[p.name] = typeof p.default === 'function' ? (p.default as (b: Record<string, unknown>) => unknown)(bound) : p.default;
  }
  return ok ? bound : undefined;
}

function checkType(el: Elaboration, value: Value, param: BuiltinParam, loc: SourceSpan, what: string): unknown {
  const fail = (expected: string) => {
    el.report.error(`${what}: '${param.name}' must be ${expected}, not ${describe(value)}`, loc);
    return undefined;
  };
  switch (param.type) {
    case 'int':
      if (value.kind !== 'number' || !Number.isInteger(value.value)) return fail('an integer');
      return value.value;
    case 'number': return value.kind === 'number' ? value.value : fail('a number');
    case 'bool': return value.kind === 'bool' ? value.value : fail('true or false');
    case 'string': return value.kind === 'string' ? value.value : fail('a string');
    case 'choice': return value.kind === 'builtin' && param.choices!.includes(value.name) ? value.name : fail(param.choices!.join(' or '));
    default: return value;
  }
}

function concat(el: Elaboration, values: Value[], e: CallExpr, ctx: EvalContext): Value {
  const tensors: Tensor[] = [];
  for (const [i, raw] of values.entries()) {
    const v = asTensorish(el, raw, ctx, e.args[i].value.loc);
    if (v.kind === 'poison') return POISON;
    if (v.kind !== 'tensor') {
      el.report.error(`concat: expected tensors, got ${describe(v)}`, e.args[i].value.loc);
      return POISON;
    }
    tensors.push(v);
  }
  if (tensors.length < 2) {
    el.report.error('concat needs at least two tensors', e.loc);
    return POISON;
  }
  if (tensors.some((t) => t.graph !== tensors[0].graph)) {
    el.report.error('concat: the tensors come from different models', e.loc);
    return POISON;
  }
  const out = tensors[0].graph.add('concat', tensors, { axis: 3 }, { loc: e.loc, scope: ctx.scope }, 'concat', undefined, undefined);
  if (out.kind === 'poison' && !tensors[0].graph.limitReached) {
    const sizes = tensors.map((t) => `${t.shape[1]}x${t.shape[2]}`).join(' and ');
    el.report.error(`concat needs equal spatial sizes, got ${sizes}${sizeHint(el)}`, e.loc);
  }
  return out;
}

/** Why sizes may not match: an input the pyramid of `scales` levels cannot halve. */
function sizeHint(el: Elaboration): string {
  const levels = el.constants.scales;
  const [h, w] = el.options.input;
  if (!levels) return '';
  const m = pyramidMultiple(levels);
  return h % m || w % m ? ` (the input ${h}x${w} is not divisible by ${m} = 2^(scales-1); netc deblur pads images to a multiple of ${m})` : '';
}

function pyramid(el: Elaboration, args: Record<string, unknown>, e: CallExpr, ctx: EvalContext): Value {
  const image = asTensorish(el, args.image as Value, ctx, e.loc);
  const levels = args.levels as number;
  if (levels < 1 || levels > LIMITS.pyramidLevels) {
    el.report.error(`pyramid: 'levels' must be ${levels < 1 ? 'at least 1' : `at most ${LIMITS.pyramidLevels}`}, got ${formatCount(levels)}`, e.args[1]?.loc ?? e.loc);
    return POISON;
  }
  const down: PyramidDownAttrs = { sigma: args.sigma as number, radius: args.radius as number };
  if (image.kind === 'target') return { kind: 'list', items: Array.from({ length: levels }, (_, i) => ({ kind: 'target', level: i })) };
  if (image.kind !== 'tensor') {
    if (image.kind !== 'poison') el.report.error(`pyramid: expected an image, got ${describe(image)}`, e.args[0].loc);
    return POISON;
  }
  const items: Value[] = [image];
  for (let i = 1; i < levels; i++) {
    const prev = items[i - 1] as Tensor;
    const next = prev.graph.add('pyramid_down', [prev], { ...down }, { loc: e.loc, scope: ctx.scope }, 'pyramid', undefined, undefined);
    if (next.kind === 'poison') {
      if (prev.graph.limitReached) return POISON;
      el.report.error(`pyramid: level ${i - 1} is ${prev.shape[1]}x${prev.shape[2]}, which cannot be halved exactly${sizeHint(el)}`, e.loc);
      return POISON;
    }
    items.push(next);
  }
  return { kind: 'list', items };
}
