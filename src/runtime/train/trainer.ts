// One training update of the program's generator (and discriminator) on a batch.
//
// Per update, with lr from the declared schedule:
//   1. (adversarial losses only) the discriminator's update, as DeepDeblur-PyTorch does it:
//      fakes = G(blur) without a tape, then Adam on BCE(D(real), 1) + BCE(D(fake), 0).
//      This costs one extra generator forward per update.
//   2. the generator's update: Adam on the declared objective, whose adversarial terms are
//      BCE(D(G(blur)), 1) = -log D(G(blur)) with the just-updated discriminator.
// The loss values are read before any parameter changes, so a non-finite loss stops the run
// with the parameters of the last good update (NonFiniteLossError).
import type { Graph, LossIR, Program, TrainIR } from '../../compiler/ir.js';
import { UserError } from '../../errors.js';
import type { CheckpointMeta } from '../checkpoint.js';
import { runGraph } from '../execute.js';
import { createParams, disposeParams, type HostArray, type ParamMap } from '../params.js';
import { tf } from '../tf.js';
import { Adam } from './adam.js';
import { adversarialTerms, discriminatorLoss, evaluateTerms, logitGraph, targetPyramid } from './loss.js';

/** Slot-name prefixes of the discriminator's parameters and optimizers in a checkpoint. */
export const DISCRIMINATOR_PREFIX = 'discriminator/';
/** With `average: ema(...)` a checkpoint's weights are the average (what everything after
 *  training uses) and the optimizer's own weights are slots under this prefix (for --resume). */
export const RAW_PREFIX = 'raw/';
const G_ADAM = 'adam/';
const D_ADAM = 'discriminator-adam/';

export interface BatchArrays {
  blur: Float32Array;
  sharp: Float32Array;
  shape: [number, number, number, number];
}

export interface StepResult {
  /** Updates done after this one (1-based number of this update). */
  step: number;
  lr: number;
  /** The objective's value. */
  loss: number;
  /** Every named term, declaration order. */
  terms: Record<string, number>;
  /** The discriminator's BCE(real, 1) + BCE(fake, 0), when there is one. */
  discriminatorLoss?: number;
}

export class NonFiniteLossError extends UserError {
  constructor(readonly step: number, readonly term: string, readonly value: number) {
    super(`step ${step}: the loss term '${term}' is ${value} (training diverged; try a lower lr)`);
    this.name = 'NonFiniteLossError';
  }
}

/** Learning rate of the update with 0-based index `index`. step: lr times `factor` once for
 *  every milestone <= index (torch MultiStepLR counted in iterations). cosine: torch
 *  CosineAnnealingLR with T_max = the declared iterations, held at `min` after them (torch
 *  would rise again; a run longer than its schedule should not). */
export function learningRate(train: TrainIR, index: number): number {
  const { lr } = train.optimizer;
  const schedule = train.schedule;
  switch (schedule.kind) {
    case 'constant':
      return lr;
    case 'step':
      return lr * schedule.factor ** schedule.at.filter((at) => index >= at).length;
    case 'cosine': {
      const t = Math.min(index, train.iterations) / train.iterations;
      return schedule.min + ((lr - schedule.min) * (1 + Math.cos(Math.PI * t))) / 2;
    }
  }
}

/** Sets every variable of `target` from saved arrays, names and shapes checked;
 *  `skipMissing`: those without a saved value keep theirs (and are returned). */
function assignArrays(target: ParamMap, lookup: (name: string) => HostArray | undefined, what: string, skipMissing = false): string[] {
  const kept: string[] = [];
  for (const [name, variable] of target) {
    const saved = lookup(name);
    if (!saved && skipMissing) {
      kept.push(name);
      continue;
    }
    if (!saved) throw new UserError(`checkpoint has no ${what} '${name}'`);
    if (saved.shape.join(',') !== variable.shape.join(',')) throw new UserError(`checkpoint ${what} '${name}' has shape [${saved.shape}], the model needs [${variable.shape}]`);
    const value = tf.tensor(saved.data, saved.shape, 'float32');
    variable.assign(value);
    value.dispose();
  }
  return kept;
}

/** Gradients keyed by parameter name (tfjs's variableGrads keys them by variable name). */
function gradsByParam(params: ParamMap, grads: tf.NamedTensorMap): Record<string, tf.Tensor> {
  const byParam: Record<string, tf.Tensor> = {};
  for (const [name, variable] of params) if (grads[variable.name]) byParam[name] = grads[variable.name];
  return byParam;
}

function checkFinite(step: number, values: [string, number][]): void {
  for (const [term, value] of values) if (!Number.isFinite(value)) throw new NonFiniteLossError(step, term, value);
}

/** Non-trainable copies of `params` (the average starts at the initial weights). */
function copyParams(params: ParamMap): ParamMap {
  return new Map([...params].map(([name, p]) => [name, tf.variable(p.clone(), false)]));
}

/** avg = decay * avg + (1 - decay) * w: torch.optim.swa_utils.AveragedModel with that avg_fn,
 *  first updated (a copy) before training. */
function updateAverage(average: ParamMap, params: ParamMap, decay: number): void {
  tf.tidy(() => {
    for (const [name, avg] of average) avg.assign(tf.add(tf.mul(avg, decay), tf.mul(params.get(name)!, 1 - decay)));
  });
}

export class Trainer {
  readonly generator: Graph;
  readonly loss: LossIR;
  readonly train: TrainIR;
  readonly params: ParamMap;
  readonly discriminatorParams?: ParamMap;
  /** Updates done so far. */
  step = 0;
  private readonly adam: Adam;
  private readonly discriminatorAdam?: Adam;
  private readonly discriminatorGraph?: Graph;
  /** The exponential moving average of `params` (train.average), if declared. */
  private readonly average?: ParamMap;

  constructor(readonly program: Program, seed: number) {
    if (!program.loss) throw new UserError(`${program.file}: no loss section; netc train needs loss { ... }`);
    if (!program.train) throw new UserError(`${program.file}: no train section; netc train needs train { ... }`);
    this.loss = program.loss;
    this.train = program.train;
    this.generator = program.models[program.generator];
    this.params = createParams(this.generator, seed);
    const { beta1, beta2, eps } = this.train.optimizer;
    this.adam = new Adam(this.params, { beta1, beta2, eps }, G_ADAM);
    if (this.train.average) this.average = copyParams(this.params);
    if (adversarialTerms(this.loss).length > 0) {
      const name = program.discriminator;
      if (!name) throw new UserError(`${program.file}: the loss has an adversarial term but no discriminator model`);
      this.discriminatorGraph = logitGraph(program.models[name]);
      this.discriminatorParams = createParams(program.models[name], seed);
      this.discriminatorAdam = new Adam(this.discriminatorParams, { beta1, beta2, eps }, D_ADAM);
    }
  }

  /** Term names in log order. */
  get termNames(): string[] {
    return this.loss.terms.map((t) => t.name);
  }

  /** The weights to evaluate and ship: the average when one is declared. */
  get inferenceParams(): ParamMap {
    return this.average ?? this.params;
  }

  learningRate(index = this.step): number {
    return learningRate(this.train, index);
  }

  private logit = (image: tf.Tensor): tf.Tensor => runGraph(this.discriminatorGraph!, [image], this.discriminatorParams!)[0];

  /** One update (see the header). Throws NonFiniteLossError before changing anything. */
  trainStep(batch: BatchArrays): StepResult {
    const number = this.step + 1;
    const lr = this.learningRate();
    const result = tf.tidy(() => {
      const blur = tf.tensor4d(batch.blur, batch.shape);
      const targets = targetPyramid(this.loss, tf.tensor4d(batch.sharp, batch.shape));

      let discriminatorLossValue: number | undefined;
      let discriminatorGrads: Record<string, tf.Tensor> | undefined;
      if (this.discriminatorParams) {
        const fakes = runGraph(this.generator, [blur], this.params);
        const { value, grads } = tf.variableGrads(
          () => discriminatorLoss(this.loss, fakes, targets, this.logit),
          [...this.discriminatorParams.values()],
        );
        discriminatorLossValue = value.dataSync()[0];
        checkFinite(number, [['discriminator', discriminatorLossValue]]);
        discriminatorGrads = gradsByParam(this.discriminatorParams, grads);
        this.discriminatorAdam!.apply(discriminatorGrads, lr);
      }

      let termVector: tf.Tensor | undefined;
      const { grads } = tf.variableGrads(() => {
        const outputs = runGraph(this.generator, [blur], this.params);
        const terms = evaluateTerms(this.loss, {
          outputs,
          targets,
          discriminatorLogit: this.discriminatorParams ? this.logit : undefined,
        });
        termVector = tf.keep(tf.stack([...terms.values()]));
        return terms.get(this.loss.objective)!;
      }, [...this.params.values()]);
      const values = termVector!.dataSync();
      termVector!.dispose(); // kept out of the gradient scope; this tidy does not own it
      const terms = Object.fromEntries(this.termNames.map((name, i) => [name, values[i]]));
      checkFinite(number, Object.entries(terms));
      this.adam.apply(gradsByParam(this.params, grads), lr);
      if (this.average) updateAverage(this.average, this.params, this.train.average!.decay);
      return { terms, discriminatorLossValue };
    });
    this.step = number;
    return {
      step: number,
      lr,
      loss: result.terms[this.loss.objective],
      terms: result.terms,
      ...(result.discriminatorLossValue !== undefined ? { discriminatorLoss: result.discriminatorLossValue } : {}),
    };
  }

  /** Everything a checkpoint holds besides the loader's state. */
  checkpointContents(): { params: Map<string, tf.Tensor>; slots: Map<string, tf.Tensor> } {
    const slots = new Map<string, tf.Tensor>(this.adam.slots());
    if (this.average) for (const [name, p] of this.params) slots.set(RAW_PREFIX + name, p);
    if (this.discriminatorParams) {
      for (const [name, p] of this.discriminatorParams) slots.set(DISCRIMINATOR_PREFIX + name, p);
      for (const [name, s] of this.discriminatorAdam!.slots()) slots.set(name, s);
    }
    return { params: new Map(this.inferenceParams), slots };
  }

  /** Restores parameters, optimizer moments and the step from a checkpoint's arrays. */
  restore(meta: CheckpointMeta, params: Map<string, HostArray>, slots: Map<string, HostArray>): void {
    if (this.average) {
      assignArrays(this.average, (name) => params.get(name), 'parameter');
      assignArrays(this.params, (name) => slots.get(RAW_PREFIX + name), 'optimized parameter');
    } else {
      assignArrays(this.params, (name) => params.get(name), 'parameter');
    }
    this.adam.restore(slots, meta.step);
    if (this.discriminatorParams) {
      assignArrays(this.discriminatorParams, (name) => slots.get(DISCRIMINATOR_PREFIX + name), 'discriminator parameter');
      this.discriminatorAdam!.restore(slots, meta.step);
    }
    this.step = meta.step;
  }

  /** Starts from trained generator weights (fine-tuning): the parameters only; the
   *  optimizer, the step and any discriminator start fresh. Parameters `params` lacks (a
   *  grown model) keep their initial values; their names are returned. */
  initialize(params: Map<string, HostArray>): string[] {
    const fresh = assignArrays(this.params, (name) => params.get(name), 'parameter', true);
    if (this.average) assignArrays(this.average, (name) => params.get(name), 'parameter', true);
    return fresh;
  }

  dispose(): void {
    disposeParams(this.params);
    if (this.average) disposeParams(this.average);
    this.adam.dispose();
    if (this.discriminatorParams) disposeParams(this.discriminatorParams);
    this.discriminatorAdam?.dispose();
  }
}
