// Lowering the train section to TrainIR: the trainer's top-level constants (patch, batch,
// iterations, lr), optimizer, schedule, augmentations, data and cadences.
import type { Declaration } from '../ast.js';
import { TRAIN_SETTINGS } from '../builtins.js';
import { Scope } from '../graph-builder.js';
import type { SourceSpan, TrainIR } from '../ir.js';
import { LIMITS, formatCount } from '../limits.js';
import { evaluate, integer } from './expressions.js';
import { describe, sourceText, type Elaboration, type EvalContext, type Value } from './values.js';

const AUGMENTATIONS_WITHOUT_ARGUMENTS = ['flip', 'rot90', 'permute_channels'];

export function lowerTrain(el: Elaboration, decl: Extract<Declaration, { kind: 'train' }>): TrainIR {
  const ctx: EvalContext = { env: el.globals, scope: new Scope([], []) };
  const constant = (name: string): number | undefined => {
    const v = el.constants[name];
    if (v === undefined) {
      el.report.error(`the train section needs a top-level constant '${name}' (e.g. '${name} = ...')`, decl.loc);
    } else if (!(v > 0)) {
      el.report.error(`'${name}' must be positive, got ${v}`, decl.loc);
    }
    return v;
  };
  const patch = constant('patch'), batch = constant('batch'), iterations = constant('iterations');
  const batchElements = (batch ?? 0) * (patch ?? 0) ** 2 * 3;
  if (batchElements > LIMITS.tensorElements) {
    el.report.error(`a training batch of ${batch} patches of ${patch}x${patch} is ${Number.isSafeInteger(batchElements) ? formatCount(batchElements) : 'too many'} elements, more than the limit of ${formatCount(LIMITS.tensorElements)}`, decl.loc);
  }
  const train: TrainIR = {
    patch: patch ?? 0, batch: batch ?? 0, iterations: iterations ?? 0,
    optimizer: { kind: 'adam', lr: el.constants.lr ?? 1e-4, beta1: 0.9, beta2: 0.999, eps: 1e-8 },
    schedule: { kind: 'constant' },
    augment: [],
  };
  let cosineAt: SourceSpan | undefined;
  for (const s of decl.settings) {
    const values = s.values.map((v) => evaluate(el, v, ctx));
    if (values.some((v) => v.kind === 'poison')) continue;
    const setting = Object.hasOwn(TRAIN_SETTINGS, s.key.name) ? TRAIN_SETTINGS[s.key.name] : undefined;
    // Unknown settings and a list where one value belongs: reported by validation (SectionStructure).
    if (!setting || (!setting.list && values.length !== 1)) continue;
    const [v] = values;
    const at = s.values[0].loc;
    switch (s.key.name) {
      case 'optimizer':
        if (v.kind === 'setting' && v.name === 'adam') {
          const a = v.args as Record<string, number>;
          train.optimizer = { kind: 'adam', lr: a.lr, beta1: a.beta1, beta2: a.beta2, eps: a.eps };
        } else el.report.error(`optimizer: expected adam(...), got ${describe(v)}`, at);
        break;
      case 'schedule':
        if (v.kind === 'builtin' && v.name === 'constant') train.schedule = { kind: 'constant' };
        else if (v.kind === 'setting' && v.name === 'step') {
          const points = iterationList(v.args.at as Value);
          if (!points) el.report.error(`step: 'at' must be an iteration or a list of iterations`, at);
          else train.schedule = { kind: 'step', at: points.map(Math.round), factor: v.args.factor as number };
        } else if ((v.kind === 'setting' || v.kind === 'builtin') && v.name === 'cosine') {
          const min = v.kind === 'setting' ? (v.args.min as number) : 0; // bare `cosine`: down to 0
          train.schedule = { kind: 'cosine', min };
          cosineAt = at;
        } else el.report.error(`schedule: expected constant, step(at, factor) or cosine(min), got ${describe(v)}`, at);
        break;
      case 'average':
        if (v.kind === 'setting' && v.name === 'ema') {
          const decay = v.args.decay as number;
          if (!(decay > 0 && decay < 1)) el.report.error(`ema: 'decay' must be between 0 and 1 (e.g. 0.999), got ${decay}`, at);
          else train.average = { kind: 'ema', decay };
        } else el.report.error(`average: expected ema(decay), got ${describe(v)}`, at);
        break;
      case 'augment':
        values.forEach((a, i) => {
          if (a.kind === 'augment') train.augment.push(a.augment);
          else if (a.kind === 'builtin' && AUGMENTATIONS_WITHOUT_ARGUMENTS.includes(a.name)) train.augment.push({ kind: a.name as 'flip' });
          else el.report.error(`augment: '${s.values[i].kind === 'name' || s.values[i].kind === 'call' ? sourceText(el.doc, s.values[i].loc) : describe(a)}' is not an augmentation (flip, rot90, permute_channels, saturation, noise, shake)`, s.values[i].loc);
        });
        break;
      case 'data':
        if (v.kind === 'setting' && v.name === 'gopro') {
          const blur = v.args.blur as string;
          if (blur !== 'blur' && blur !== 'blur_gamma') el.report.error(`gopro: blur must be "blur" or "blur_gamma"`, at);
          train.data = { kind: 'gopro', root: v.args.root as string, blur: blur as 'blur' };
        } else el.report.error(`data: expected gopro("path"), got ${describe(v)}`, at);
        break;
      case 'checkpoint_every': case 'validate_every': {
        const n = integer(el, v, at, s.key.name);
        if (n !== undefined) train[s.key.name === 'checkpoint_every' ? 'checkpointEvery' : 'validateEvery'] = n;
      }
    }
  }
  // After the loop: the optimizer's lr may be declared below the schedule.
  if (cosineAt && train.schedule.kind === 'cosine' && !(train.schedule.min >= 0 && train.schedule.min <= train.optimizer.lr)) {
    el.report.error(`cosine: 'min' must be between 0 and lr (${train.optimizer.lr}), got ${train.schedule.min}`, cosineAt);
  }
  return train;
}

/** An iteration or a list of them, rounded; undefined for anything else. */
function iterationList(at: Value): number[] | undefined {
  if (at.kind === 'number') return [at.value];
  if (at.kind === 'list' && at.items.every((i) => i.kind === 'number')) return at.items.map((i) => Math.round((i as { value: number }).value));
  return undefined;
}
