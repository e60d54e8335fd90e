import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initBackend, type BackendName } from '../src/runtime/backends/index.js';
import { runGraph } from '../src/runtime/execute.js';
import { pixelShuffle, pyramidDown } from '../src/runtime/lower.js';
import { createParams, disposeParams, initialValues, listParams } from '../src/runtime/params.js';
import { tf } from '../src/runtime/tf.js';
import { TFJS_BACKEND } from './helpers/backends.js';
import { fixtureArray, fixtureManifestWeights, maxAbsDiff } from './helpers/fixtures.js';
import { OFFICIAL_MODEL, PAPER_MODEL, compileModel } from './helpers/models.js';

beforeAll(async () => {
  await initBackend('tfjs-cpu');
});

/** The deterministic test image used for the skimage reference values below. */
function patternImage(h: number, w: number): tf.Tensor4D {
  const data: number[] = [];
  for (let i = 0; i < h; i++) for (let j = 0; j < w; j++) for (let c = 0; c < 3; c++) data.push(((i * 31 + j * 17 + c * 7) % 23) / 23);
  return tf.tensor4d(data, [1, h, w, 3]);
}

describe('pyramid_down', () => {
  it.each(['small_r2_f8_s32', 'official255_r2_f8_s64'])('matches the fixture pyramid of %s', (folder) => {
    const input = fixtureArray(folder, 'input.bin');
    const level1 = tf.tidy(() => pyramidDown(tf.tensor(input.data, input.shape), 2 / 3, 3));
    const level2 = tf.tidy(() => pyramidDown(level1, 2 / 3, 3));
    const unit = folder.startsWith('official255') ? 255 : 1;
    expect(maxAbsDiff(level1.dataSync(), fixtureArray(folder, 'input_scale1.bin').data) / unit).toBeLessThan(1e-6);
    expect(maxAbsDiff(level2.dataSync(), fixtureArray(folder, 'input_scale2.bin').data) / unit).toBeLessThan(1e-6);
    tf.dispose([level1, level2]);
  });

  it('matches skimage pyramid_gaussian on odd sizes (7x9 -> 4x5 -> 2x3)', () => {
    // skimage 0.19.3: pyramid_gaussian(x, downscale=2, order=1, mode='reflect', channel_axis=-1)
    const skimage4x5 = [0.32108948,0.34763205,0.5765169,0.51535577,0.5012934,0.39730057,0.59019023,0.42226088,0.5900083,0.48783776,0.41309708,0.34061277,0.5381117,0.46609434,0.5547246,0.45459715,0.34600866,0.41523275,0.4835221,0.4902423,0.49865082,0.47150815,0.61395895,0.44173953,0.4165536,0.4597241,0.4246919,0.6075383,0.5581577,0.46338642,0.3924577,0.44965735,0.35536444,0.5726397,0.48968047,0.47751144,0.3820948,0.48930582,0.62675005,0.50564003,0.41663352,0.4469887,0.54215515,0.5927269,0.5670401,0.46188825,0.3583189,0.44694987,0.5120515,0.5724311,0.5033467,0.40830994,0.32304052,0.536846,0.4814862,0.51761186,0.4151503,0.36176395,0.53099567,0.56541216];
    const skimage2x3 = [0.43398157,0.41390106,0.47789192,0.50644624,0.48838913,0.48781142,0.52761835,0.48724565,0.4755751,0.46459773,0.44125548,0.4466275,0.445828,0.4516205,0.522293,0.4640303,0.51945984,0.51376426];
    const x = patternImage(7, 9);
    const level1 = pyramidDown(x, 2 / 3, 3);
    const level2 = pyramidDown(level1, 2 / 3, 3);
    expect(level1.shape).toEqual([1, 4, 5, 3]);
    expect(level2.shape).toEqual([1, 2, 3, 3]);
    expect(maxAbsDiff(level1.dataSync(), skimage4x5)).toBeLessThan(1e-6);
    expect(maxAbsDiff(level2.dataSync(), skimage2x3)).toBeLessThan(1e-6);
    tf.dispose([x, level1, level2]);
  });

  it('reflects repeatedly when the image is smaller than the blur radius (3x2 -> 2x1)', () => {
    const x = patternImage(3, 2);
    const y = pyramidDown(x, 2 / 3, 3);
    expect(y.shape).toEqual([1, 2, 1, 3]);
    expect(maxAbsDiff(y.dataSync(), [0.33468723, 0.28914282, 0.5658728, 0.44998762, 0.4044432, 0.38651663])).toBeLessThan(1e-6);
    tf.dispose([x, y]);
  });
});

describe('pixel_shuffle', () => {
  it('equals depthToSpace with the fixture up-conv channels reordered for NHWC', () => {
    const folder = 'small_r2_f8_s32';
    const psOrder = fixtureManifestWeights(folder, 'weights_manifest.json');
    const d2sOrder = fixtureManifestWeights(folder, 'upsample_d2s_manifest.json');
    const key = 'conv_end_models.1.uppath.0';
    const x = tf.randomUniform([1, 6, 5, 3], 0, 1, 'float32', 7) as tf.Tensor4D;
    const conv = (w: { shape: number[]; data: Float32Array }, b: { data: Float32Array }) =>
      tf.add(tf.conv2d(x, tf.tensor4d(w.data, w.shape as [number, number, number, number]), 1, 'same'), tf.tensor1d(b.data));
    const ours = tf.tidy(() => pixelShuffle(conv(psOrder.get(`${key}.weight`)!, psOrder.get(`${key}.bias`)!), 2));
    const reference = tf.tidy(() => tf.depthToSpace(conv(d2sOrder.get(`${key}.weight`)!, d2sOrder.get(`${key}.bias`)!) as tf.Tensor4D, 2));
    expect(ours.shape).toEqual([1, 12, 10, 3]);
    expect(maxAbsDiff(ours.dataSync(), reference.dataSync())).toBeLessThan(1e-6);
    tf.dispose([x, ours, reference]);
  });

  it('has a gradient (reshape + transpose)', () => {
    const x = tf.randomNormal([1, 2, 3, 8]);
    const g = tf.grad((t: tf.Tensor) => pixelShuffle(t, 2).square().sum())(x);
    expect(maxAbsDiff(g.dataSync(), x.mul(2).dataSync())).toBeLessThan(1e-6);
    tf.dispose([x, g]);
  });
});

describe('parameters', () => {
  it('follows PyTorch default init bounds (1/sqrt(fan_in)), seeded and reproducible', () => {
    const program = compileModel(OFFICIAL_MODEL, { blocks: 2, feats: 8 }, [32, 32]);
    const infos = listParams(program.models[program.generator]);
    // 3 scales x (conv0 + 2 x 2 ResBlock convs + conv1) + 2 up-convs, weight and bias each
    expect(infos.length).toBe(2 * (3 * 6 + 2));
    for (const info of infos) {
      const values = initialValues(info, 1);
      const bound = 1 / Math.sqrt(info.init.fanIn);
      const max = values.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
      expect(max).toBeLessThanOrEqual(bound);
      if (values.length >= 200) expect(max).toBeGreaterThan(0.95 * bound);
      expect(initialValues(info, 1)).toEqual(values);
      expect(initialValues(info, 2)).not.toEqual(values);
    }
    const conv = infos.find((p) => p.shape.length === 4 && p.shape[2] === 8 && p.shape[3] === 8)!;
    expect(conv.init.fanIn).toBe(5 * 5 * 8);
  });
});

describe('executor', () => {
  const program = compileModel(PAPER_MODEL, { blocks: 2, feats: 8 }, [16, 24]);
  const unfused = compileModel(PAPER_MODEL, { blocks: 2, feats: 8 }, [16, 24], false);
  const graph = program.models[program.generator];
  let params: ReturnType<typeof createParams>;
  beforeAll(() => {
    params = createParams(graph, 3);
  });
  afterAll(() => disposeParams(params));

  it('gives the same outputs for fused and unfused IR', () => {
    const x = tf.randomUniform([1, 16, 24, 3], 0, 1, 'float32', 1);
    const fused = runGraph(graph, [x], params);
    const plain = runGraph(unfused.models[unfused.generator], [x], params);
    expect(fused.map((t) => t.shape)).toEqual([[1, 16, 24, 3], [1, 8, 12, 3], [1, 4, 6, 3]]);
    fused.forEach((t, i) => expect(maxAbsDiff(t.dataSync(), plain[i].dataSync())).toBeLessThan(1e-5));
    tf.dispose([x, ...fused, ...plain]);
  });

  it.each<BackendName>(['tfjs-cpu', 'cpu', 'webgl'])('keeps tf.memory().numTensors flat across 100 inferences (%s)', async (backend) => {
    await initBackend(backend);
    expect(tf.getBackend()).toBe(TFJS_BACKEND[backend]);
    const x = tf.randomUniform([1, 16, 24, 3], 0, 1, 'float32', 2);
    tf.dispose(runGraph(graph, [x], params)); // warm-up (kernel caches)
    const before = tf.memory().numTensors;
    for (let i = 0; i < 100; i++) {
      const outputs = runGraph(graph, [x], params);
      await outputs[0].data();
      tf.dispose(outputs);
    }
    expect(tf.memory().numTensors).toBe(before);
    x.dispose();
    await initBackend('tfjs-cpu');
  }, 60_000);

  it('is differentiable end to end and does not leak under gradients', () => {
    const x = tf.randomUniform([1, 16, 24, 3], 0, 1, 'float32', 4);
    const before = tf.memory().numTensors;
    const { value, grads } = tf.variableGrads(() => {
      const outputs = runGraph(graph, [x], params);
      return tf.addN(outputs.map((o) => o.abs().mean())) as tf.Scalar;
    });
    expect(Object.keys(grads).length).toBe(params.size);
    const gradSize = (g: tf.Tensor) => tf.tidy(() => g.abs().sum().dataSync()[0]);
    for (const g of Object.values(grads)) expect(Number.isFinite(gradSize(g))).toBe(true);
    const firstConv = [...params.values()][0];
    expect(gradSize(grads[firstConv.name])).toBeGreaterThan(0);
    tf.dispose([value, ...Object.values(grads)]);
    expect(tf.memory().numTensors).toBe(before);
    x.dispose();
  });
});
