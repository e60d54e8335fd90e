// Timing of compiled models: forward passes (and, with a trainer, training steps) as
// medians of several runs after a warm-up, every result read back so all work is counted.
import { readFileSync } from 'node:fs';
import type { Program } from '../compiler/ir.js';
import { graphCost, trainingFlops } from '../compiler/cost.js';
import { runGraph } from './execute.js';
import { createParams, disposeParams } from './params.js';
import { tf } from './tf.js';

export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/** How runs are timed: `warmup` untimed, then `runs` timed ones; returns every timed run (ms). */
export type Timer = (once: () => Promise<void> | void, runs: number, warmup: number) => Promise<number[]>;

/** Runs `once` `warmup` times untimed, then `runs` times back to back. */
export async function timeRuns(once: () => Promise<void> | void, runs: number, warmup = 1): Promise<number[]> {
  for (let i = 0; i < warmup; i++) await once();
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const start = performance.now();
    await once();
    times.push(performance.now() - start);
  }
  return times;
}

/** Peak resident memory of this process so far (Linux VmHWM), in bytes. */
export function peakRssBytes(): number | undefined {
  try {
    const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync('/proc/self/status', 'utf8'));
    return m ? Number(m[1]) * 1024 : undefined;
  } catch {
    return undefined;
  }
}

export interface ForwardBench {
  forwardMs: number;
  forwardRunsMs: number[];
  gflop: number;
  gflopPerSecond: number;
}

/** The input shape of the program's generator with `batch` images. */
function batchShape(program: Program, batch: number): [number, number, number, number] {
  const [, h, w, c] = program.models[program.generator].inputs[0].shape;
  return [batch, h, w, c];
}

/** Generator forward at the program's input size (pyramid included), `batch` images. */
export async function benchForward(program: Program, runs: number, warmup = 1, batch = 1, timer: Timer = timeRuns): Promise<ForwardBench> {
  const graph = program.models[program.generator];
  const params = createParams(graph, 0);
  const x = tf.randomUniform(batchShape(program, batch), 0, 1, 'float32', 1);
  try {
    const times = await timer(async () => {
      const outputs = runGraph(graph, [x], params);
      await Promise.all(outputs.map((o) => o.data()));
      tf.dispose(outputs);
    }, runs, warmup);
    const gflop = (graphCost(graph).flops * batch) / 1e9;
    const forwardMs = median(times);
    return { forwardMs, forwardRunsMs: times, gflop, gflopPerSecond: gflop / (forwardMs / 1000) };
  } finally {
    x.dispose();
    disposeParams(params);
  }
}

export interface TrainBench {
  trainStepMs: number;
  trainStepRunsMs: number[];
  /** The generator's arithmetic of one step, forward and backward (cost.ts: trainingFlops). */
  trainGflop: number;
  trainGflopPerSecond: number;
}

/** One training step of the file's loss and optimizer (`batch` random images at the
 *  program's input size): forward, backward, Adam, and the discriminator's step when the
 *  loss is adversarial. */
export async function benchTrainStep(program: Program, runs: number, warmup = 1, batch = 1, timer: Timer = timeRuns): Promise<TrainBench> {
  const { Trainer } = await import('./train/trainer.js');
  const trainer = new Trainer(program, 0);
  const shape = batchShape(program, batch);
  const size = shape.reduce((a, b) => a * b, 1);
  const random = (seed: number) => Float32Array.from({ length: size }, (_, i) => ((i * 2654435761 + seed) % 1000) / 1000);
  const images = { blur: random(1), sharp: random(2), shape };
  try {
    const times = await timer(() => void trainer.trainStep(images), runs, warmup);
    const trainStepMs = median(times);
    const trainGflop = (trainingFlops(program.models[program.generator]) * batch) / 1e9;
    return { trainStepMs, trainStepRunsMs: times, trainGflop, trainGflopPerSecond: trainGflop / (trainStepMs / 1000) };
  } finally {
    trainer.dispose();
  }
}
