// The declared loss (LossIR) as tfjs ops. The generator's outputs are compared with the sharp
// target pyramid (level 0 = the sharp batch, each next level = the runtime's pyramid_down
// with the declared sigma/radius); adversarial terms run the discriminator up to its logit
// (a final sigmoid is folded into the loss: BCE on logits, numerically stable via softplus).
import type { Graph, LossExpr, LossIR, Program } from '../../compiler/ir.js';
import { UserError } from '../../errors.js';
import { runGraph, type ParamSource } from '../execute.js';
import { pyramidDown } from '../lower.js';
import { tf } from '../tf.js';

/** The sharp pyramid S[0..levels-1], finest first. */
export function targetPyramid(loss: LossIR, sharp: tf.Tensor): tf.Tensor[] {
  const levels = [sharp];
  for (let k = 1; k < loss.target.levels; k++) {
    levels.push(pyramidDown(levels[k - 1], loss.target.down.sigma, loss.target.down.radius));
  }
  return levels;
}

/** The discriminator graph with a final sigmoid removed: its output is the logit. */
export function logitGraph(graph: Graph): Graph {
  if (graph.outputs.length !== 1) throw new UserError(`discriminator '${graph.name}' must have exactly one output, it has ${graph.outputs.length}`);
  const last = graph.nodes.find((n) => n.id === graph.outputs[0].id);
  if (!last || last.op !== 'sigmoid') return graph;
  const input = last.inputs[0];
  const shape = graph.nodes.find((n) => n.id === input)?.shape ?? last.shape;
  return { ...graph, nodes: graph.nodes.filter((n) => n !== last), outputs: [{ name: 'logit', id: input, shape }] };
}

/** BCE with logits against a constant label, averaged over the batch. */
export function bceWithLogits(logits: tf.Tensor, label: 0 | 1): tf.Tensor {
  // -log sigmoid(x) = softplus(-x);  -log(1 - sigmoid(x)) = softplus(x)
  return tf.mean(tf.softplus(label === 1 ? tf.neg(logits) : logits));
}

/** Every adversarial expression of the loss (the discriminator is trained against each). */
export function adversarialTerms(loss: LossIR): Extract<LossExpr, { kind: 'adversarial' }>[] {
  const found: Extract<LossExpr, { kind: 'adversarial' }>[] = [];
  const visit = (e: LossExpr): void => {
    if (e.kind === 'adversarial') found.push(e);
    else if (e.kind === 'binary') (visit(e.left), visit(e.right));
    else if (e.kind === 'reduce') e.terms.forEach(visit);
  };
  loss.terms.forEach((t) => visit(t.expr));
  return found;
}

export interface LossContext {
  /** Generator outputs, finest first (L[0] .. L[K-1]). */
  outputs: tf.Tensor[];
  /** Sharp pyramid. */
  targets: tf.Tensor[];
  /** The discriminator's logit for an image batch. */
  discriminatorLogit?: (image: tf.Tensor) => tf.Tensor;
}

/** Evaluates every named term (declaration order); returns scalars by name. Run inside a
 *  tidy or a gradient function: intermediates are not disposed here. */
export function evaluateTerms(loss: LossIR, context: LossContext): Map<string, tf.Scalar> {
  const values = new Map<string, tf.Scalar>();
  const output = (index: number) => {
    const value = context.outputs[index];
    if (!value) throw new Error(`loss reads generator output ${index}, but it has ${context.outputs.length}`);
    return value;
  };
  const target = (level: number) => {
    const value = context.targets[level];
    if (!value) throw new Error(`loss reads target level ${level}, but the pyramid has ${context.targets.length}`);
    return value;
  };
  const evaluate = (e: LossExpr): tf.Scalar => {
    switch (e.kind) {
      case 'const':
        return tf.scalar(e.value);
      case 'binary': {
        const [a, b] = [evaluate(e.left), evaluate(e.right)];
        const op = { '+': tf.add, '-': tf.sub, '*': tf.mul, '/': tf.div }[e.op];
        return op(a, b) as tf.Scalar;
      }
      case 'distance': {
        const diff = tf.sub(output(e.output), target(e.target.level));
        return tf.mean(e.fn === 'mse' ? tf.square(diff) : tf.abs(diff));
      }
      case 'reduce': {
        const sum = e.terms.map(evaluate).reduce((s, t) => tf.add(s, t));
        return (e.fn === 'mean' ? tf.div(sum, e.terms.length) : sum) as tf.Scalar;
      }
      case 'adversarial': {
        if (!context.discriminatorLogit) throw new Error('the loss has an adversarial term but no discriminator was given');
        return bceWithLogits(context.discriminatorLogit(output(e.fakeOutput)), 1) as tf.Scalar;
      }
      case 'term': {
        const value = values.get(e.name);
        if (!value) throw new Error(`loss term '${e.name}' is used before it is defined`);
        return value;
      }
    }
  };
  for (const term of loss.terms) values.set(term.name, evaluate(term.expr));
  return values;
}

/** The discriminator's loss: BCE(D(real), 1) + BCE(D(fake), 0), summed over the adversarial
 *  terms (fakes must already be detached from the generator). */
export function discriminatorLoss(loss: LossIR, fakes: tf.Tensor[], targets: tf.Tensor[], logit: (image: tf.Tensor) => tf.Tensor): tf.Scalar {
  const terms = adversarialTerms(loss).map((e) =>
    tf.add(bceWithLogits(logit(targets[e.real.level]), 1), bceWithLogits(logit(fakes[e.fakeOutput]), 0)),
  );
  return terms.reduce((s, t) => tf.add(s, t)) as tf.Scalar;
}

/** A function image -> logit for the program's discriminator with the given parameters. */
export function discriminatorFor(program: Program, params: ParamSource): ((image: tf.Tensor) => tf.Tensor) | undefined {
  if (!program.discriminator) return undefined;
  const graph = logitGraph(program.models[program.discriminator]);
  return (image) => runGraph(graph, [image], params)[0];
}
