// The trainer's parts against independent references (torch.optim.Adam, skimage's
// pyramid_gaussian, torch's BCEWithLogitsLoss; values computed with /usr/bin/python3 and
// stored here), the lr schedule, the SVG plot, tensor count and loss decrease over updates.
import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../src/runtime/backends/index.js';
import { tf } from '../src/runtime/tf.js';
import { Adam } from '../src/runtime/train/adam.js';
import { bceWithLogits, evaluateTerms, logitGraph, targetPyramid } from '../src/runtime/train/loss.js';
import { linePlot, niceTicks } from '../src/runtime/train/plot.js';
import { learningRate, Trainer } from '../src/runtime/train/trainer.js';
import { compileModel, OFFICIAL_MODEL, PAPER_MODEL } from './helpers/models.js';

beforeAll(async () => {
  await initBackend('tfjs-cpu');
});

describe('Adam', () => {
  it('matches torch.optim.Adam(lr=0.01) step by step', () => {
    // torch 1.13, float32: p0 = [0.5, -1.2, 3, 0], g_t[i] = (((t+1)(i+2)) % 7 - 3) / 4
    const expected = [
      [0.5099999904632568, -1.2000000476837158, 2.990000009536743, -0.009999999776482582],
      [0.5094736814498901, -1.2074414491653442, 2.9936609268188477, -0.016700582578778267],
      [0.5035212635993958, -1.2108771800994873, 2.991509437561035, -0.015841905027627945],
      [0.5023488402366638, -1.2163634300231934, 2.9916768074035645, -0.019589968025684357],
      [0.501357913017273, -1.2178781032562256, 2.988022565841675, -0.02395542338490486],
    ];
    const p = tf.variable(tf.tensor1d([0.5, -1.2, 3, 0]));
    const adam = new Adam(new Map([['p', p]]), { beta1: 0.9, beta2: 0.999, eps: 1e-8 });
    for (let t = 0; t < 5; t++) {
      const g = tf.tensor1d([0, 1, 2, 3].map((i) => ((((t + 1) * (i + 2)) % 7) - 3) / 4));
      adam.apply({ p: g }, 0.01);
      g.dispose();
      const got = Array.from(p.dataSync());
      got.forEach((v, i) => expect(v).toBeCloseTo(expected[t][i], 6));
    }
    expect([...adam.slots().keys()]).toEqual(['adam/m/p', 'adam/v/p']);
    adam.dispose();
    p.dispose();
  });
});

describe('learning rate schedule', () => {
  it('multiplies by the factor at each milestone, counted in updates', () => {
    const program = compileModel(OFFICIAL_MODEL, { iterations: 100 }, [32, 32]);
    const train = program.train!; // step(at = [50, 75, 90], factor = 0.5), lr 1e-4
    expect(train.schedule).toEqual({ kind: 'step', at: [50, 75, 90], factor: 0.5 });
    expect(learningRate(train, 0)).toBe(1e-4);
    expect(learningRate(train, 49)).toBe(1e-4);
    expect(learningRate(train, 50)).toBe(5e-5);
    expect(learningRate(train, 75)).toBe(2.5e-5);
    expect(learningRate(train, 99)).toBe(1.25e-5);
  });
});

describe('cosine schedule', () => {
  it('equals torch CosineAnnealingLR(T_max = iterations, eta_min = min) and holds min after the iterations', () => {
    const program = compileModel(OFFICIAL_MODEL, { iterations: 100, lr: 1e-3 }, [32, 32]);
    const train = { ...program.train!, schedule: { kind: 'cosine' as const, min: 1e-5 } };
    // torch 1.13: Adam(lr=1e-3) with CosineAnnealingLR(T_max=100, eta_min=1e-5), lr before each step
    const torch: [number, number][] = [[0, 0.001], [1, 0.0009997557473810372], [25, 0.0008550178566873413], [50, 0.0005050000000000002], [75, 0.00015498214331265912], [99, 1.024425261896286e-05], [100, 1e-05]];
    for (const [index, lr] of torch) expect(learningRate(train, index)).toBeCloseTo(lr, 15);
    expect(learningRate(train, 250)).toBe(1e-5);
  });
});

describe('loss', () => {
  // NHWC values by flat index; the reference used skimage.transform.pyramid_gaussian
  // (sigma 2/3, reflect) for S[1] and numpy means.
  const sharp = () => tf.tensor4d(Array.from({ length: 192 }, (_, i) => ((i * 37) % 101) / 100), [1, 8, 8, 3]);
  const L0 = () => tf.tensor4d(Array.from({ length: 192 }, (_, i) => ((i * 53) % 97) / 96), [1, 8, 8, 3]);
  const L1 = () => tf.tensor4d(Array.from({ length: 48 }, (_, i) => ((i * 29) % 89) / 88), [1, 4, 4, 3]);

  it("the paper's content term and the official l1 sum equal numpy/skimage values", () => {
    const paper = compileModel(PAPER_MODEL, { scales: 2, blocks: 1, feats: 4, gan_weight: 0 }, [8, 8]).loss!;
    const official = compileModel(OFFICIAL_MODEL, { scales: 2, blocks: 1, feats: 4 }, [8, 8]).loss!;
    const [content, l1sum] = tf.tidy(() => {
      const targets = targetPyramid(paper, sharp());
      const outputs = [L0(), L1()];
      return [evaluateTerms(paper, { outputs, targets }).get('content')!.dataSync()[0], evaluateTerms(official, { outputs, targets }).get('total')!.dataSync()[0]];
    });
    expect(content).toBeCloseTo(0.06393794617857948, 6);
    expect(l1sum).toBeCloseTo(0.5911637803033079, 6);
  });

  it('BCE on logits equals torch.nn.BCEWithLogitsLoss, also for large logits', () => {
    const logits = tf.tensor2d([[-3], [0.5], [2], [40]]);
    expect(bceWithLogits(logits, 1).dataSync()[0]).toBeCloseTo(0.912398099899292, 5);
    expect(bceWithLogits(logits, 0).dataSync()[0]).toBeCloseTo(10.787398338317871, 4);
    logits.dispose();
  });

  it("the discriminator's final sigmoid is cut off: its input is the logit", () => {
    const program = compileModel(PAPER_MODEL, { scales: 2, blocks: 1, feats: 4 }, [16, 16]);
    const graph = program.models[program.discriminator!];
    const logit = logitGraph(graph);
    expect(graph.nodes.at(-1)!.op).toBe('sigmoid');
    expect(logit.nodes.some((n) => n.op === 'sigmoid')).toBe(false);
    expect(logit.outputs[0].id).toBe(graph.nodes.at(-1)!.inputs[0]);
  });
});

describe('Trainer', () => {
  const set = { blocks: 1, feats: 4, scales: 2, patch: 8, batch: 2, lr: 1e-3 };
  const batch = () => {
    const n = 2 * 8 * 8 * 3;
    const sharp = Float32Array.from({ length: n }, (_, i) => (Math.sin(i * 0.37) + 1) / 2);
    const blur = sharp.map((v, i) => (v + sharp[(i + 3) % n]) / 2);
    return { blur, sharp, shape: [2, 8, 8, 3] as [number, number, number, number] };
  };

  it('lowers the loss on a tiny problem and keeps the tensor count flat over 200 updates', async () => {
    await initBackend('cpu'); // oneDNN where built (fast), else tfjs-cpu
    try {
      const trainer = new Trainer(compileModel(OFFICIAL_MODEL, set, [8, 8]), 3);
      const data = batch();
      const losses: number[] = [];
      let afterFirst = 0;
      for (let i = 0; i < 200; i++) {
        losses.push(trainer.trainStep(data).loss);
        if (i === 0) afterFirst = tf.memory().numTensors;
      }
      expect(tf.memory().numTensors).toBe(afterFirst);
      expect(trainer.step).toBe(200);
      expect(losses[199]).toBeLessThan(0.5 * losses[0]);
      const before = tf.memory().numTensors;
      trainer.dispose();
      expect(tf.memory().numTensors).toBeLessThan(before);
    } finally {
      await initBackend('tfjs-cpu');
    }
  });
});

describe('weight averaging (average: ema(decay))', () => {
  const set = { blocks: 1, feats: 4, scales: 2, patch: 8, batch: 2, lr: 1e-2 };
  const data = () => {
    const n = 2 * 8 * 8 * 3;
    const sharp = Float32Array.from({ length: n }, (_, i) => (Math.cos(i * 0.21) + 1) / 2);
    return { blur: sharp.map((v, i) => (v + sharp[(i + 5) % n]) / 2), sharp, shape: [2, 8, 8, 3] as [number, number, number, number] };
  };
  const averaged = (decay: number) => {
    const program = compileModel(OFFICIAL_MODEL, set, [8, 8]);
    program.train!.average = { kind: 'ema', decay };
    return program;
  };
  const values = (params: Map<string, tf.Tensor>) => new Map([...params].map(([name, p]) => [name, Float64Array.from(p.dataSync())]));

  it('the checkpoint weights are the average of the weights after each update, the raw weights its slots', () => {
    const decay = 0.8;
    const trainer = new Trainer(averaged(decay), 5);
    const expected = values(trainer.params); // the average starts at the initial weights
    const batch = data();
    let afterFirst = 0;
    for (let i = 0; i < 6; i++) {
      trainer.trainStep(batch);
      if (i === 0) afterFirst = tf.memory().numTensors;
      for (const [name, now] of values(trainer.params)) {
        const avg = expected.get(name)!;
        for (let j = 0; j < avg.length; j++) avg[j] = decay * avg[j] + (1 - decay) * now[j];
      }
    }
    expect(tf.memory().numTensors).toBe(afterFirst); // the average's update frees what it makes
    const { params, slots } = trainer.checkpointContents();
    let farFromRaw = 0;
    for (const [name, avg] of expected) {
      const got = params.get(name)!.dataSync();
      const raw = slots.get(`raw/${name}`)!.dataSync();
      avg.forEach((v, j) => {
        expect(Math.abs(got[j] - v)).toBeLessThan(1e-6);
        expect(raw[j]).toBe(trainer.params.get(name)!.dataSync()[j]);
        farFromRaw = Math.max(farFromRaw, Math.abs(got[j] - raw[j]));
      });
    }
    expect(farFromRaw).toBeGreaterThan(1e-3); // lr 1e-2: the average lags the weights
    const first = [...expected.keys()][0];
    expect(Array.from(trainer.inferenceParams.get(first)!.dataSync())).toEqual(Array.from(params.get(first)!.dataSync())); // validation scores the average
    trainer.dispose();
  });

  it('a restored trainer continues exactly: 3 + 3 updates equal 6', () => {
    const batch = data();
    const straight = new Trainer(averaged(0.7), 9);
    for (let i = 0; i < 6; i++) straight.trainStep(batch);
    const first = new Trainer(averaged(0.7), 9);
    for (let i = 0; i < 3; i++) first.trainStep(batch);
    const host = (m: Map<string, tf.Tensor>) => new Map([...m].map(([k, t]) => [k, { shape: [...t.shape], data: Float32Array.from(t.dataSync()) }]));
    const saved = first.checkpointContents();
    const resumed = new Trainer(averaged(0.7), 123);
    resumed.restore({ step: 3 } as never, host(saved.params), host(saved.slots));
    for (let i = 0; i < 3; i++) resumed.trainStep(batch);
    const a = straight.checkpointContents(), b = resumed.checkpointContents();
    for (const [name, t] of [...a.params, ...a.slots]) {
      const other = b.params.get(name) ?? b.slots.get(name)!;
      expect(Array.from(other.dataSync()), name).toEqual(Array.from(t.dataSync()));
    }
    for (const t of [straight, first, resumed]) t.dispose();
  });
});

describe('SVG plot', () => {
  it('writes a well-formed plot with axes, ticks and a legend', () => {
    const svg = linePlot(
      [
        { name: 'content', points: Array.from({ length: 3000 }, (_, i) => [i + 1, 1 / (i + 1)] as [number, number]) },
        { name: 'a<b', points: [[1, 0.5]] },
      ],
      { title: 'loss', xLabel: 'step', yLabel: 'loss', logY: true },
    );
    expect(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg"')).toBe(true);
    expect(svg.trim().endsWith('</svg>')).toBe(true);
    expect(svg).toContain('>content</text>');
    expect(svg).toContain('>a&lt;b</text>'); // escaped
    expect(svg).toContain('(log scale)');
    const path = /<path d="([^"]+)"/.exec(svg)![1];
    expect(path.split('L').length).toBe(1000); // downsampled
    expect(niceTicks(0, 1, 5)).toEqual([0, 0.2, 0.4, 0.6, 0.8, 1]);
    expect(niceTicks(3, 997, 5)).toEqual([200, 400, 600, 800]);
  });
});
