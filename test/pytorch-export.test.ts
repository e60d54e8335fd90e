// `netc export --to pytorch` and `--to onnx --dynamic`, checked against PyTorch itself
// (Debian's python3-torch) and onnxruntime: the generated modules load the authors'
// checkpoints and reproduce the PyTorch-made parity outputs; on other variants they equal
// netc's forward; torchrun/DDP trains and takes the whole-batch step; weights come back
// through `netc import` and deblur to the same 8-bit image.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { torchLayout, toTorchValues } from '../src/compiler/emit/torch-layout.js';
import type { Program } from '../src/compiler/ir.js';
import { initBackend } from '../src/runtime/backends/index.js';
import { randomKernel } from '../src/runtime/data/kernels.js';
import { Rng } from '../src/runtime/data/rng.js';
import { learningRate } from '../src/runtime/train/trainer.js';
import { runGraph } from '../src/runtime/execute.js';
import { createParams, disposeParams, listParams } from '../src/runtime/params.js';
import { readImage, toUint8 } from '../src/runtime/image.js';
import { tf } from '../src/runtime/tf.js';
import { fixtureArray, fixtureConfig, fixturePath, maxAbsDiff } from './helpers/fixtures.js';
import { compileModel } from './helpers/models.js';
import { ROOT, SHARED, netc } from './helpers/spawn-cli.js';

const PYTHON = '/usr/bin/python3';
const tmp = () => mkdtempSync(path.join(tmpdir(), 'netc-torch-'));
const model = (name: string) => path.join(ROOT, 'models', name);

function exportTo(file: string, set: Record<string, number> = {}): string {
  const dir = path.join(tmp(), 'export');
  const r = netc(['export', file, '--to', 'pytorch', '--out', dir, ...Object.entries(set).flatMap(([k, v]) => ['--set', `${k}=${v}`])]);
  expect(r.status, r.stderr).toBe(0);
  return dir;
}

/** Runs a model class of the export in PyTorch on an NHWC input; returns all outputs concatenated. */
function torchForward(dir: string, cls: string, weights: string, input: { shape: number[]; data: Float32Array }, logits = false): Float32Array {
  const work = tmp();
  writeFileSync(path.join(work, 'in.bin'), input.data);
  const r = spawnSync(PYTHON, [path.join(ROOT, 'test/pytorch/run_module.py'), dir, cls, weights, path.join(work, 'in.bin'), input.shape.join(','), path.join(work, 'out.bin'), ...(logits ? ['logits'] : [])], { encoding: 'utf8' });
  expect(r.status, r.stderr).toBe(0);
  const bytes = readFileSync(path.join(work, 'out.bin'));
  return new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
}

/** Writes a graph's parameters in the PyTorch layout (JSON manifest + .bin) for run_module.py. */
function torchWeights(program: Program, graphName: string, params: Map<string, tf.Tensor>): string {
  const layout = torchLayout(program.models[graphName]);
  const manifest: { key: string; shape: number[]; offset: number }[] = [];
  const chunks: Float32Array[] = [];
  let offset = 0;
  for (const p of layout.params) {
    const values = toTorchValues(p, params.get(p.name)!.dataSync() as Float32Array);
    manifest.push({ key: p.key, shape: p.torchShape, offset });
    chunks.push(values);
    offset += values.length;
  }
  const file = path.join(tmp(), 'weights.json');
  writeFileSync(file, JSON.stringify(manifest));
  const all = new Float32Array(offset);
  let at = 0;
  for (const c of chunks) (all.set(c, at), (at += c.length));
  writeFileSync(file.replace(/\.json$/, '.bin'), all);
  return file;
}

const random = (shape: number[], seed: number) => {
  let s = seed;
  return { shape, data: Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => ((s = (s * 1103515245 + 12345) % 2 ** 31) / 2 ** 31)) };
};

beforeAll(async () => {
  await initBackend('cpu'); // oneDNN: parity-tested against PyTorch (test/parity.test.ts), and fast enough for the discriminator
});

describe('PyTorch export: model.py', () => {
  it.each([
    ['deepdeblur.net', 'small_r2_f8_s32'],
    ['deepdeblur-pytorch.net', 'official255_r2_f8_s64'],
    ['deepdeblur-pytorch.net', 'official255_r19_f16_s64'],
  ])('%s loads the authors\' checkpoint %s strictly and reproduces PyTorch at every scale', (file, folder) => {
    const config = fixtureConfig(folder);
    const dir = exportTo(model(file), { blocks: config.n_resblocks, feats: config.n_feats });
    expect(readFileSync(path.join(dir, 'model.py'), 'utf8')).toMatch(/LAYOUT = 'deepdeblur'/);
    const input = fixtureArray(folder, 'input.bin');
    const inputUnit = { shape: input.shape, data: input.data.map((v) => v / config.rgb_range) };
    const got = torchForward(dir, 'Generator', fixturePath(folder, 'model.pt'), inputUnit);
    let offset = 0;
    for (let s = 0; s < config.n_scales; s++) {
      const expected = fixtureArray(folder, `out_scale${s}.bin`);
      const part = got.subarray(offset, offset + expected.data.length);
      offset += expected.data.length;
      expect(maxAbsDiff(part, expected.data.map((v) => v / config.rgb_range)), `scale ${s}`).toBeLessThan(1e-5);
    }
  });

  it.each([
    ['deblur-lite.net (U-Net, global residual)', 'deblur-lite.net', 'Generator', { feats: 8, blocks: 1 }, [1, 32, 48, 3]],
    ['deepdeblur-pytorch.net scales=2 kernel=3', 'deepdeblur-pytorch.net', 'Generator', { scales: 2, blocks: 1, feats: 8, kernel: 3 }, [2, 24, 16, 3]],
    ['deepdeblur.net discriminator (strides, leaky_relu, flatten, dense)', 'deepdeblur.net', 'Discriminator', { blocks: 1, feats: 4 }, [2, 256, 256, 3]],
  ] as const)('%s equals netc\'s forward within 1e-4', (_name, file, graphName, set, shape) => {
    const program = compileModel(model(file), set, graphName === 'Generator' ? [shape[1], shape[2]] : [256, 256]);
    const graph = program.models[graphName];
    const params = createParams(graph, 5);
    try {
      const input = random([...shape], 11);
      const outputs = tf.tidy(() => runGraph(graphName === 'Discriminator' ? logitsOnly(graph) : graph, [tf.tensor(input.data, [...shape])], params).map((t) => t.dataSync().slice()));
      const expected = Float32Array.from(outputs.flatMap((o) => [...o]));
      const dir = exportTo(model(file), set);
      const got = torchForward(dir, graphName, torchWeights(program, graphName, params), input, graphName === 'Discriminator');
      expect(got.length).toBe(expected.length);
      const scale = Math.max(1, ...expected.map(Math.abs));
      expect(maxAbsDiff(got, expected) / scale).toBeLessThan(1e-4);
      expect(listParams(graph).length).toBe(torchLayout(graph).params.length);
    } finally {
      disposeParams(params);
    }
  });
});

/** The discriminator without its final sigmoid (the logit), as the export's logits=True. */
function logitsOnly(graph: Program['models'][string]): Program['models'][string] {
  const last = graph.nodes.find((n) => n.id === graph.outputs[0].id)!;
  return { ...graph, nodes: graph.nodes.filter((n) => n !== last), outputs: [{ ...graph.outputs[0], id: last.inputs[0] }] };
}

describe('PyTorch export: train.py with torchrun, and back through netc import', () => {
  let data: string;
  beforeAll(() => {
    data = path.join(tmp(), 'data');
    const frames = path.join(SHARED, 'fixtures/video/city-small');
    for (const [range, split] of [['1:20', 'train'], ['24:32', 'test']]) {
      const r = netc(['synth', '--frames', frames, '--out', data, '--window', '5', '--stride', '2', '--range', range, '--split', split, '--seq', split === 'train' ? 'a' : 'b']);
      expect(r.status, r.stderr).toBe(0);
    }
  });

  it('torchrun with 2 processes (gloo) trains 20 steps and the loss falls', () => {
    const dir = exportTo(model('deepdeblur-pytorch.net'), { blocks: 1, feats: 8, patch: 64, batch: 4, lr: 1e-3 });
    const run = path.join(tmp(), 'run');
    // --redirects/--tee 1: Debian's torchrun 1.13 cannot parse their default under Python 3.11
    const r = spawnSync('torchrun', ['--standalone', '--nproc_per_node', '2', '--redirects', '1', '--tee', '1', path.join(dir, 'train.py'), '--data', data, '--out', run, '--steps', '20', '--log-every', '5'], { encoding: 'utf8', timeout: 300_000 });
    expect(r.status, r.stderr + r.stdout).toBe(0);
    expect(r.stdout).toMatch(/2 process\(es\), batch 2 each/);
    const losses = readFileSync(path.join(run, 'log.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l).loss as number);
    expect(losses.length).toBe(20);
    const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
    expect(mean(losses.slice(-5))).toBeLessThan(0.7 * mean(losses.slice(0, 5)));
  });

  it("augment shake in train.py: it trains, and its kernels are netc's (each sums to 1, odd sides, the same distribution of sizes)", () => {
    const source = readFileSync(model('deblur-lite.net'), 'utf8').replace(/^( *)augment:.*$/m, '$1augment:   flip, shake(3, 12)');
    const file = path.join(tmp(), 'lite-shake.net');
    writeFileSync(file, source);
    const dir = exportTo(file, { feats: 8, blocks: 1, patch: 32, batch: 2 });
    const run = path.join(tmp(), 'run');
    execFileSync(PYTHON, [path.join(dir, 'train.py'), '--data', data, '--out', run, '--steps', '3'], { encoding: 'utf8' });
    expect(readFileSync(path.join(run, 'log.jsonl'), 'utf8').trim().split('\n').filter((l) => 'loss' in JSON.parse(l))).toHaveLength(3);
    const check = `import sys, json, numpy as np
sys.path.insert(0, sys.argv[1]); sys.argv = sys.argv[:1]
import train
ks = train.shake_kernels(np.random.default_rng(5), 400, 3, 12)
print(json.dumps({'sums': max(abs(k.sum() - 1) for k in ks), 'odd': all(k.shape[0] % 2 == 1 and k.shape[0] == k.shape[1] for k in ks), 'sizes': [int(k.shape[0]) for k in ks]}))`;
    const python = JSON.parse(execFileSync(PYTHON, ['-c', check, dir], { encoding: 'utf8' })) as { sums: number; odd: boolean; sizes: number[] };
    expect(python.sums).toBeLessThan(1e-9);
    expect(python.odd).toBe(true);
    const rng = new Rng(5);
    const netcSizes = Array.from({ length: 400 }, () => randomKernel(rng, { minLength: 3, maxLength: 12 }).size);
    const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
    // 400 draws each: the means of two samples of one distribution agree within a few percent
    expect(Math.abs(mean(python.sizes) - mean(netcSizes)) / mean(netcSizes)).toBeLessThan(0.06);
    expect(Math.max(...python.sizes)).toBeLessThanOrEqual(2 * (Math.ceil(2 * 12) + 1) + 1);
  });

  it('train.py validates on the val split when the data has one and keeps the best validation as model-best.pt, which netc import reads', () => {
    const root = path.join(tmp(), 'with-val');
    const frames = path.join(SHARED, 'fixtures/video/city-small');
    for (const [range, split] of [['1:20', 'train'], ['24:32', 'val']]) {
      const r = netc(['synth', '--frames', frames, '--out', root, '--window', '5', '--stride', '2', '--range', range, '--split', split, '--seq', split]);
      expect(r.status, r.stderr).toBe(0);
    }
    const file = model('deblur-lite.net');
    const set = { feats: 8, blocks: 1, patch: 32, batch: 2, lr: 3e-3 };
    const dir = exportTo(file, set);
    const run = path.join(tmp(), 'run');
    const out = execFileSync(PYTHON, [path.join(dir, 'train.py'), '--data', root, '--out', run, '--steps', '6', '--val-every', '2', '--val-images', '2'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    expect(out).not.toMatch(/validating on the test split/);
    expect(out).toMatch(/step 2: validation PSNR .* \(2 val images\); best so far: model-best\.pt/);
    const val = readFileSync(path.join(run, 'log.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l)).filter((r) => 'val_psnr' in r);
    expect(val.map((r) => [r.step, r.split])).toEqual([[2, 'val'], [4, 'val'], [6, 'val']]);
    const top = val.reduce((b, r) => (r.val_psnr > b.val_psnr ? r : b));
    const saved = execFileSync(PYTHON, ['-c', 'import torch, sys, json; b = torch.load(sys.argv[1]); print(json.dumps([b["step"], b["val_psnr"]]))', path.join(run, 'model-best.pt')], { encoding: 'utf8' });
    expect(JSON.parse(saved)).toEqual([top.step, top.val_psnr]);
    const sets = Object.entries(set).flatMap(([k, v]) => ['--set', `${k}=${v}`]);
    const imported = netc(['import', path.join(run, 'model-best.pt'), '--model', file, ...sets, '--out', path.join(tmp(), 'best')]);
    expect(imported.status, imported.stderr).toBe(0);
  });

  it('one DDP step on 2 processes gives the gradients of one process on the whole batch (1e-5)', () => {
    const dir = exportTo(model('deblur-lite.net'), { feats: 8, blocks: 1 });
    const out = path.join(tmp(), 'grads.json');
    const r = spawnSync('torchrun', ['--standalone', '--nproc_per_node', '2', '--redirects', '1', '--tee', '1', path.join(ROOT, 'test/pytorch/ddp_grads.py'), dir, out], { encoding: 'utf8', timeout: 300_000 });
    expect(r.status, r.stderr + r.stdout).toBe(0);
    const result = JSON.parse(readFileSync(out, 'utf8'));
    expect(result.world).toBe(2);
    expect(result.max_abs_grad).toBeGreaterThan(1e-3); // the gradients are not trivially zero
    expect(result.max_abs_diff).toBeLessThanOrEqual(1e-5);
  });

  it("a declared cosine schedule and weight average: train.py's lr per step equals netc's, and model-latest.pt holds the average", () => {
    const source = readFileSync(model('deblur-lite.net'), 'utf8')
      .replace(/^ *(schedule|average):.*\n/gm, '')
      .replace(/^( *)augment:/m, '$1schedule: cosine(min = 1e-5)\n$1average: ema(0.5)\n$1augment:');
    const file = path.join(tmp(), 'lite-ema.net');
    writeFileSync(file, source);
    const set = { feats: 8, blocks: 1, patch: 32, batch: 2, iterations: 6 };
    const dir = exportTo(file, set);
    const run = path.join(tmp(), 'run');
    execFileSync(PYTHON, [path.join(dir, 'train.py'), '--data', data, '--out', run, '--steps', '8'], { encoding: 'utf8' });
    const lrs = readFileSync(path.join(run, 'log.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l)).filter((r) => 'lr' in r).map((r) => r.lr as number);
    const train = compileModel(file, set, [32, 32]).train!;
    expect(train.schedule).toEqual({ kind: 'cosine', min: 1e-5 });
    expect(lrs.length).toBe(8);
    lrs.forEach((lr, i) => expect(lr).toBeCloseTo(learningRate(train, i), 12));
    expect(lrs[7]).toBe(1e-5); // held at min after the 6 declared iterations
    const check = `import torch, sys
state = torch.load(sys.argv[1]); latest = torch.load(sys.argv[2])['G']
print(max((latest[k] - state['average'][k]).abs().max().item() for k in latest), max((latest[k] - state['G'][k]).abs().max().item() for k in latest))`;
    const [toAverage, toRaw] = execFileSync(PYTHON, ['-c', check, path.join(run, 'state.pt'), path.join(run, 'model-latest.pt')], { encoding: 'utf8' }).trim().split(' ').map(Number);
    expect(toAverage).toBe(0);
    expect(toRaw).toBeGreaterThan(1e-6); // the average lags the optimizer's weights (0 if it saved them)
  });

  it('netc import of the trained checkpoint, then netc deblur, equals the PyTorch module within 1 level (and --ensemble 4 its mean over the four flips)', async () => {
    const file = model('deblur-lite.net');
    const set = { feats: 8, blocks: 1, patch: 64, batch: 2 };
    const sets = Object.entries(set).flatMap(([k, v]) => ['--set', `${k}=${v}`]);
    const dir = exportTo(file, set);
    const run = path.join(tmp(), 'run');
    execFileSync(PYTHON, [path.join(dir, 'train.py'), '--data', data, '--out', run, '--steps', '5'], { encoding: 'utf8' });
    const weights = path.join(tmp(), 'weights');
    const imported = netc(['import', path.join(run, 'model-latest.pt'), '--model', file, ...sets, '--out', weights]);
    expect(imported.status, imported.stderr).toBe(0);
    expect(imported.stdout).toMatch(/general layout/);
    const photo = path.join(ROOT, 'test/helpers/deblur/blur_62x61.png'); // 61x62, odd: both pad by edge replication to 64x64
    const sharp = path.join(tmp(), 'out.png');
    const deblurred = netc(['deblur', photo, '--model', file, '--weights', weights, '--out', sharp]);
    expect(deblurred.status, deblurred.stderr).toBe(0);
    const image = await readImage(photo);
    const { width: w, height: h } = image;
    const padded = { shape: [1, 64, 64, 3], data: new Float32Array(64 * 64 * 3) };
    for (let y = 0; y < 64; y++) for (let x = 0; x < 64; x++) for (let c = 0; c < 3; c++) {
      padded.data[(y * 64 + x) * 3 + c] = image.data[(Math.min(y, h - 1) * w + Math.min(x, w - 1)) * 3 + c];
    }
    const torchOut = torchForward(dir, 'Generator', path.join(run, 'model-latest.pt'), padded);
    const netcOut = toUint8(await readImage(sharp));
    let worst = 0;
    for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) for (let c = 0; c < 3; c++) {
      const t = Math.round(Math.min(1, Math.max(0, torchOut[(y * 64 + x) * 3 + c])) * 255);
      worst = Math.max(worst, Math.abs(t - netcOut[(y * w + x) * 3 + c]));
    }
    expect(worst).toBeLessThanOrEqual(1);

    // --ensemble 4: the mean of the module's outputs on the padded image flipped left-right,
    // up-down and both, each flipped back (the geometric self-ensemble), computed here.
    const ensembled = path.join(tmp(), 'ensemble.png');
    expect(netc(['deblur', photo, '--model', file, '--weights', weights, '--out', ensembled, '--ensemble', '4']).status).toBe(0);
    const flip = (data: Float32Array, flipX: boolean, flipY: boolean) => {
      const out = new Float32Array(data.length);
      for (let y = 0; y < 64; y++) for (let x = 0; x < 64; x++) for (let c = 0; c < 3; c++) {
        out[(y * 64 + x) * 3 + c] = data[((flipY ? 63 - y : y) * 64 + (flipX ? 63 - x : x)) * 3 + c];
      }
      return out;
    };
    const mean = new Float32Array(64 * 64 * 3);
    for (const [fx, fy] of [[false, false], [true, false], [false, true], [true, true]]) {
      const out = torchForward(dir, 'Generator', path.join(run, 'model-latest.pt'), { shape: padded.shape, data: flip(padded.data, fx, fy) });
      flip(out, fx, fy).forEach((v, i) => (mean[i] += v / 4));
    }
    const netcEnsemble = toUint8(await readImage(ensembled));
    let worstEnsemble = 0;
    let differsFromSingle = 0;
    for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) for (let c = 0; c < 3; c++) {
      const t = Math.round(Math.min(1, Math.max(0, mean[(y * 64 + x) * 3 + c])) * 255);
      worstEnsemble = Math.max(worstEnsemble, Math.abs(t - netcEnsemble[(y * w + x) * 3 + c]));
      if (netcEnsemble[(y * w + x) * 3 + c] !== netcOut[(y * w + x) * 3 + c]) differsFromSingle++;
    }
    expect(worstEnsemble).toBeLessThanOrEqual(1);
    expect(differsFromSingle).toBeGreaterThan(100); // the views were really run, not the single pass
  });
});

describe('ONNX export with --dynamic', () => {
  it('runs in onnxruntime at two sizes and equals netc', async () => {
    const file = model('deblur-lite.net');
    const set = { feats: 8, blocks: 1 };
    const onnx = path.join(tmp(), 'model.onnx');
    const r = netc(['export', file, '--to', 'onnx', '--dynamic', '--out', onnx, '--set', 'feats=8', '--set', 'blocks=1']);
    expect(r.status, r.stderr).toBe(0);
    const ort = await import('onnxruntime-node');
    const session = await ort.InferenceSession.create(onnx);
    for (const [h, w] of [[32, 32], [48, 80]]) {
      const program = compileModel(file, set, [h, w]);
      const graph = program.models[program.generator];
      const params = createParams(graph, 0); // the ONNX file carries the same seeded initial weights
      const input = random([1, h, w, 3], h + w);
      const expected = tf.tidy(() => runGraph(graph, [tf.tensor(input.data, [1, h, w, 3])], params)[0].dataSync().slice());
      disposeParams(params);
      const nchw = new Float32Array(input.data.length);
      for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) for (let c = 0; c < 3; c++) nchw[(c * h + y) * w + x] = input.data[(y * w + x) * 3 + c];
      const out = await session.run({ [graph.inputs[0].id]: new ort.Tensor('float32', nchw, [1, 3, h, w]) });
      const got = out.L.data as Float32Array;
      const nhwc = new Float32Array(got.length);
      for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) for (let c = 0; c < 3; c++) nhwc[(y * w + x) * 3 + c] = got[(c * h + y) * w + x];
      expect(maxAbsDiff(nhwc, expected), `${h}x${w}`).toBeLessThan(1e-4);
    }
  });
});
