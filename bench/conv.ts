// One 5x5, 64 -> 64 channel convolution at 128x128 (batch 1, 'same' padding): forward and
// forward + backward (dx and dW) on the oneDNN backend, forward on plain tfjs CPU (its
// backward takes minutes). Run directly (`npx tsx bench/conv.ts`) to print the JSON.
import { pathToFileURL } from 'node:url';
import { ONEDNN_BACKEND, oneDnnInfo, registerOneDnnBackend } from '../src/runtime/backends/onednn.js';
import { median, timeRuns } from '../src/runtime/bench.js';
import { tf } from '../src/runtime/tf.js';

export interface ConvBenchOptions {
  /** Timed runs per measurement on oneDNN (after one warm-up); the median is reported. */
  runs?: number;
  /** Timed forward runs on plain tfjs CPU (no warm-up; ~3 s each); 0 skips it. */
  plainRuns?: number;
}

export interface ConvBenchResult {
  conv: string;
  /** GFLOP of one forward pass (2 per multiply-add); forward + backward is 3x. */
  gflopForward: number;
  onednn:
    | { available: true; version: string; threads: number; forwardMs: number; forwardRunsMs: number[]; forwardGflopPerSecond: number; forwardBackwardMs: number; forwardBackwardRunsMs: number[]; forwardBackwardGflopPerSecond: number }
    | { available: false; reason: string };
  tfjsCpu?: { forwardMs: number; forwardGflopPerSecond: number };
}

const SIZE = 128;
const CHANNELS = 64;
const KERNEL = 5;

/** Wall times (ms) of `f`'s runs, whose result is read back so that all work is counted. */
async function timeMs(f: () => tf.Tensor[], runs: number, warmUp: boolean): Promise<number[]> {
  const once = () => {
    const outputs = tf.tidy(f);
    outputs.forEach((t) => t.dataSync());
    tf.dispose(outputs);
  };
  return timeRuns(once, runs, warmUp ? 1 : 0);
}

export async function benchConv(options: ConvBenchOptions = {}): Promise<ConvBenchResult> {
  const runs = options.runs ?? 5;
  const plainRuns = options.plainRuns ?? 1;
  const gflopForward = (2 * SIZE * SIZE * CHANNELS * CHANNELS * KERNEL * KERNEL) / 1e9;
  await tf.ready(); // initializes the default backend, so that there is one to restore
  const previousBackend = tf.getBackend();
  const x = tf.randomNormal([1, SIZE, SIZE, CHANNELS]) as tf.Tensor4D;
  const filter = tf.randomNormal([KERNEL, KERNEL, CHANNELS, CHANNELS], 0, 0.05) as tf.Tensor4D;
  const dy = tf.randomNormal([1, SIZE, SIZE, CHANNELS]);
  const forward = () => [tf.conv2d(x, filter, 1, 'same')];
  // The three kernels of one conv in a training step (what tf.grads runs for it, without
  // the loss around it): forward, input gradient, filter gradient.
  const forwardBackward = () => [
    tf.conv2d(x, filter, 1, 'same'),
    tf.conv2dTranspose(dy as tf.Tensor4D, filter, x.shape, 1, 'same'),
    tf.engine().runKernel('Conv2DBackpropFilter', { x, dy }, {
      strides: [1, 1],
      pad: 'same',
      dataFormat: 'NHWC',
      dimRoundingMode: undefined,
      filterShape: filter.shape,
    } as unknown as tf.NamedAttrMap) as tf.Tensor,
  ];
  const gflops = (gflop: number, ms: number) => Math.round((gflop / (ms / 1000)) * 10) / 10;
  const round = (ms: number) => Math.round(ms * 100) / 100;

  let onednn: ConvBenchResult['onednn'];
  const registered = registerOneDnnBackend();
  if (registered.ok) {
    await tf.setBackend(ONEDNN_BACKEND);
    const forwardRunsMs = await timeMs(forward, runs, true);
    const forwardBackwardRunsMs = await timeMs(forwardBackward, runs, true);
    const forwardMs = median(forwardRunsMs);
    const forwardBackwardMs = median(forwardBackwardRunsMs);
    const info = oneDnnInfo()!;
    onednn = {
      available: true,
      version: info.version,
      threads: info.threads,
      forwardMs: round(forwardMs),
      forwardRunsMs: forwardRunsMs.map(round),
      forwardGflopPerSecond: gflops(gflopForward, forwardMs),
      forwardBackwardMs: round(forwardBackwardMs),
      forwardBackwardRunsMs: forwardBackwardRunsMs.map(round),
      forwardBackwardGflopPerSecond: gflops(3 * gflopForward, forwardBackwardMs),
    };
  } else {
    onednn = { available: false, reason: registered.reason };
  }

  let tfjsCpu: ConvBenchResult['tfjsCpu'];
  if (plainRuns > 0) {
    await tf.setBackend('cpu');
    const forwardMs = median(await timeMs(forward, plainRuns, false));
    tfjsCpu = { forwardMs: round(forwardMs), forwardGflopPerSecond: gflops(gflopForward, forwardMs) };
  }

  tf.dispose([x, filter, dy]);
  await tf.setBackend(previousBackend);
  return {
    conv: `${KERNEL}x${KERNEL} conv ${CHANNELS}->${CHANNELS} channels, ${SIZE}x${SIZE}, batch 1`,
    gflopForward: Math.round(gflopForward * 1000) / 1000,
    onednn,
    tfjsCpu,
  };
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  console.log(JSON.stringify(await benchConv(), null, 2));
}
