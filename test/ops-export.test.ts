// upsample and avg_pool through both exporters: updown.net exported to PyTorch (model.py,
// F.interpolate / F.avg_pool2d) and to ONNX (Resize / AveragePool), run by PyTorch itself
// and by onnxruntime with the fixture's weights, give the outputs of the network make.py
// built by hand; the exported module equals netc's forward; the ONNX file passes the
// checker, and with --dynamic runs at other sizes.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { emitOnnx } from '../src/compiler/emit/onnx.js';
import { toTorchValues } from '../src/compiler/emit/torch-layout.js';
import { initBackend } from '../src/runtime/backends/index.js';
import { runGraph } from '../src/runtime/execute.js';
import { createParams, disposeParams, paramsFromArrays } from '../src/runtime/params.js';
import { tf } from '../src/runtime/tf.js';
import { maxAbsDiff } from './helpers/fixtures.js';
import { compileModel } from './helpers/models.js';
import { UPDOWN_MODEL, opArray, updownTorchWeights, updownWeights } from './helpers/op-fixtures.js';
import { runExport } from './helpers/torch-run.js';
import { ROOT, netc } from './helpers/spawn-cli.js';

const PYTHON = '/usr/bin/python3';
const tmp = () => mkdtempSync(path.join(tmpdir(), 'netc-ops-'));
const input = opArray('updown.input'); // 2x12x16x3
const expected = Float32Array.from([...opArray('updown.Y').data, ...opArray('updown.P').data]);

const nhwcToNchw = (data: Float32Array, [n, h, w, c]: number[]) => {
  const out = new Float32Array(data.length);
  for (let b = 0; b < n; b++) for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) for (let k = 0; k < c; k++) out[((b * c + k) * h + y) * w + x] = data[((b * h + y) * w + x) * c + k];
  return out;
};
const nchwToNhwc = (data: Float32Array, [n, h, w, c]: number[]) => {
  const out = new Float32Array(data.length);
  for (let b = 0; b < n; b++) for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) for (let k = 0; k < c; k++) out[((b * h + y) * w + x) * c + k] = data[((b * c + k) * h + y) * w + x];
  return out;
};

beforeAll(async () => {
  await initBackend('cpu');
});

describe('PyTorch export of upsample and avg_pool', () => {
  it('model.py with the fixture\'s weights gives PyTorch\'s outputs, and netc\'s within 1e-4', () => {
    const program = compileModel(UPDOWN_MODEL, {}, [input.shape[1], input.shape[2]]);
    const graph = program.models.Net;
    const dir = path.join(tmp(), 'export');
    const r = netc(['export', UPDOWN_MODEL, '--to', 'pytorch', '--out', dir, '--input', `${input.shape[1]}x${input.shape[2]}`]);
    expect(r.status, r.stderr).toBe(0);
    const source = readFileSync(path.join(dir, 'model.py'), 'utf8');
    expect(source).toContain("F.interpolate(x2, scale_factor=2, mode='bilinear', align_corners=False)");
    expect(source).toContain("F.interpolate(x2, scale_factor=2, mode='nearest')");
    expect(source).toMatch(/F\.avg_pool2d\(x\d+, 3, 2\)/);
    // The fixture's weights are PyTorch's own (OIHW): loaded under the export's state-dict keys.
    const torchWeights = updownTorchWeights(graph);
    const got = runExport(dir, 'Net', graph, (p) => torchWeights.get(p.name)!.data, input);
    expect(maxAbsDiff(got, expected)).toBeLessThan(1e-5);

    const params = paramsFromArrays(updownWeights(graph));
    const ours = tf.tidy(() => runGraph(graph, [tf.tensor(input.data, input.shape)], params).flatMap((t) => [...t.dataSync()]));
    disposeParams(params);
    expect(maxAbsDiff(got, ours)).toBeLessThan(1e-4);
  });

  it('models/variants/deblur-lite-resample.net (avg_pool down, bilinear up): the export equals netc\'s forward within 1e-4', () => {
    const file = path.join(ROOT, 'models/variants/deblur-lite-resample.net');
    const set = { feats: 8, blocks: 1 };
    const shape = [2, 32, 40, 3];
    const graph = compileModel(file, set, [shape[1], shape[2]]).models.Generator;
    const params = createParams(graph, 7);
    const x = tf.randomUniform(shape, 0, 1, 'float32', 9);
    const ours = tf.tidy(() => Float32Array.from(runGraph(graph, [x], params).flatMap((t) => [...t.dataSync()])));
    const dir = path.join(tmp(), 'export');
    const r = netc(['export', file, '--to', 'pytorch', '--out', dir, '--set', 'feats=8', '--set', 'blocks=1']);
    expect(r.status, r.stderr).toBe(0);
    const got = runExport(dir, 'Generator', graph, (p) => toTorchValues(p, params.get(p.name)!.dataSync() as Float32Array), { shape, data: x.dataSync() as Float32Array });
    tf.dispose(x);
    disposeParams(params);
    expect(got.length).toBe(ours.length);
    expect(maxAbsDiff(got, ours)).toBeLessThan(1e-4);
  });
});

describe('ONNX export of upsample and avg_pool', () => {
  it('passes the ONNX checker and onnxruntime gives PyTorch\'s outputs', async () => {
    const program = compileModel(UPDOWN_MODEL, {}, [input.shape[1], input.shape[2]]);
    const graph = program.models.Net;
    const weights = updownWeights(graph);
    const file = path.join(tmp(), 'updown.onnx');
    writeFileSync(file, emitOnnx(graph, (spec) => weights.get(spec.name)!.data));
    const check = spawnSync(PYTHON, ['-c', 'import onnx, sys; m = onnx.load(sys.argv[1]); onnx.checker.check_model(m, full_check=True); print(sorted({n.op_type for n in m.graph.node}))', file], { encoding: 'utf8' });
    expect(check.stderr).toBe('');
    expect(check.stdout.trim()).toBe("['Add', 'AveragePool', 'Concat', 'Conv', 'Identity', 'Relu', 'Resize']");
    const ort = await import('onnxruntime-node');
    const session = await ort.InferenceSession.create(file);
    // The ONNX graph is compiled for batch 1: run each image of the fixture's batch alone.
    const [n, h, w, c] = input.shape;
    const perImage = h * w * c;
    const ys: number[] = [], ps: number[] = [];
    for (let b = 0; b < n; b++) {
      const image = input.data.slice(b * perImage, (b + 1) * perImage);
      const out = await session.run({ blur: new ort.Tensor('float32', nhwcToNchw(image, [1, h, w, c]), [1, c, h, w]) });
      ys.push(...nchwToNhwc(out.Y.data as Float32Array, graph.outputs[0].shape));
      ps.push(...nchwToNhwc(out.P.data as Float32Array, graph.outputs[1].shape));
    }
    expect(maxAbsDiff(Float32Array.from(ys), opArray('updown.Y').data)).toBeLessThan(1e-5);
    expect(maxAbsDiff(Float32Array.from(ps), opArray('updown.P').data)).toBeLessThan(1e-5);
  });

  it('with --dynamic runs at two other sizes and equals netc', async () => {
    const onnx = path.join(tmp(), 'updown-dynamic.onnx');
    const r = netc(['export', UPDOWN_MODEL, '--to', 'onnx', '--dynamic', '--out', onnx]);
    expect(r.status, r.stderr).toBe(0);
    const ort = await import('onnxruntime-node');
    const session = await ort.InferenceSession.create(onnx);
    for (const [h, w] of [[20, 24], [8, 30]]) {
      const graph = compileModel(UPDOWN_MODEL, {}, [h, w]).models.Net;
      const params = createParams(graph, 0); // the ONNX file carries the same seeded initial weights
      const x = tf.randomUniform([1, h, w, 3], 0, 1, 'float32', h * w);
      const ours = tf.tidy(() => runGraph(graph, [x], params).map((t) => t.dataSync().slice() as Float32Array));
      const out = await session.run({ blur: new ort.Tensor('float32', nhwcToNchw(x.dataSync() as Float32Array, [1, h, w, 3]), [1, 3, h, w]) });
      graph.outputs.forEach((o, i) => {
        expect(maxAbsDiff(nchwToNhwc(out[o.name].data as Float32Array, o.shape), ours[i]), `${o.name} at ${h}x${w}`).toBeLessThan(1e-5);
      });
      tf.dispose(x);
      disposeParams(params);
    }
  });
});
