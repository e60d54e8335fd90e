// Per-kernel wall time of training steps (or forwards) on the oneDNN backend; a diagnostic,
// not part of npm run bench:
//   node dist/bench/profile-step.js [SIZE=128] [STEPS=3] [forward|train] [MODEL] [BATCH=1] [name=value ...]
// e.g. the smallest bench row: node dist/bench/profile-step.js 128 10 train models/deepdeblur-pytorch.net 4 blocks=2 feats=16
import { compileFile } from '../src/compiler/index.js';
import { ONEDNN_BACKEND, registerOneDnnBackend } from '../src/runtime/backends/onednn.js';
import { nativeAddon } from '../src/runtime/backends/onednn-addon.js';
import { tf } from '../src/runtime/tf.js';
import type { BufferPool } from '../src/runtime/backends/buffer-pool.js';
import { Trainer } from '../src/runtime/train/trainer.js';
import { runGraph } from '../src/runtime/execute.js';
import { median } from '../src/runtime/bench.js';

const size = Number(process.argv[2] ?? 128);
const steps = Number(process.argv[3] ?? 3);
registerOneDnnBackend();
type Times = Map<string, { ms: number; calls: number }>;
/** `fn`, adding each call's wall time to `times` under `name`. */
function timed<A extends unknown[], R>(times: Times, name: string, fn: (...args: A) => R): (...args: A) => R {
  return (...args) => {
    const start = performance.now();
    const result = fn(...args);
    const entry = times.get(name) ?? { ms: 0, calls: 0 };
    entry.ms += performance.now() - start;
    entry.calls++;
    times.set(name, entry);
    return result;
  };
}
const times: Times = new Map();
for (const config of tf.getKernelsForBackend(ONEDNN_BACKEND)) {
  tf.unregisterKernel(config.kernelName, ONEDNN_BACKEND);
  tf.registerKernel({ ...config, kernelFunc: timed(times, config.kernelName, config.kernelFunc) });
}
await tf.setBackend(ONEDNN_BACKEND);
// The addon's own calls, timed too: NetcConv2D's gradient calls convBackwardWeights directly.
const addonTimes: Times = new Map();
const addon = nativeAddon() as unknown as Record<string, unknown>;
for (const [name, fn] of Object.entries(addon)) {
  if (typeof fn === 'function') addon[name] = timed(addonTimes, name, fn as (...args: unknown[]) => unknown);
}
const modelFile = process.argv[5] ?? 'models/deepdeblur-pytorch.net';
const batchSize = Number(process.argv[6] ?? 1);
const set = Object.fromEntries(process.argv.slice(7).map((kv) => kv.split('=')).map(([k, v]) => [k, Number(v)]));
const { program } = compileFile(modelFile, { input: [size, size], set });
const trainer = new Trainer(program, 0);
const [, h, w, c] = program.models[program.generator].inputs[0].shape as [number, number, number, number];
const shape: [number, number, number, number] = [batchSize, h, w, c];
const n = shape.reduce((a, b) => a * b, 1);
const random = (seed: number) => Float32Array.from({ length: n }, (_, i) => ((i * 2654435761 + seed) % 1000) / 1000);
const batch = { blur: random(1), sharp: random(2), shape };
const forwardOnly = process.argv[4] === 'forward';
const blur = tf.tensor4d(batch.blur, shape);
const step = forwardOnly ? () => tf.tidy(() => runGraph(trainer.generator, [blur], trainer.params).forEach((t) => t.dataSync())) : () => trainer.trainStep(batch);
step();
times.clear();
addonTimes.clear();
const pool = (tf.backend() as unknown as { pool: BufferPool }).pool;
const poolBefore = { ...pool.stats };
const total: number[] = [];
// GC pauses during the timed steps (external ArrayBuffer churn triggers mark-compacts).
const { PerformanceObserver } = await import('node:perf_hooks');
let gcMs = 0;
let gcCount = 0;
const observer = new PerformanceObserver((list) => list.getEntries().forEach((e) => { gcMs += e.duration; gcCount++; }));
observer.observe({ entryTypes: ['gc'] });
for (let i = 0; i < steps; i++) {
  const start = performance.now();
  step();
  total.push(performance.now() - start);
}
await new Promise((resolve) => setTimeout(resolve, 10));
observer.disconnect();
console.log(`GC: ${(gcMs / steps).toFixed(0)} ms/step in ${(gcCount / steps).toFixed(0)} pauses`);
const perStep = (key: keyof BufferPool['stats']) => ((pool.stats[key] - poolBefore[key]) / steps).toFixed(0);
const mib = (key: keyof BufferPool['stats']) => (Number(perStep(key)) / 2 ** 20).toFixed(0);
console.log(`output buffers per step: ${mib('takenBytes')} MiB in ${perStep('reused')} reused and ${perStep('allocated')} new (${mib('allocatedBytes')} MiB)`);
const kernelSum = [...times.values()].reduce((a, b) => a + b.ms, 0) / steps;
console.log(`steps ms: ${total.map((t) => t.toFixed(0)).join(' ')}; kernels ${kernelSum.toFixed(0)} ms/step`);
// NetcConv2D's gradient calls the addon for filter + bias gradients directly (one pass for
// both), so they are not a registered kernel: they are most of this remainder.
console.log(`outside kernels (conv filter/bias gradients, JavaScript): ${(median(total) - kernelSum).toFixed(0)} ms/step`);
const addonSum = [...addonTimes.values()].reduce((a, b) => a + b.ms, 0) / steps;
const meanStep = total.reduce((a, b) => a + b, 0) / steps;
console.log(`in the addon ${addonSum.toFixed(1)} ms/step; everything else (JavaScript: tfjs, netc) ${(meanStep - addonSum).toFixed(1)} ms of the mean step ${meanStep.toFixed(1)} ms`);
for (const [name, { ms, calls }] of [...addonTimes].sort((a, b) => b[1].ms - a[1].ms)) {
  console.log(`addon ${name.padEnd(18)} ${(ms / steps).toFixed(1).padStart(8)} ms ${String(calls / steps).padStart(6)} calls`);
}
for (const [name, { ms, calls }] of [...times].sort((a, b) => b[1].ms - a[1].ms).slice(0, 25)) {
  console.log(`${name.padEnd(24)} ${(ms / steps).toFixed(1).padStart(8)} ms ${String(calls / steps).padStart(6)} calls`);
}
trainer.dispose();
