// The 'onednn' backend against the plain tfjs CPU backend ('cpu', pure JavaScript): the
// same functions on the same data must agree within 1e-4 relative, forward and gradients.
import { spawnSync } from 'node:child_process';
import { beforeAll, describe, expect, it } from 'vitest';
import { tf } from '../src/runtime/tf.js';
import { ONEDNN_BACKEND, oneDnnInfo, registerOneDnnBackend, releaseOneDnnMemory } from '../src/runtime/backends/onednn.js';
import { conv2dWithPostOps, type ConvPostOps } from '../src/runtime/conv.js';
import {
  PLAIN,
  type ConvCase,
  convInputs,
  expectClose,
  expectSameOnBoth,
  label,
  on,
  tensor,
  tfPad,
  values,
  weightedSum,
} from './helpers/backend-compare.js';

beforeAll(() => {
  expect(registerOneDnnBackend()).toEqual({ ok: true });
});

// Strides 1, 2, 4; kernels 1, 4, 5 (and non-square); odd, non-square sizes; batch > 1;
// symmetric, asymmetric and zero padding; pads that leave input rows unused.
const CASES: ConvCase[] = [
  { n: 1, h: 7, w: 9, c: 3, k: [5, 5], oc: 4, stride: [1, 1], pad: [2, 2, 2, 2] },
  { n: 2, h: 9, w: 6, c: 5, k: [4, 4], oc: 3, stride: [2, 2], pad: [1, 2, 1, 2] },
  { n: 3, h: 11, w: 13, c: 4, k: [1, 1], oc: 6, stride: [4, 4], pad: [0, 0, 0, 0] },
  { n: 2, h: 10, w: 7, c: 6, k: [5, 4], oc: 5, stride: [2, 1], pad: [2, 1, 0, 3] },
  { n: 1, h: 13, w: 9, c: 2, k: [4, 5], oc: 3, stride: [4, 2], pad: [1, 0, 2, 2] },
  { n: 2, h: 8, w: 8, c: 16, k: [5, 5], oc: 16, stride: [1, 1], pad: [2, 2, 2, 2] },
];

describe('tf.conv2d / tf.fused.conv2d kernels', () => {
  for (const c of CASES) {
    it(`forward, dx and dW: ${label(c)}`, async () => {
      await expectSameOnBoth(() => {
        const { x, filter } = convInputs(c);
        const y = tf.conv2d(x, filter, c.stride, tfPad(c.pad));
        const [dx, dw] = tf.grads((a, b) => weightedSum(tf.conv2d(a as tf.Tensor4D, b as tf.Tensor4D, c.stride, tfPad(c.pad)), 4))([x, filter]);
        return [y, dx, dw];
      });
    });
  }

  it('backward-weights in either activation layout (NETC_CONV_LAYOUT=nhwc, blocked; auto times both) matches the plain kernel', async () => {
    const c = CASES[CASES.length - 1]; // 16 channels: both layouts have direct kernels
    const gradients = () => {
      const { x, filter } = convInputs(c);
      return [tf.grad((b) => weightedSum(tf.conv2d(x as tf.Tensor4D, b as tf.Tensor4D, c.stride, tfPad(c.pad)), 4))(filter)];
    };
    const reference = await on(PLAIN, gradients);
    const saved = process.env.NETC_CONV_LAYOUT;
    try {
      for (const [setting, blocked] of [['nhwc', false], ['blocked', true], ['auto', undefined]] as const) {
        process.env.NETC_CONV_LAYOUT = setting;
        releaseOneDnnMemory(); // drops the cached plans: the next call makes its plan anew
        expectClose(await on(ONEDNN_BACKEND, gradients), reference);
        if (blocked !== undefined) expect(oneDnnInfo()!.blockedWeightGradPlans > 0, setting).toBe(blocked);
      }
    } finally {
      if (saved === undefined) delete process.env.NETC_CONV_LAYOUT;
      else process.env.NETC_CONV_LAYOUT = saved;
      releaseOneDnnMemory();
    }
  });

  it('padding modes same and valid', async () => {
    for (const pad of ['same', 'valid'] as const) {
      await expectSameOnBoth(() => {
        const { x, filter } = convInputs(CASES[4]);
        const y = tf.conv2d(x, filter, [3, 2], pad);
        const [dx, dw] = tf.grads((a, b) => weightedSum(tf.conv2d(a as tf.Tensor4D, b as tf.Tensor4D, [3, 2], pad), 5))([x, filter]);
        return [y, dx, dw];
      });
    }
  });

  for (const activation of ['linear', 'relu', 'leakyrelu'] as const) {
    for (const withBias of [false, true]) {
      it(`FusedConv2D inference: ${activation}${withBias ? ' + bias' : ''}`, async () => {
        for (const c of [CASES[1], CASES[3]]) {
          await expectSameOnBoth(() => {
            const { x, filter, bias } = convInputs(c);
            const y = tf.fused.conv2d({
              x,
              filter,
              strides: c.stride,
              pad: tfPad(c.pad),
              bias: withBias ? bias : undefined,
              activation,
              leakyreluAlpha: 0.1,
            });
            return [y];
          });
        }
      });
    }
  }

  for (const activation of ['linear', 'relu'] as const) {
    it(`training through tf.fused.conv2d (${activation} + bias): gradients of x, filter, bias`, async () => {
      const c = CASES[3];
      await expectSameOnBoth(() => {
        const { x, filter, bias } = convInputs(c);
        const f = (a: tf.Tensor, b: tf.Tensor, d: tf.Tensor) =>
          weightedSum(
            tf.fused.conv2d({ x: a as tf.Tensor4D, filter: b as tf.Tensor4D, strides: c.stride, pad: tfPad(c.pad), bias: d, activation }),
            6,
          );
        return [f(x, filter, bias), ...tf.grads(f)([x, filter, bias])];
      });
    });
  }

  it('a few Adam steps through fused convs give the same parameters', async () => {
    await expectSameOnBoth(() => {
      const w1 = tf.variable(tensor([3, 3, 3, 8], 7).mul(0.3));
      const b1 = tf.variable(tensor([8], 8).mul(0.1));
      const w2 = tf.variable(tensor([3, 3, 8, 3], 9).mul(0.3));
      const x = tensor([2, 9, 7, 3], 10) as tf.Tensor4D;
      const target = tensor([2, 9, 7, 3], 11);
      const optimizer = tf.train.adam(0.01);
      for (let step = 0; step < 3; step++) {
        optimizer.minimize(() => {
          const h = tf.fused.conv2d({ x, filter: w1 as tf.Tensor4D, strides: 1, pad: 'same', bias: b1, activation: 'relu' });
          const y = tf.add(tf.conv2d(h, w2 as tf.Tensor4D, 1, 'same'), x);
          return tf.losses.meanSquaredError(target, y) as tf.Scalar;
        });
      }
      const result = [w1, b1, w2].map((v) => v.clone());
      optimizer.dispose();
      [w1, b1, w2].forEach((v) => v.dispose());
      return result;
    });
  });

  it('NCHW and dilated convolutions fall back to (or match) the plain kernels', async () => {
    const f = () => {
      const x = tensor([1, 3, 8, 7], 12) as tf.Tensor4D;
      const filter = tensor([3, 3, 3, 4], 13) as tf.Tensor4D;
      const nchw = tf.conv2d(x, filter, 1, 'same', 'NCHW');
      const dilated = tf.conv2d(x.reshape([1, 8, 7, 3]), filter, 1, 'valid', 'NHWC', 2);
      return [nchw, dilated];
    };
    expectClose(await on(ONEDNN_BACKEND, f), await on(PLAIN, f));
  });
});

describe('conv2dWithPostOps', () => {
  const variants: { name: string; bias: boolean; residual: boolean; activation?: ConvPostOps['activation'] }[] = [
    { name: 'plain', bias: false, residual: false },
    { name: 'bias', bias: true, residual: false },
    { name: 'bias + relu', bias: true, residual: false, activation: 'relu' },
    { name: 'leaky relu', bias: false, residual: false, activation: 'leaky_relu' },
    { name: 'bias + residual', bias: true, residual: true },
    { name: 'residual + relu', bias: false, residual: true, activation: 'relu' },
    { name: 'bias + residual + leaky relu', bias: true, residual: true, activation: 'leaky_relu' },
    { name: 'bias + sigmoid (unfused activation)', bias: true, residual: false, activation: 'sigmoid' },
  ];
  for (const v of variants) {
    for (const c of [CASES[0], CASES[3], CASES[4]]) {
      it(`${v.name}: ${label(c)}: forward and gradients of every input`, async () => {
        await expectSameOnBoth(() => {
          const { x, filter, bias } = convInputs(c);
          const oh = Math.floor((c.h + c.pad[0] + c.pad[1] - c.k[0]) / c.stride[0]) + 1;
          const ow = Math.floor((c.w + c.pad[2] + c.pad[3] - c.k[1]) / c.stride[1]) + 1;
          const residual = tensor([c.n, oh, ow, c.oc], 14);
          const inputs = [x, filter, ...(v.bias ? [bias] : []), ...(v.residual ? [residual] : [])];
          const f = (...args: tf.Tensor[]) =>
            weightedSum(
              conv2dWithPostOps(args[0] as tf.Tensor4D, args[1] as tf.Tensor4D, {
                strides: c.stride,
                pad: c.pad,
                bias: v.bias ? args[2] : undefined,
                residual: v.residual ? args[v.bias ? 3 : 2] : undefined,
                activation: v.activation,
                alpha: 0.2,
              }),
              15,
            );
          return [f(...inputs), ...tf.grads(f)(inputs)];
        });
      });
    }
  }

  it('gives the filter or the bias gradient alone (one native pass computes both) without leaking', async () => {
    const f = () => {
      const { x, filter, bias } = convInputs(CASES[0]);
      const conv = (w: tf.Tensor, b: tf.Tensor) =>
        weightedSum(conv2dWithPostOps(x as tf.Tensor4D, w as tf.Tensor4D, { strides: [1, 1], pad: [1, 1, 1, 1], bias: b, activation: 'relu' }), 19);
      return [tf.grad((w) => conv(w, bias))(filter), tf.grad((b) => conv(filter, b))(bias)];
    };
    expectClose(await on(ONEDNN_BACKEND, f), await on(PLAIN, f));
    await tf.setBackend(ONEDNN_BACKEND);
    const before = tf.memory().numTensors;
    tf.dispose(tf.tidy(f));
    expect(tf.memory().numTensors).toBe(before);
  });

  it('a residual that is the conv input itself gets both gradients', async () => {
    await expectSameOnBoth(() => {
      const x = tensor([1, 6, 5, 4], 16) as tf.Tensor4D;
      const filter = tensor([3, 3, 4, 4], 17) as tf.Tensor4D;
      const f = (a: tf.Tensor, b: tf.Tensor) =>
        weightedSum(conv2dWithPostOps(a as tf.Tensor4D, b as tf.Tensor4D, { strides: [1, 1], pad: [1, 1, 1, 1], residual: a, activation: 'relu' }), 18);
      return tf.grads(f)([x, filter]);
    });
  });
});

describe('elementwise kernels', () => {
  const shapes: [number[], number[]][] = [
    [[2, 3, 4, 5], [2, 3, 4, 5]],
    [[2, 3, 4, 5], [5]],
    [[2, 3, 4, 5], [1, 1, 1, 1]],
    [[2, 3, 4, 5], []],
    [[1, 1, 1, 1], [2, 3, 4, 5]],
    [[2, 1, 4, 1], [3, 1, 5]],
    [[300, 400], [300, 400]], // large enough for the threaded loop
    [[2, 128, 128, 3], []], // threaded: one row split over the threads
    [[4, 64, 64, 16], [16]], // threaded rows of a bias add
    [[8, 1, 100, 1], [5, 1, 70]], // threaded rows that start mid-way through the outer axes
  ];
  for (const [aShape, bShape] of shapes) {
    it(`add, sub, mul, div: [${aShape}] with [${bShape}]`, async () => {
      await expectSameOnBoth(() => {
        const a = tensor(aShape, 19);
        const b = tensor(bShape, 20).add(3); // away from 0 for div
        return [tf.add(a, b), tf.sub(a, b), tf.mul(a, b), tf.div(a, b), tf.sub(b, a), tf.div(b, a.add(5))];
      }, false);
    });
  }

  it('relu, step, square, sqrt, abs (NaN propagates as in tfjs)', async () => {
    await expectSameOnBoth(() => {
      const x = tf.concat([tensor([300, 400], 21).reshape([-1]), tf.tensor1d([0, -0, NaN])]);
      const isNaN = (t: tf.Tensor) => tf.cast(tf.isNaN(t), 'float32');
      const outputs = [tf.relu(x), tf.step(x), tf.step(x, 0.3), tf.square(x), tf.sqrt(x), tf.sqrt(tf.abs(x)), tf.abs(x)];
      return outputs.flatMap((y) => [isNaN(y), tf.where(tf.isNaN(y), 0, y)]);
    }, false);
  });

  it('sum and mean over axes, with and without keepDims', async () => {
    await expectSameOnBoth(() => {
      const x = tensor([2, 3, 4, 5], 22);
      const out: tf.Tensor[] = [];
      for (const axis of [undefined, 0, 3, -1, [0, 1, 2], [1, 3], [0, 2]]) {
        for (const keepDims of [false, true]) out.push(tf.sum(x, axis, keepDims), tf.mean(x, axis, keepDims));
      }
      // Large enough for the threaded sum over leading axes (a bias gradient).
      const large = tensor([3, 50, 70, 13], 30);
      out.push(tf.sum(large, [0, 1, 2]), tf.mean(large, [0, 1], true), tf.sum(large, [0, 1, 2, 3]), tf.sum(large, [1, 2]));
      return out;
    }, false);
  });

  it('slice and split (the gradient of a concat) along every axis', async () => {
    await expectSameOnBoth(() => {
      const x = tensor([2, 5, 6, 7], 23);
      return [
        tf.slice(x, [1, 2, 1, 3], [1, 3, 4, 4]),
        tf.slice(x, [0, 0, 0, 0], [-1, -1, -1, 2]),
        tf.slice(x, [0, 4, 0, 0], [2, 1, 6, 7]), // contiguous
        tf.slice(x, [1, 1, 1, 1], [1, 0, 2, 2]), // empty
        tf.slice(tensor([300, 400], 24), [7, 100], [250, 290]), // long runs
        ...tf.split(x, [3, 4], 3),
        ...tf.split(x, 3, 2),
        ...tf.split(x, [1, 1, 3], 1),
        ...tf.split(x, 2, 0),
        ...tf.split(tensor([9], 25), [2, 7]),
        // Above the addon's threshold for two threads (2^16 elements): rows split between them.
        ...tf.split(tensor([1, 48, 64, 48], 38), [16, 32], 3),
        tf.slice(tensor([3, 200, 300], 39), [1, 17, 0], [2, 150, 300]), // two partial axes: a strided copy, two threads
        tf.slice(tensor([4, 5, 6, 7], 40), [1, 2, 3, 4], [2, 2, 2, 2]), // every axis partial
      ];
    }, false);
  });

  it('transpose (pixel shuffle), gather along an axis (reflect padding), concat', async () => {
    await expectSameOnBoth(() => {
      const x = tensor([2, 3, 4, 5], 26);
      const shuffle = tensor([1, 6, 7, 3, 2, 2], 27);
      const reflect = (n: number) => tf.tensor1d([2, 1, ...Array.from({ length: n }, (_, i) => i), n - 2, n - 3], 'int32');
      return [
        tf.transpose(x),
        tf.transpose(x, [0, 2, 1, 3]),
        tf.transpose(x, [3, 0, 1, 2]),
        tf.transpose(shuffle, [0, 1, 4, 2, 5, 3]),
        tf.transpose(tensor([300, 200], 28)), // two threads
        tf.transpose(tensor([1, 40, 50, 16, 2, 2], 41), [0, 1, 4, 2, 5, 3]), // pixel shuffle, two threads
        tf.transpose(tensor([7], 42)),
        tf.gather(x, reflect(4), 2),
        tf.gather(x, reflect(3), 1),
        tf.gather(x, tf.tensor2d([[1, 0], [0, 1]], [2, 2], 'int32'), 0),
        tf.gather(tensor([10, 100], 29), tf.tensor1d([9, 0, 3], 'int32'), 0), // long rows
        tf.gather(x, tf.tensor1d([4, 4, 0], 'int32'), -1),
        tf.gather(tensor([2, 140, 134, 3], 43), reflect(134), 2), // the pyramid's padding, two threads
        tf.concat([x, tensor([2, 3, 4, 2], 31)], 3),
        tf.concat([x, tensor([2, 1, 4, 5], 32), x], 1),
        tf.concat([x, x], 0),
        tf.concat([tensor([30, 100], 33), tensor([30, 3], 34)], -1),
        tf.concat([tensor([4], 35)], 0),
        tf.concat([tensor([1, 48, 64, 16], 36), tensor([1, 48, 64, 32], 37)], 3), // two threads
      ];
    }, false);
  });
});

describe('registration and memory', () => {
  it('registering twice is harmless', async () => {
    expect(registerOneDnnBackend()).toEqual({ ok: true });
    const fastKernels = tf.getKernelsForBackend(ONEDNN_BACKEND).length;
    expect(fastKernels).toBeGreaterThanOrEqual(tf.getKernelsForBackend(PLAIN).length);
    expect(registerOneDnnBackend()).toEqual({ ok: true });
    expect(tf.getKernelsForBackend(ONEDNN_BACKEND).length).toBe(fastKernels);
    await expectSameOnBoth(() => {
      const { x, filter } = convInputs(CASES[0]);
      return [tf.conv2d(x, filter, 1, 'same')];
    }, false);
  });

  it('tensors and process memory stay flat over 1,000 forward + backward calls', async () => {
    await tf.setBackend(ONEDNN_BACKEND);
    const x = tensor([2, 16, 16, 8], 23) as tf.Tensor4D;
    const filter = tf.variable(tensor([3, 3, 8, 8], 24)) as tf.Variable<tf.Rank.R4>;
    const bias = tf.variable(tensor([8], 25));
    const step = () =>
      tf.tidy(() => {
        const { value, grads } = tf.variableGrads(() =>
          tf.mean(conv2dWithPostOps(tf.conv2d(x, filter, 1, 'same'), filter, { strides: [1, 1], pad: [1, 1, 1, 1], bias, residual: x, activation: 'relu' })),
        );
        value.dataSync();
        Object.values(grads).forEach((g) => g.dataSync());
      });
    for (let i = 0; i < 50; i++) step(); // warm-up: plans, scratch buffers, JIT
    const tensors = tf.memory().numTensors;
    const rss = process.memoryUsage().rss;
    for (let i = 0; i < 1000; i++) step();
    expect(tf.memory().numTensors).toBe(tensors);
    expect(process.memoryUsage().rss - rss).toBeLessThan(64 * 1024 * 1024);
    // Releasing the native caches is safe: the next call rebuilds them.
    releaseOneDnnMemory();
    expect(oneDnnInfo()!.cachedPlans).toBe(0);
    const calls = oneDnnInfo()!.convCalls;
    step();
    expect(oneDnnInfo()!.convCalls).toBeGreaterThan(calls);
    x.dispose();
    filter.dispose();
    bias.dispose();
  });

  // The kernel's own record of each thread's scheduling class (/proc/<pid>/task/<tid>/stat,
  // field 41: 0 SCHED_OTHER, 5 SCHED_IDLE), read in a fresh process that loads the backend.
  const POLICIES = `
    import { readdirSync, readFileSync } from 'node:fs';
    import { Worker } from 'node:worker_threads';
    const { registerOneDnnBackend } = await import(${JSON.stringify(new URL('../dist/src/runtime/backends/onednn.js', import.meta.url).href)});
    const policyOf = (tid) => Number(readFileSync('/proc/self/task/' + tid + '/stat', 'utf8').split(') ')[1].split(' ')[38]);
    const before = new Set(readdirSync('/proc/self/task'));
    registerOneDnnBackend();
    const worker = new Worker('setInterval(() => {}, 1000)', { eval: true });
    await new Promise((resolve) => worker.once('online', resolve));
    const later = readdirSync('/proc/self/task').filter((tid) => !before.has(tid));
    const helpers = [...before].filter((tid) => tid !== String(process.pid));
    console.log(JSON.stringify({ main: policyOf(process.pid), helpers: helpers.map(policyOf), later: later.map(policyOf) }));
    await worker.terminate();
  `;
  const policies = (env: Record<string, string>) => {
    const r = spawnSync(process.execPath, ['--input-type=module', '-e', POLICIES], { encoding: 'utf8', env: { ...process.env, ...env } });
    expect(r.status, r.stderr).toBe(0);
    return JSON.parse(r.stdout) as { main: number; helpers: number[]; later: number[] };
  };

  it("moves the process's helper threads to SCHED_IDLE, and only those that existed before it loaded", () => {
    const { main, helpers, later } = policies({});
    expect(main).toBe(0);
    expect(helpers.length).toBeGreaterThan(0); // V8's platform threads
    expect(helpers.every((policy) => policy === 5)).toBe(true);
    expect(later.length).toBeGreaterThan(0); // the worker (and OpenMP's, if started)
    expect(later.every((policy) => policy === 0)).toBe(true);
    const opted = policies({ NETC_HELPER_THREADS: 'normal' });
    expect([opted.main, ...opted.helpers, ...opted.later].every((policy) => policy === 0)).toBe(true);
  });
});
