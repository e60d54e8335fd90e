// PyTorch export of the loss and train sections (train.py): a DistributedDataParallel
// script for torchrun. The generated part is CONFIG (the train section's values) and
// loss_terms (the loss section as Python); the rest (TRAIN_SCRIPT) is fixed. The script reads
// GOPRO-layout data, applies the declared augmentations as netc's batches.ts defines them,
// and writes checkpoints that `netc import` reads: RUN/model-latest.pt = {'G': state_dict
// [, 'D': state_dict]} (plus RUN/state.pt with the optimizer and the step, for --resume).
import type { LossExpr, LossIR, Program, TrainIR } from '../ir.js';
import { gaussianTaps } from '../ops.js';
import { TRAIN_SCRIPT } from './pytorch-train-script.js';

function lossExpression(e: LossExpr): string {
  switch (e.kind) {
    case 'const': return String(e.value);
    case 'binary': return `(${lossExpression(e.left)} ${e.op} ${lossExpression(e.right)})`;
    case 'distance': return `F.${e.fn === 'mse' ? 'mse_loss' : 'l1_loss'}(outputs[${e.output}], targets[${e.target.level}])`;
    case 'reduce': {
      const sum = `(${e.terms.map(lossExpression).join(' + ')})`;
      return e.fn === 'mean' ? `(${sum} / ${e.terms.length})` : sum;
    }
    // -log D(fake) with D's logit: BCE with logits against 1 (netc's trainer does the same).
    case 'adversarial': return `F.softplus(-discriminator_logit(outputs[${e.fakeOutput}])).mean()`;
    case 'term': return `terms[${JSON.stringify(e.name)}]`;
  }
}

/** adversarial terms: (fake output, real target level) pairs the discriminator is trained on. */
function adversarialPairs(loss: LossIR): [number, number][] {
  const pairs: [number, number][] = [];
  const visit = (e: LossExpr): void => {
    if (e.kind === 'adversarial') pairs.push([e.fakeOutput, e.real.level]);
    else if (e.kind === 'binary') (visit(e.left), visit(e.right));
    else if (e.kind === 'reduce') e.terms.forEach(visit);
  };
  loss.terms.forEach((t) => visit(t.expr));
  return pairs;
}

function emitLoss(loss: LossIR): string {
  return [
    'def loss_terms(outputs, targets, discriminator_logit=None):',
    '    """Every named term of the loss section (float32), in declaration order."""',
    '    terms = {}',
    ...loss.terms.map((t) => `    terms[${JSON.stringify(t.name)}] = ${lossExpression(t.expr)}`),
    '    return terms',
    '',
    '',
    `OBJECTIVE = ${JSON.stringify(loss.objective)}`,
    `# (fake output index, real target level) of each adversarial term`,
    `ADVERSARIAL = ${JSON.stringify(adversarialPairs(loss))}`,
  ].join('\n');
}

function emitConfig(program: Program, train: TrainIR, loss: LossIR): string {
  const config = {
    source: program.file,
    sha256: program.sourceHash,
    set: program.overrides,
    patch: train.patch,
    batch: train.batch,
    iterations: train.iterations,
    optimizer: train.optimizer,
    schedule: train.schedule,
    average: train.average ?? null,
    augment: train.augment,
    data: train.data ?? null,
    checkpoint_every: train.checkpointEvery ?? 1000,
    validate_every: train.validateEvery ?? null,
    target: { levels: loss.target.levels, taps: gaussianTaps(loss.target.down.sigma, loss.target.down.radius) },
  };
  return `CONFIG = json.loads(r'''${JSON.stringify(config, null, 2)}''')`;
}

/** train.py for a program with loss and train sections. */
export function emitPytorchTrain(program: Program): string {
  if (!program.loss || !program.train) throw new Error(`${program.file}: PyTorch training export needs loss { } and train { } sections`);
  return TRAIN_SCRIPT
    .replace('#@CONFIG@', emitConfig(program, program.train, program.loss))
    .replace('#@LOSS@', emitLoss(program.loss))
    .replace('#@SOURCE@', program.file);
}
