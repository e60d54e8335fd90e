// Adam (src/runtime/optim.ts): the native single-pass update on 'onednn' and the composed
// tfjs ops on 'cpu' against torch.optim.Adam, and against each other bit for bit.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NETC_ADAM, ONEDNN_BACKEND, registerOneDnnBackend } from '../src/runtime/backends/onednn.js';
import { adamStepAttrs, applyAdam, applyAdamUpdates } from '../src/runtime/optim.js';
import { tf } from '../src/runtime/tf.js';

const P0 = [0.5, -1.25, 2.0, 0.0, 3.5, -0.75, 1e-3, -2.5];
const settings = { beta1: 0.9, beta2: 0.999, eps: 1e-8 };
const gradient = (t: number) => P0.map((_, i) => ((((i * 7 + t * 3) % 11) - 5) / 4) * (1 + 0.1 * t));

// torch 1.13: p = Parameter(P0); Adam(lr=0.05, betas=(0.9, 0.999), eps=1e-8); five steps with
// p.grad = gradient(t), t = 1..5 (/tmp/adamref.py in the commit that added this test).
const TORCH = {
  p: [0.5519651174545288, -1.3263883590698242, 1.9056901931762695, 0.12032397091388702, 3.4389407634735107, -0.739829957485199, 0.08801617473363876, -2.505453586578369],
  m: [-0.07241550832986832, -0.06839625537395477, 0.043722763657569885, -0.2076532393693924, 0.20886600017547607, -0.09151499718427658, 0.003608989529311657, 0.0736282467842102],
  v: [0.004176309332251549, 0.007307669147849083, 0.003882506862282753, 0.005248569417744875, 0.006751400884240866, 0.004073054064065218, 0.006041616201400757, 0.0057151964865624905],
};

/** Runs `steps` updates from p0 with gradients grad(t) on `backend`; returns p, m, v. */
async function train(backend: string, p0: Float32Array | number[], grad: (t: number) => Float32Array | number[], steps: number, lr: number) {
  await tf.setBackend(backend);
  const p = tf.variable(tf.tensor1d(p0));
  const m = tf.variable(tf.zerosLike(p));
  const v = tf.variable(tf.zerosLike(p));
  const before = tf.memory().numTensors;
  for (let t = 1; t <= steps; t++) {
    const g = tf.tensor1d(grad(t));
    applyAdam(p, m, v, g, adamStepAttrs(settings, lr, t));
    g.dispose();
    expect(tf.memory().numTensors).toBe(before);
  }
  const result = [p, m, v].map((x) => x.dataSync() as Float32Array);
  tf.dispose([p, m, v]);
  return result;
}

function expectNear(actual: Float32Array, expected: number[], tolerance: number): void {
  expected.forEach((e, i) => expect(Math.abs(actual[i] - e), `element ${i}`).toBeLessThanOrEqual(tolerance));
}

describe('Adam update', () => {
  let previous: string;
  beforeAll(async () => {
    await tf.ready();
    previous = tf.getBackend();
    expect(registerOneDnnBackend()).toEqual({ ok: true });
  });
  afterAll(async () => {
    await tf.setBackend(previous);
  });

  for (const backend of ['cpu', ONEDNN_BACKEND]) {
    it(`equals torch.optim.Adam over five steps on ${backend}`, async () => {
      const [p, m, v] = await train(backend, P0, gradient, 5, 0.05);
      expectNear(p, TORCH.p, 1e-6);
      expectNear(m, TORCH.m, 1e-6);
      expectNear(v, TORCH.v, 1e-7);
    });
  }

  it('is one native kernel on oneDNN', async () => {
    await tf.setBackend(ONEDNN_BACKEND);
    const [p, m, v] = [1, 2, 3].map((x) => tf.variable(tf.fill([4], x)));
    const g = tf.ones([4]);
    const profile = await tf.profile(() => applyAdam(p, m, v, g, adamStepAttrs(settings, 0.1, 1)));
    expect(profile.kernelNames).toEqual([NETC_ADAM]);
    tf.dispose([p, m, v, g]);
  });

  it('gives the same bits natively and as tfjs ops, on a size that runs in parallel', async () => {
    const count = 300_001; // above the addon's threading threshold, odd
    const p0 = Float32Array.from({ length: count }, (_, i) => Math.sin(i));
    const grad = (t: number) => Float32Array.from({ length: count }, (_, i) => Math.cos(i * t) * (i % 3 === 0 ? 1e-3 : 1));
    const plain = await train('cpu', p0, grad, 3, 1e-3);
    const native = await train(ONEDNN_BACKEND, p0, grad, 3, 1e-3);
    native.forEach((values, i) => expect(Buffer.from(values.buffer).equals(Buffer.from(plain[i].buffer)), `output ${i}`).toBe(true));
  });

  it('applyAdamUpdates on oneDNN: all parameters in one call over their own buffers, the same bits as applyAdam', async () => {
    await tf.setBackend(ONEDNN_BACKEND);
    const big = Float32Array.from({ length: 300_001 }, (_, i) => Math.sin(i));
    const bigGrad = (t: number) => Float32Array.from({ length: big.length }, (_, i) => Math.cos(i * t));
    const params = [P0, big].map((values) => {
      const p = tf.variable(tf.tensor1d(values));
      return { p, m: tf.variable(tf.zerosLike(p)), v: tf.variable(tf.zerosLike(p)) };
    });
    const before = tf.memory().numTensors;
    const dataIdsNow = () => params.flatMap(({ p, m, v }) => [p.dataId, m.dataId, v.dataId]);
    const dataIds: unknown[][] = [dataIdsNow()];
    for (let t = 1; t <= 5; t++) {
      const grads = [tf.tensor1d(gradient(t)), tf.tensor1d(bigGrad(t))];
      applyAdamUpdates(params.map((x, i) => ({ ...x, g: grads[i] })), adamStepAttrs(settings, 0.05, t));
      tf.dispose(grads);
      expect(tf.memory().numTensors).toBe(before);
      dataIds.push(dataIdsNow());
    }
    // The first update replaces the variables' initial data (made outside the pool); from
    // then on each update writes over the same buffers.
    dataIds[0].forEach((id, i) => expect(dataIds[1][i]).not.toBe(id));
    dataIds[1].forEach((id, i) => expect(dataIds[5][i]).toBe(id));
    const [p, m, v] = [params[0].p, params[0].m, params[0].v].map((x) => x.dataSync() as Float32Array);
    expectNear(p, TORCH.p, 1e-6);
    expectNear(m, TORCH.m, 1e-6);
    expectNear(v, TORCH.v, 1e-7);
    const plain = await train('cpu', big, bigGrad, 5, 0.05);
    await tf.setBackend(ONEDNN_BACKEND);
    [params[1].p, params[1].m, params[1].v].forEach((x, i) => expect(Buffer.from((x.dataSync() as Float32Array).buffer).equals(Buffer.from(plain[i].buffer)), `output ${i}`).toBe(true));
    params.forEach((x) => tf.dispose([x.p, x.m, x.v]));
  });

  it('applyAdamUpdates never writes over values another tensor shares or that left tfjs', async () => {
    await tf.setBackend(ONEDNN_BACKEND);
    const p = tf.variable(tf.tensor1d(P0));
    const [m, v] = [tf.variable(tf.zerosLike(p)), tf.variable(tf.zerosLike(p))];
    const step = (t: number) => {
      const g = tf.tensor1d(gradient(t));
      applyAdamUpdates([{ p, m, v, g }], adamStepAttrs(settings, 0.05, t));
      g.dispose();
    };
    step(1); // p now lives in a recycled buffer of its own
    const shared = p.clone(); // the same data, two tensors
    const sharedBefore = tf.mul(shared, 1); // a copy: reading shared itself would hand its buffer out
    step(2);
    expect(Array.from(shared.dataSync())).toEqual(Array.from(sharedBefore.dataSync()));
    const handedOut = p.dataSync() as Float32Array; // values that left tfjs
    const handedOutBefore = Float32Array.from(handedOut);
    step(3);
    expect(Array.from(handedOut)).toEqual(Array.from(handedOutBefore));
    step(4);
    step(5);
    expectNear(p.dataSync() as Float32Array, TORCH.p, 1e-6);
    tf.dispose([p, m, v, shared, sharedBefore]);
  });
});
