// upsample and avg_pool in the language: the mistakes one can make with them (exact
// message, line, column), and what the cost model says, checked against independent
// numbers (the PyTorch fixture's weight shapes; the input region that autodiff finds an
// output pixel depends on).
import { describe, expect, it } from 'vitest';
import { graphCost } from '../../src/compiler/cost.js';
import { compileSource } from '../../src/compiler/index.js';
import { sizeMultiple } from '../../src/compiler/ops.js';
import { initBackend } from '../../src/runtime/backends/index.js';
import { runGraph } from '../../src/runtime/execute.js';
import { createParams, disposeParams } from '../../src/runtime/params.js';
import { tf } from '../../src/runtime/tf.js';
import { expectDiagnostics, inModel, type Expected } from '../helpers/diagnostics.js';
import { compileModel } from '../helpers/models.js';
import { UPDOWN_MODEL, opArray } from '../helpers/op-fixtures.js';

const cases: { name: string; line: string; expected: Expected[] }[] = [
  { name: 'unknown mode', line: 'output blur -> upsample(2, mode = linear)', expected: [{ message: "unknown name 'linear' (did you mean 'bilinear'?)", line: 2, column: 37 }] },
  { name: 'mode not a mode', line: 'output blur -> upsample(2, mode = 3)', expected: [{ message: "upsample: 'mode' must be nearest or bilinear, not the number 3", line: 2, column: 37 }] },
  { name: 'factor 0', line: 'output blur -> upsample(0)', expected: [{ message: "upsample: 'factor' must be at least 1, got 0", line: 2, column: 18 }] },
  { name: 'fractional factor', line: 'output blur -> upsample(1.5)', expected: [{ message: "upsample: 'factor' must be an integer, not the number 1.5", line: 2, column: 27 }] },
  { name: 'upsample needs a factor', line: 'output blur -> upsample(mode = bilinear)', expected: [{ message: "'upsample' is missing argument 'factor'", line: 2, column: 18 }] },
  { name: 'too many', line: 'output blur -> upsample(2, bilinear, 3)', expected: [{ message: "'upsample' takes at most 2 arguments, got 3", line: 2, column: 40 }] },
  { name: 'upsample of a vector', line: 'output blur -> flatten -> upsample(2)', expected: [{ message: 'upsample: expects an image (HxWxC) but got a 1-d value', line: 2, column: 29 }] },
  { name: 'window too large', line: 'output blur -> avg_pool(5)', expected: [{ message: 'avg_pool: window 5 does not fit a 4x4 input', line: 2, column: 18 }] },
  { name: 'stride 0', line: 'output blur -> avg_pool(2, stride = 0)', expected: [{ message: "avg_pool: 'stride' must be at least 1, got 0", line: 2, column: 18 }] },
  { name: 'fractional kernel', line: 'output blur -> avg_pool(2.5)', expected: [{ message: "avg_pool: 'kernel' must be an integer, not the number 2.5", line: 2, column: 27 }] },
  { name: 'pooled residual', line: 'output blur -> avg_pool(2) + blur', expected: [{ message: 'add: needs equal shapes, got 2x2x3 and 4x4x3', line: 2, column: 10 }] },
];

describe('upsample and avg_pool: mistakes', () => {
  it.each(cases)('$name', ({ line, expected }) => expectDiagnostics(inModel(line), expected, { input: [4, 4] }));

  it('valid uses compile to the shapes PyTorch gives', () => {
    const { program } = compileSource(inModel('a = blur -> avg_pool(3, stride = 2)', 'b = blur -> upsample(3, mode = bilinear)', 'output A = a', 'output B = b'), 't.net', { input: [7, 6] });
    expect(program.models.G.outputs.map((o) => o.shape)).toEqual([[1, 3, 2, 3], [1, 21, 18, 3]]);
    expect(opArray('avg_pool_3_stride_2.y').shape.slice(1, 3)).toEqual([3, 2]); // F.avg_pool2d on 7x6
  });
});

describe('upsample and avg_pool: cost', () => {
  it('updown.net: parameters and FLOPs from the PyTorch network\'s weight shapes; resampling adds none', () => {
    const program = compileModel(UPDOWN_MODEL, {}, [12, 16]);
    const cost = graphCost(program.models.Net);
    const convs = [0, 1, 2].map((i) => opArray(`updown.conv${i}.weight`).shape); // OIHW
    const biases = [0, 1, 2].map((i) => opArray(`updown.conv${i}.bias`).shape[0]);
    const sides = [[12, 16], [6, 8], [12, 16]]; // conv0 full size, conv1 after avg_pool(2), conv2 full size
    expect(cost.params).toBe(convs.reduce((s, [o, i, kh, kw]) => s + o * i * kh * kw, 0) + biases.reduce((a, b) => a + b, 0));
    expect(cost.flops).toBe(convs.reduce((s, [o, i, kh, kw], n) => s + 2 * sides[n][0] * sides[n][1] * o * i * kh * kw, 0));
    expect(cost.convs).toBe(3);
    // avg_pool(2) halves and avg_pool(3, stride = 2) strides: inputs must be even (deblur pads).
    expect(sizeMultiple(program.models.Net)).toBe(2);
  });

  it.each([
    ['avg_pool(3, stride = 2) -> conv(3, 3)', [21, 21]],
    ['avg_pool(2) -> conv(3, 3) -> upsample(2, mode = bilinear)', [24, 24]],
    ['upsample(2, mode = bilinear) -> conv(3, 3)', [12, 12]],
  ] as const)('receptive field of %s is the largest input region an output pixel depends on', async (chain, size) => {
    await initBackend('tfjs-cpu');
    const { program } = compileSource(inModel(`output Y = blur -> ${chain}`), 't.net', { input: [...size] });
    const graph = program.models.G;
    const params = createParams(graph, 1);
    const x = tf.randomUniform([1, ...size, 3], 0, 1, 'float32', 2);
    const [, oh, ow] = graph.outputs[0].shape;
    let widest = 0;
    // Interior output pixels (away from the borders, where padding and clamping cut regions short).
    for (let r = Math.floor(oh / 3); r < Math.ceil((2 * oh) / 3); r++) {
      for (let c = Math.floor(ow / 3); c < Math.ceil((2 * ow) / 3); c++) {
        const g = tf.tidy(() => tf.grad((t: tf.Tensor) => runGraph(graph, [t], params)[0].slice([0, r, c, 0], [1, 1, 1, 1]).sum())(x).abs().sum([0, 3]).dataSync());
        const rows = [...Array(size[0]).keys()].filter((i) => [...Array(size[1]).keys()].some((j) => g[i * size[1] + j] > 0));
        widest = Math.max(widest, rows[rows.length - 1] - rows[0] + 1);
      }
    }
    tf.dispose(x);
    disposeParams(params);
    expect(graphCost(graph).receptiveField.Y).toBe(widest);
  }, 60_000);
});
