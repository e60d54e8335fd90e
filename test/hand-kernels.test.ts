// The hand-written convolution kernels of the oneDNN addon, each forced on (they normally
// run where timing on a shape's first call finds them faster than oneDNN), against tfjs's
// plain CPU backend: forward, and the gradients of input, filter and bias.
import { beforeAll, describe, expect, it } from 'vitest';
import { tf } from '../src/runtime/tf.js';
import { oneDnnInfo, registerOneDnnBackend } from '../src/runtime/backends/onednn.js';
import { nativeAddon } from '../src/runtime/backends/onednn-addon.js';
import { conv2dWithPostOps, type ConvPostOps } from '../src/runtime/conv.js';
import { PLAIN, type ConvCase, convInputs, expectClose, expectSameOnBoth, label, on, tensor, weightedSum } from './helpers/backend-compare.js';

beforeAll(() => {
  expect(registerOneDnnBackend()).toEqual({ ok: true });
});

/** Runs `body` with the environment variable `name` set to `value`, then restores it. */
async function withEnv(name: string, value: string, body: () => Promise<void>): Promise<void> {
  const saved = process.env[name];
  process.env[name] = value;
  try {
    await body();
  } finally {
    if (saved === undefined) delete process.env[name];
    else process.env[name] = saved;
  }
}

/** conv2dWithPostOps of case c (bias, optional residual, activation with alpha 0.2), and the
 *  gradients of a weighted sum of it with respect to input, filter and bias. */
function convAndGradients(c: ConvCase, activation: ConvPostOps['activation'], residual?: tf.Tensor4D): tf.Tensor[] {
  const { x, filter, bias } = convInputs(c);
  const options = (b: tf.Tensor) => ({ strides: c.stride, pad: c.pad, bias: b as tf.Tensor1D, residual, activation, alpha: 0.2 });
  const f = (a: tf.Tensor, b: tf.Tensor, d: tf.Tensor) => weightedSum(conv2dWithPostOps(a as tf.Tensor4D, b as tf.Tensor4D, options(d)), 16);
  return [conv2dWithPostOps(x, filter, options(bias)), ...tf.grads(f)([x, filter, bias])];
}

const ACTIVATIONS: ConvPostOps['activation'][] = [undefined, 'relu', 'leaky_relu'];

/** For each case and activation: `variable` forces the kernel on, and convAndGradients must
 *  agree with tfjs's CPU backend, the kernel having run (`calls` counts its runs). */
function forcedKernelCases(variable: string, calls: () => number, cases: ConvCase[], residual: boolean, expectRuns: (runs: number) => void) {
  for (const c of cases) {
    for (const activation of ACTIVATIONS) {
      it(`${label(c)}, bias${residual ? ' + residual' : ''}${activation ? ` + ${activation}` : ''}: forward and gradients of x, filter, bias`, async () => {
        await withEnv(variable, 'on', async () => {
          const before = calls();
          await expectSameOnBoth(() => {
            const oh = c.h + c.pad[0] + c.pad[1] - c.k[0] + 1, ow = c.w + c.pad[2] + c.pad[3] - c.k[1] + 1;
            return convAndGradients(c, activation, residual ? (tensor([c.n, oh, ow, c.oc], 5) as tf.Tensor4D) : undefined);
          }, false);
          expectRuns(calls() - before);
        });
      });
    }
  }
}

describe('convolutions with 1-4 output channels (native/src/small-conv.cc, NETC_SMALL_CONV=on)', () => {
  // 16 and 32 input channels (the kernels' condition), 1-4 outputs, kernels 5x5 and 3x5,
  // batch 2, pads that cut taps on every side or leave input rows unused, rows wide enough
  // for the 4-pixel path and rows that are all border; and a 3 -> 16 conv, whose input
  // gradient is a forward 16 -> 3 conv.
  const SMALL: ConvCase[] = [
    { n: 2, h: 9, w: 13, c: 16, k: [5, 5], oc: 3, stride: [1, 1], pad: [2, 2, 2, 2] },
    { n: 1, h: 6, w: 11, c: 32, k: [3, 5], oc: 1, stride: [1, 1], pad: [0, 2, 3, 1] },
    { n: 2, h: 7, w: 3, c: 16, k: [5, 5], oc: 2, stride: [1, 1], pad: [1, 3, 2, 2] },
    { n: 1, h: 8, w: 17, c: 16, k: [5, 3], oc: 4, stride: [1, 1], pad: [2, 2, 1, 1] },
    { n: 2, h: 10, w: 12, c: 3, k: [5, 5], oc: 16, stride: [1, 1], pad: [2, 2, 2, 2] },
  ];
  // small-conv.cc takes no residual
  forcedKernelCases('NETC_SMALL_CONV', () => oneDnnInfo()!.smallConvCalls, SMALL, false, (runs) => expect(runs).toBeGreaterThan(0));
});

describe('5x5 convolutions by Winograd F(4x4, 5x5) (native/src/winograd.cc, NETC_WINOGRAD=on)', () => {
  // Channel counts 16-64 in steps of 16 (the kernels' condition; 48 leaves a 16-channel
  // rest after the 32-wide column blocks), sizes that are not multiples of the 4x4 output
  // tiles (tiles cut by the bottom and right edges), batch 2, 'same' and uneven pads, a 1x1
  // image (all border), and 60 tiles: 30 per thread, one block of 24 and a partial one.
  const WINOGRAD: ConvCase[] = [
    { n: 2, h: 9, w: 13, c: 32, k: [5, 5], oc: 48, stride: [1, 1], pad: [2, 2, 2, 2] },
    { n: 2, h: 21, w: 17, c: 16, k: [5, 5], oc: 16, stride: [1, 1], pad: [2, 2, 2, 2] },
    { n: 2, h: 11, w: 7, c: 64, k: [5, 5], oc: 32, stride: [1, 1], pad: [1, 3, 0, 4] },
    { n: 3, h: 1, w: 1, c: 16, k: [5, 5], oc: 32, stride: [1, 1], pad: [2, 2, 2, 2] },
  ];
  // the forward twice, the input gradient (a forward conv), the filter gradient
  forcedKernelCases('NETC_WINOGRAD', () => oneDnnInfo()!.winogradCalls, WINOGRAD, true, (runs) => expect(runs).toBe(4));
});

describe('the addon\'s forward with the output buffer as its own residual', () => {
  it('auto mode times Winograd against oneDNN on the first call (4 runs each) and still adds the residual once', async () => {
    // A shape no other test here runs, so that this call is its first.
    const c: ConvCase = { n: 1, h: 12, w: 10, c: 16, k: [5, 5], oc: 16, stride: [1, 1], pad: [2, 2, 2, 2] };
    const { x, filter, bias } = convInputs(c);
    const residual = tensor([1, 12, 10, 16], 7);
    const [expected] = await on(PLAIN, () => [tf.add(tf.add(tf.conv2d(x as tf.Tensor4D, filter as tf.Tensor4D, 1, 'same'), bias), residual)]);
    const y = Float32Array.from(residual.dataSync());
    const geometry = [1, 12, 10, 16, 5, 5, 16, 12, 10, 1, 1, 1, 1, 2, 2, 2, 2];
    await withEnv('NETC_WINOGRAD', 'auto', async () => {
      nativeAddon().convForward(Float32Array.from(x.dataSync()), Float32Array.from(filter.dataSync()), Float32Array.from(bias.dataSync()), y, y, geometry, 0, 0);
    });
    expectClose([y], [expected]);
  });
});
