// upsample and avg_pool against PyTorch (test/fixtures/ops, made by make.py with Debian's
// torch 1.13), on every backend: each layer alone (forward, and the gradient of
// sum(y * w) with respect to its input), then updown.net with the fixture's weights.
import { describe, expect, it } from 'vitest';
import { compileSource } from '../src/compiler/index.js';
import { initBackend, type BackendName } from '../src/runtime/backends/index.js';
import { runGraph } from '../src/runtime/execute.js';
import { disposeParams, paramsFromArrays } from '../src/runtime/params.js';
import { tf } from '../src/runtime/tf.js';
import { TFJS_BACKEND } from './helpers/backends.js';
import { maxAbsDiff } from './helpers/fixtures.js';
import { compileModel } from './helpers/models.js';
import { OP_CASES, UPDOWN_MODEL, opArray, updownWeights } from './helpers/op-fixtures.js';

// WebGL computes in float32 on the GPU (llvmpipe here), the CPU backends in float32 on the CPU.
const TOLERANCE: Record<BackendName, number> = { 'tfjs-cpu': 1e-6, cpu: 1e-6, webgl: 1e-5 };

const backends: BackendName[] = ['tfjs-cpu', 'cpu', 'webgl'];

describe.each(backends)('upsample and avg_pool equal PyTorch on %s', (backend) => {
  it.each(OP_CASES)('$layer ($name): forward and input gradient', async ({ name, layer }) => {
    const info = await initBackend(backend);
    expect(info.tfjsBackend).toBe(TFJS_BACKEND[backend]);
    const x = opArray(`${name}.x`), w = opArray(`${name}.w`), y = opArray(`${name}.y`), dx = opArray(`${name}.dx`);
    const [, h, width] = x.shape;
    const { program } = compileSource(`model G(blur: rgb) {\n  output blur -> ${layer}\n}\n`, 'op.net', { input: [h, width] });
    const graph = program.models.G;
    // The compiler's shape rule is PyTorch's (the batch aside: the graph is compiled for 1).
    expect(graph.outputs[0].shape.slice(1)).toEqual(y.shape.slice(1));
    const input = tf.tensor(x.data, x.shape);
    const weight = tf.tensor(w.data, w.shape);
    const params = new Map<string, tf.Tensor>();
    const forward = (t: tf.Tensor) => runGraph(graph, [t], params)[0];
    const out = tf.tidy(() => forward(input));
    const grad = tf.tidy(() => tf.grad((t: tf.Tensor) => tf.sum(tf.mul(forward(t), weight)))(input));
    expect(out.shape).toEqual(y.shape);
    expect(maxAbsDiff(out.dataSync(), y.data), 'forward').toBeLessThanOrEqual(TOLERANCE[backend]);
    expect(maxAbsDiff(grad.dataSync(), dx.data), 'gradient').toBeLessThanOrEqual(10 * TOLERANCE[backend]);
    tf.dispose([input, weight, out, grad]);
  }, 60_000);

  it('updown.net with the fixture\'s weights gives PyTorch\'s two outputs', async () => {
    await initBackend(backend);
    const input = opArray('updown.input');
    const program = compileModel(UPDOWN_MODEL, {}, [input.shape[1], input.shape[2]]);
    const graph = program.models[program.generator];
    const params = paramsFromArrays(updownWeights(graph));
    const outputs = tf.tidy(() => runGraph(graph, [tf.tensor(input.data, input.shape)], params));
    ['Y', 'P'].forEach((name, i) => {
      const expected = opArray(`updown.${name}`);
      expect(outputs[i].shape, name).toEqual(expected.shape);
      expect(maxAbsDiff(outputs[i].dataSync(), expected.data), name).toBeLessThanOrEqual(TOLERANCE[backend] * 10);
    });
    tf.dispose(outputs);
    disposeParams(params);
  }, 60_000);
});

describe("upsample's gradient on the CPU backends", () => {
  // tfjs differentiates a gather with UnsortedSegmentSum, whose CPU kernel costs outputs x
  // inputs (a 128x128 training step with bilinear upsampling took 40x longer); netc's own
  // gradient gathers along the transposed index lists instead.
  it.each(['tfjs-cpu', 'cpu'] as const)('runs no UnsortedSegmentSum on %s, and leaks no tensor', async (backend) => {
    await initBackend(backend);
    const { program } = compileSource('model G(blur: rgb) {\n  output blur -> upsample(2, mode = bilinear) -> upsample(3)\n}\n', 'op.net', { input: [8, 6] });
    const graph = program.models.G;
    const x = tf.randomUniform([2, 8, 6, 3]);
    const step = () => tf.tidy(() => tf.grad((t: tf.Tensor) => tf.sum(runGraph(graph, [t], new Map())[0]))(x));
    tf.dispose(step());
    const before = tf.memory().numTensors;
    const info = await tf.profile(() => step());
    tf.dispose(info.result as tf.Tensor);
    expect(info.kernelNames).toContain('GatherV2');
    expect(info.kernelNames).not.toContain('UnsortedSegmentSum');
    expect(tf.memory().numTensors).toBe(before);
    // every input pixel of a 2x then 3x upsampling receives 36 output pixels' gradient of 1
    const g = step();
    expect(Math.min(...g.dataSync())).toBeCloseTo(36, 4);
    expect(Math.max(...g.dataSync())).toBeCloseTo(36, 4);
    tf.dispose([g, x]);
  });
});
