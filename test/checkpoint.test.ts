import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { UserError } from '../src/errors.js';
import { initBackend } from '../src/runtime/backends/index.js';
import { checkpointMeta, loadCheckpointFor, readCheckpoint, resolveCheckpointDir, runCheckpointDir, saveCheckpoint } from '../src/runtime/checkpoint.js';
import { importOfficialCheckpoint } from '../src/runtime/import.js';
import { createParams, disposeParams, type ParamMap } from '../src/runtime/params.js';
import { tf } from '../src/runtime/tf.js';
import { runCli } from './helpers/cli.js';
import { fixturePath } from './helpers/fixtures.js';
import { OFFICIAL_MODEL, compileModel } from './helpers/models.js';

const tmp = () => mkdtempSync(path.join(tmpdir(), 'netc-ckpt-'));
const small = (set: Record<string, number>) => compileModel(OFFICIAL_MODEL, set, [32, 32]);
let live: ParamMap[] = [];
const paramsOf = (set: Record<string, number>, seed = 1) => {
  const program = small(set);
  const params = createParams(program.models[program.generator], seed);
  live.push(params);
  return { program, params };
};

beforeAll(async () => {
  await initBackend('tfjs-cpu');
});
afterEach(() => {
  live.forEach(disposeParams);
  live = [];
});

describe('checkpoints', () => {
  it('round-trips parameters, optimizer slots, step and RNG state exactly', async () => {
    const { program, params } = paramsOf({ blocks: 1, feats: 4 });
    const slots = new Map([...params].map(([name, v]) => [`adam/m/${name}`, tf.mul(v, 0.5)]));
    const dir = path.join(tmp(), 'ckpt');
    const rng = { state: [1, 2, 3, 4294967295] };
    await saveCheckpoint(dir, { meta: checkpointMeta(program, 1234, { rng }), params, slots });

    const model = JSON.parse(readFileSync(path.join(dir, 'model.json'), 'utf8'));
    expect(model.format).toBe('netc-checkpoint');
    expect(model.weightsManifest[0].paths).toEqual(['weights.bin']);
    expect(model.netc).toMatchObject({ specFile: OFFICIAL_MODEL, specHash: program.sourceHash, set: { blocks: 1, feats: 4 }, step: 1234, extra: { rng } });

    const loaded = await readCheckpoint(dir);
    expect([...loaded.params.keys()]).toEqual([...params.keys()]);
    for (const [name, v] of params) expect(loaded.params.get(name)!.data).toEqual(v.dataSync());
    for (const [name, v] of slots) expect(loaded.slots.get(name)!.data).toEqual(v.dataSync());
    const { params: restored } = await loadCheckpointFor(program, dir);
    live.push(restored);
    for (const [name, v] of params) expect(restored.get(name)!.dataSync()).toEqual(v.dataSync());
    tf.dispose([...slots.values()]);
  });

  it('reports every mismatch by name, expected vs found, with the checkpoint path', async () => {
    const { program, params } = paramsOf({ blocks: 1, feats: 4 });
    const dir = path.join(tmp(), 'ckpt');
    await saveCheckpoint(dir, { meta: checkpointMeta(program, 0), params });
    const other = small({ blocks: 2, feats: 8 });
    const error = await loadCheckpointFor(other, dir).then(() => undefined, (e: unknown) => e as Error);
    expect(error).toBeInstanceOf(UserError);
    const message = error!.message;
    expect(message.startsWith(`${dir}: checkpoint (saved from ${OFFICIAL_MODEL} with --set blocks=1 feats=4) does not fit`)).toBe(true);
    expect(message).toContain('with --set blocks=2 feats=8');
    expect(message).toMatch(/wrong shape: scale2\/ScaleNet\/conv0\.weight: expected \[5, 5, 3, 8\], found \[5, 5, 3, 4\]/);
    expect(message).toMatch(/missing: scale2\/ScaleNet\/ResBlock\.1\/ResBlock\/conv0\.weight \[5, 5, 8, 8\]/);
    // 3 first convs + 3 ResBlocks (2 convs) + 3 last convs with feats changed: weights and biases,
    // plus 3 x 2 convs of the extra ResBlocks missing (weight + bias): all listed.
    const lines = message.split('\n').slice(1);
    expect(lines.filter((l) => l.includes('missing:')).length).toBe(12);
    expect(lines.filter((l) => l.includes('wrong shape:')).length).toBe(3 * 2 * 4 - 3);

    const deeper = paramsOf({ blocks: 2, feats: 4 });
    const deepDir = path.join(tmp(), 'deep');
    await saveCheckpoint(deepDir, { meta: checkpointMeta(deeper.program, 0), params: deeper.params });
    const reversed = await loadCheckpointFor(program, deepDir).then(() => undefined, (e: unknown) => e as Error);
    expect(reversed?.message).toMatch(/unexpected: scale0\/ScaleNet\/ResBlock\.1\/ResBlock\/conv1\.bias \[4\]/);
    expect(reversed?.message.split('\n').length).toBe(1 + 3 * 4);
  });

  it('finds the latest checkpoint of a run directory by step number', async () => {
    const { program, params } = paramsOf({ blocks: 1, feats: 4 });
    const run = tmp();
    for (const step of [99, 100, 7]) await saveCheckpoint(runCheckpointDir(run, step), { meta: checkpointMeta(program, step), params });
    expect(await resolveCheckpointDir(run)).toBe(path.join(run, 'checkpoints', 'step-0000100'));
    expect((await readCheckpoint(run)).meta.step).toBe(100);
    await expect(resolveCheckpointDir(tmp())).rejects.toThrow(/neither a checkpoint .* nor a run directory/);
    await expect(resolveCheckpointDir('/nonexistent/run')).rejects.toThrow('/nonexistent/run: no such checkpoint or run directory');
  });

  it('netc export --to netc ships a run\'s latest checkpoint without its optimizer state', async () => {
    const { program, params } = paramsOf({ blocks: 1, feats: 4 });
    const slots = new Map([...params].map(([name, v]) => [`adam/m/${name}`, tf.mul(v, 0.5)]));
    const run = tmp();
    for (const step of [5, 10]) await saveCheckpoint(runCheckpointDir(run, step), { meta: checkpointMeta(program, step), params, slots });
    tf.dispose([...slots.values()]);
    const out = path.join(tmp(), 'shipped');
    const r = await runCli(['export', OFFICIAL_MODEL, '--set', 'blocks=1', '--set', 'feats=4', '--to', 'netc', '--weights', run, '--out', out]);
    expect(r.code, r.stderr).toBe(0);
    expect(readdirSync(out).sort()).toEqual(['model.json', 'weights.bin']);
    const shipped = await readCheckpoint(out);
    expect(shipped.meta.step).toBe(10);
    expect(shipped.slots.size).toBe(0);
    for (const [name, v] of params) expect(shipped.params.get(name)!.data).toEqual(v.dataSync());
    const wrong = await runCli(['export', OFFICIAL_MODEL, '--to', 'netc', '--weights', run, '--out', path.join(tmp(), 'x')]);
    expect(wrong.code).toBe(1);
    expect(wrong.stderr).toMatch(/does not fit model 'Generator'/);
  });

  it('replaces atomically and leaves nothing behind when a save fails', async () => {
    const { program, params } = paramsOf({ blocks: 1, feats: 4 });
    const parent = tmp();
    const dir = path.join(parent, 'ckpt');
    await saveCheckpoint(dir, { meta: checkpointMeta(program, 1), params });
    const bad = new Map([['x', { shape: [2, 2], data: new Float32Array(3) }]]);
    await expect(saveCheckpoint(dir, { meta: checkpointMeta(program, 2), params: bad })).rejects.toThrow();
    expect(readdirSync(parent)).toEqual(['ckpt']);
    expect((await readCheckpoint(dir)).meta.step).toBe(1);
    await saveCheckpoint(dir, { meta: checkpointMeta(program, 3), params });
    expect(readdirSync(parent)).toEqual(['ckpt']);
    expect((await readCheckpoint(dir)).meta.step).toBe(3);
  });

  it('rejects truncated weight files clearly', async () => {
    const { program, params } = paramsOf({ blocks: 1, feats: 4 });
    const dir = path.join(tmp(), 'ckpt');
    await saveCheckpoint(dir, { meta: checkpointMeta(program, 1), params });
    const weights = path.join(dir, 'weights.bin');
    writeFileSync(weights, readFileSync(weights).subarray(0, 100));
    await expect(readCheckpoint(dir)).rejects.toThrow(`${weights}: truncated`);
  });
});

describe('a hand-edited or damaged model.json', () => {
  /** A saved checkpoint whose model.json is changed by `edit`; the error readCheckpoint gives. */
  async function errorAfter(edit: (json: Record<string, any>) => void, read = (dir: string) => readCheckpoint(dir)): Promise<{ message: string; file: string; dir: string }> {
    const { program, params } = paramsOf({ blocks: 1, feats: 4 });
    const dir = path.join(tmp(), 'ckpt');
    await saveCheckpoint(dir, { meta: checkpointMeta(program, 1), params });
    const file = path.join(dir, 'model.json');
    const json = JSON.parse(readFileSync(file, 'utf8'));
    edit(json);
    writeFileSync(file, JSON.stringify(json));
    const error = await read(dir).then(() => undefined, (e: unknown) => e);
    expect(error).toBeInstanceOf(UserError);
    return { message: (error as Error).message, file, dir };
  }

  it('a weights path outside the checkpoint directory is refused, not read', async () => {
    for (const name of ['../../../etc/passwd', '/etc/passwd', 'sub/weights.bin', '..']) {
      const { message, file } = await errorAfter((j) => (j.weightsManifest[0].paths = [name]));
      expect(message).toBe(`${file}: weightsManifest[0].paths[0]: '${name}' is not a plain file name inside the checkpoint directory`);
    }
  });

  it('a shape with -1 (or a fraction, or a string) is refused before anything is allocated', async () => {
    const cases: [unknown, string][] = [[-1, '-1'], [1.5, '1.5'], ['5', "'5'"], [null, 'null']];
    for (const [bad, shown] of cases) {
      const { message, file } = await errorAfter((j) => (j.weightsManifest[0].weights[0].shape[1] = bad));
      expect(message).toBe(`${file}: weightsManifest[0].weights[0].shape[1]: ${shown} is not a non-negative integer`);
    }
    const { message, file } = await errorAfter((j) => (j.weightsManifest[0].weights[0].shape = [65536, 65536, 2]));
    expect(message).toBe(`${file}: weightsManifest[0].weights[0].shape: [65536, 65536, 2] has more than 2,147,483,647 elements`);
  });

  it('meta.set values go through the rule of --set', async () => {
    const { message, file } = await errorAfter((j) => (j.netc.set = { blocks: '1e9' }));
    expect(message).toBe(`${file}: netc.set.blocks: '1e9' is not a number`);
    const named = await errorAfter((j) => (j.netc.set = { 'a b': 1 }));
    expect(named.message).toBe(`${named.file}: netc.set.a b: 'a b' is not a constant name`);
    const step = await errorAfter((j) => (j.netc.step = -3));
    expect(step.message).toBe(`${step.file}: netc.step: -3 is not a non-negative integer`);
  });

  it('shapes are checked against the model before the weights are read', async () => {
    const other = small({ blocks: 2, feats: 4 });
    const { message, dir } = await errorAfter((j) => (j.weightsManifest[0].weights[0].shape = [5, 5, 3, 9]), async (d) => {
      writeFileSync(path.join(d, 'weights.bin'), ''); // would be "truncated" if it were read first
      return loadCheckpointFor(other, d);
    });
    expect(message.startsWith(`${dir}: checkpoint (saved from ${OFFICIAL_MODEL} with --set blocks=1 feats=4) does not fit model 'Generator'`)).toBe(true);
    expect(message).toContain('wrong shape: scale2/ScaleNet/conv0.weight: expected [5, 5, 3, 4], found [5, 5, 3, 9]');
  });

  it('not JSON, or another format, is one clear error', async () => {
    const { program, params } = paramsOf({ blocks: 1, feats: 4 });
    const dir = path.join(tmp(), 'ckpt');
    await saveCheckpoint(dir, { meta: checkpointMeta(program, 1), params });
    const file = path.join(dir, 'model.json');
    writeFileSync(file, '{"format": "netc-checkpoint", "weightsManifest": [');
    await expect(readCheckpoint(dir)).rejects.toThrow(`${file}: not valid JSON`);
    writeFileSync(file, '{"format": "tfjs-layers"}');
    await expect(readCheckpoint(dir)).rejects.toThrow(`${file}: not a netc checkpoint (format 'tfjs-layers', expected 'netc-checkpoint')`);
  });
});

describe('netc import', () => {
  it('writes a checkpoint equal to the mapped PyTorch weights', async () => {
    const out = path.join(tmp(), 'imported');
    const pt = fixturePath('official255_r2_f8_s64', 'model.pt');
    const result = await runCli(['import', pt, '--model', OFFICIAL_MODEL, '--set', 'blocks=2', '--set', 'feats=8', '--out', out]);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('40 tensors, 25,953 parameters');
    const program = compileModel(OFFICIAL_MODEL, { blocks: 2, feats: 8 }, [256, 256]);
    const expected = await importOfficialCheckpoint(program, pt);
    const { checkpoint, params } = await loadCheckpointFor(program, out);
    live.push(params);
    expect(checkpoint.meta.extra).toEqual({ importedFrom: pt });
    for (const [name, v] of expected) expect(checkpoint.params.get(name)!.data).toEqual(v.data);
  });

  it('explains a checkpoint of another variant (19 blocks into 2) and writes nothing', async () => {
    const parent = tmp();
    const pt = fixturePath('official255_r19_f16_s64', 'model.pt');
    const result = await runCli(['import', pt, '--model', OFFICIAL_MODEL, '--set', 'blocks=2', '--out', path.join(parent, 'x')]);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(`netc: error: ${pt}: the checkpoint's generator (scales=3 blocks=19 feats=16 kernel=5: 122 convolutions) does not fit ${OFFICIAL_MODEL} (20 convolutions)`);
    expect(readdirSync(parent)).toEqual([]);
  });

  it('lists shape mismatches by name when the structure matches but widths differ, and writes nothing', async () => {
    const pt = fixturePath('official255_r2_f8_s64', 'model.pt');
    const parent = tmp();
    const result = await runCli(['import', pt, '--model', OFFICIAL_MODEL, '--set', 'blocks=2', '--set', 'feats=16', '--out', path.join(parent, 'x')]);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('wrong shape: body_models.2.body.0.weight -> scale2/ScaleNet/conv0.weight');
    expect(result.stderr).toContain('model expects HWIO [5, 5, 3, 16], checkpoint has HWIO [5, 5, 3, 8] (OIHW [8, 3, 5, 5])');
    expect(readdirSync(parent)).toEqual([]);
  });

  it('refuses a .pt with a foreign pickle global', async () => {
    const pt = path.resolve('test/helpers/torch/malicious.pt');
    const result = await runCli(['import', pt, '--model', OFFICIAL_MODEL, '--out', path.join(tmp(), 'x')]);
    expect(result.code).toBe(1);
    expect(result.stderr).toBe(`netc: error: refusing to load ${pt}: pickle global 'posix.system' is not allowed (netc only loads state dicts)`);
  });
});
