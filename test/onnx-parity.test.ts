// The ONNX export runs in a real ONNX implementation (onnxruntime) with the weights of a
// PyTorch checkpoint and gives PyTorch's outputs, like netc's own runtime: exported in
// process, and by `netc compile --onnx F --weights DIR` from an imported checkpoint.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { emitOnnx } from '../src/compiler/emit/onnx.js';
import { importOfficialCheckpoint } from '../src/runtime/import.js';
import { writeFileAtomic } from '../src/runtime/fsutil.js';
import { fixtureArray, fixtureConfig, fixturePath, maxAbsDiff } from './helpers/fixtures.js';
import { OFFICIAL_MODEL, compileModel } from './helpers/models.js';
import { netc } from './helpers/spawn-cli.js';

const tmp = () => mkdtempSync(path.join(tmpdir(), 'netc-onnx-'));

/** Runs `file` in onnxruntime on the fixture's input; expects PyTorch's output at every scale. */
async function expectPyTorchOutputs(file: string, folder: string, inputName: string): Promise<void> {
  const config = fixtureConfig(folder);
  const ort = await import('onnxruntime-node');
  const session = await ort.InferenceSession.create(file);
  const input = fixtureArray(folder, 'input.bin'); // NHWC, 0..255
  const [n, h, w, c] = input.shape;
  const nchw = new Float32Array(input.data.length);
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) for (let k = 0; k < c; k++) nchw[(k * h + y) * w + x] = input.data[(y * w + x) * c + k] / 255;
  const out = await session.run({ [inputName]: new ort.Tensor('float32', nchw, [n, c, h, w]) });
  for (let s = 0; s < config.n_scales; s++) {
    const expected = fixtureArray(folder, `out_scale${s}.bin`);
    const [, eh, ew, ec] = expected.shape;
    const got = out[`L[${s}]`].data as Float32Array;
    const nhwc = new Float32Array(got.length);
    for (let y = 0; y < eh; y++) for (let x = 0; x < ew; x++) for (let k = 0; k < ec; k++) nhwc[(y * ew + x) * ec + k] = got[(k * eh + y) * ew + x];
    expect(maxAbsDiff(nhwc, expected.data.map((v) => v / 255)), `scale ${s}`).toBeLessThan(1e-5);
  }
}

describe('ONNX export', () => {
  it.each(['official255_r2_f8_s64', 'official255_r19_f16_s64'])('%s: onnxruntime reproduces PyTorch at every scale', async (folder) => {
    const config = fixtureConfig(folder);
    const program = compileModel(OFFICIAL_MODEL, { blocks: config.n_resblocks, feats: config.n_feats }, [config.size, config.size]);
    const weights = await importOfficialCheckpoint(program, fixturePath(folder, 'model.pt'));
    const graph = program.models[program.generator];
    const missing: string[] = [];
    const bytes = emitOnnx(graph, (spec) => weights.get(spec.name)?.data ?? (missing.push(spec.name), undefined));
    expect(missing).toEqual([]);
    const file = path.join(tmp(), 'model.onnx');
    await writeFileAtomic(file, bytes);
    await expectPyTorchOutputs(file, folder, graph.inputs[0].id);
  });

  it('netc compile --onnx F --weights DIR carries the checkpoint\'s weights (PyTorch\'s outputs again)', async () => {
    const folder = 'official255_r2_f8_s64';
    const dir = tmp();
    const weights = path.join(dir, 'ckpt');
    const set = ['--set', 'blocks=2', '--set', 'feats=8'];
    expect(netc(['import', OFFICIAL_MODEL, fixturePath(folder, 'model.pt'), ...set, '--out', weights]).status).toBe(0);
    const file = path.join(dir, 'model.onnx');
    const r = netc(['compile', OFFICIAL_MODEL, ...set, '--input', '64x64', '--onnx', file, '--weights', weights]);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toContain(`wrote ${file}`);
    await expectPyTorchOutputs(file, folder, 'blur');
    // a checkpoint of another variant is refused, naming the mismatches
    const wrong = netc(['compile', OFFICIAL_MODEL, '--set', 'blocks=3', '--set', 'feats=8', '--input', '64x64', '--onnx', path.join(dir, 'x.onnx'), '--weights', weights]);
    expect(wrong.status).toBe(1);
    expect(wrong.stderr).toContain(`netc: error: ${weights}: does not fit ${OFFICIAL_MODEL}:`);
    expect(wrong.stderr).toContain('missing: scale2/ScaleNet/ResBlock.2/ResBlock/conv0.weight [5, 5, 8, 8]');
  });
});
