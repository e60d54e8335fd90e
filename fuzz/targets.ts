// The fuzz targets: for each input format netc reads, seeds (real files), a mutation, and
// what a case must do: succeed, or fail with a UserError (a CompileError for .net) — never
// another exception (a crash or an internal error). Time and memory per case are watched
// by the runner (run.ts). Case i of a format is generated from mulberry32(seed + i), so
// `--only i` reproduces it.
import { promises as fs, readFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { CompileError, compileFile, compileSource } from '../src/compiler/index.js';
import { mulberry32 } from '../src/compiler/init.js';
import type { Program } from '../src/compiler/ir.js';
import { UserError } from '../src/errors.js';
import { initBackend } from '../src/runtime/backends/index.js';
import { checkpointMeta, loadCheckpointFor, readCheckpointManifest, saveCheckpoint } from '../src/runtime/checkpoint.js';
import { encodePng, readImage } from '../src/runtime/image.js';
import { importOfficialCheckpoint } from '../src/runtime/import.js';
import { createParams, disposeParams } from '../src/runtime/params.js';
import { fixPngCrcs, mutateBytes, mutateJson, mutateNet, pick, type Random } from './mutate.js';
import { interlacedRgbPng } from './png-builder.js';
import { buildZip, readZipEntries, type ZipEntrySpec } from './torch-archive.js';

const here = path.dirname(fileURLToPath(import.meta.url));
/** The repository (this file runs from fuzz/ under tests, from dist/fuzz/ as `npm run fuzz`). */
export const ROOT = path.resolve(here, path.basename(path.dirname(here)) === 'dist' ? '../..' : '..');
const SHARED = path.resolve(ROOT, '../shared');
const OFFICIAL = path.join(ROOT, 'models/deepdeblur-pytorch.net');
/** Fuzzed images are refused above this size (the check is the same at any limit; a
 *  smaller one keeps a mutated header of 10000x10000 from taking seconds to decode). */
const FUZZ_MAX_PIXELS = 4_000_000;

export type Outcome = 'accepted' | 'refused';

export interface Target {
  name: string;
  /** Loads seeds and whatever the cases share; returns the case runner. */
  setup(work: string): Promise<(random: Random, caseDir: string) => Promise<Outcome>>;
}

/** A UserError (or CompileError) is the expected refusal; anything else is a finding. */
async function expectRefusalOrSuccess(run: () => Promise<unknown>): Promise<Outcome> {
  try {
    await run();
    return 'accepted';
  } catch (err) {
    if (err instanceof UserError || err instanceof CompileError) return 'refused';
    throw err;
  }
}

const net: Target = {
  name: 'net',
  async setup() {
    const models = ['models/deepdeblur.net', 'models/deepdeblur-pytorch.net'].map((f) => ({ file: f, text: readFileSync(path.join(ROOT, f), 'utf8') }));
    return async (random) => {
      const { file, text } = pick(random, models);
      const source = mutateNet(text, random);
      return expectRefusalOrSuccess(async () => compileSource(source, file, { input: [64, 64] }));
    };
  },
};

const pt: Target = {
  name: 'pt',
  async setup() {
    const program = compileFile(OFFICIAL, { set: { blocks: 2, feats: 8 }, input: [64, 64] }).program;
    const seeds = await Promise.all([
      path.join(SHARED, 'fixtures/parity/official255_r2_f8_s64/model.pt'),
      path.join(ROOT, 'test/helpers/torch/strided.pt'),
      path.join(ROOT, 'test/helpers/torch/deflated.pt'),
      path.join(ROOT, 'test/helpers/torch/malicious.pt'),
    ].map(async (file) => ({ bytes: readFileSync(file), entries: await readZipEntries(file) })));
    return async (random, caseDir) => {
      const seed = pick(random, seeds);
      let bytes: Buffer;
      const how = random();
      if (how < 0.4) {
        // the pickle mutated inside an intact archive (reaches the unpickler)
        bytes = buildZip(seed.entries.map((e): ZipEntrySpec => (e.name.endsWith('data.pkl') ? { ...e, data: mutateBytes(e.data, random, 6) } : e)));
      } else if (how < 0.6) {
        // one storage entry resized or its declared size changed
        const storages = seed.entries.filter((e) => /\/data\/\w+$/.test(e.name));
        const target = storages.length ? pick(random, storages).name : '';
        bytes = buildZip(seed.entries.map((e): ZipEntrySpec => {
          if (e.name !== target) return e;
          const r = random();
          if (r < 0.33) return { ...e, data: e.data.subarray(0, Math.floor(random() * e.data.length)) };
          if (r < 0.66) return { ...e, data: e.data, deflate: true, declaredSize: pick(random, [0, 1, e.data.length * 2, 2 ** 31, 2 ** 32 - 1]) };
          return { ...e, data: Buffer.concat([e.data, e.data]) };
        }));
      } else {
        bytes = mutateBytes(seed.bytes, random, 6); // the archive itself
      }
      const file = path.join(caseDir, 'model.pt');
      await fs.writeFile(file, bytes);
      return expectRefusalOrSuccess(() => importOfficialCheckpoint(program, file));
    };
  },
};

const modelJson: Target = {
  name: 'model.json',
  async setup(work) {
    await initBackend('tfjs-cpu');
    const program: Program = compileFile(OFFICIAL, { set: { blocks: 1, feats: 4 }, input: [32, 32] }).program;
    const params = createParams(program.models[program.generator], 1);
    const seedDir = path.join(work, 'seed-checkpoint');
    await saveCheckpoint(seedDir, { meta: checkpointMeta(program, 7, { note: 'seed' }), params, slots: new Map([...params].map(([k, v]) => [`adam/m/${k}`, v])) });
    disposeParams(params);
    const files = Object.fromEntries(await Promise.all(['model.json', 'weights.bin', 'optimizer.bin'].map(async (f) => [f, await fs.readFile(path.join(seedDir, f))] as const)));
    const doc = JSON.parse(files['model.json'].toString('utf8'));
    return async (random, caseDir) => {
      const dir = path.join(caseDir, 'ckpt');
      await fs.mkdir(dir);
      const r = random();
      const text = r < 0.7 ? JSON.stringify(mutateJson(doc, random)) : mutateBytes(files['model.json'], random, 3).toString('utf8');
      await fs.writeFile(path.join(dir, 'model.json'), text);
      for (const f of ['weights.bin', 'optimizer.bin']) {
        const data = random() < 0.15 ? mutateBytes(files[f], random, 2) : files[f];
        await fs.writeFile(path.join(dir, f), data);
      }
      return expectRefusalOrSuccess(async () => {
        // what eval and train --resume do: compile with the saved --set values, then load
        const { model } = await readCheckpointManifest(dir);
        compileFile(OFFICIAL, { set: model.netc.set, input: [32, 32] });
        const { params: loaded } = await loadCheckpointFor(program, dir);
        disposeParams(loaded);
      });
    };
  },
};

function imageTarget(name: 'png' | 'jpeg', seedsOf: () => Buffer[], prepare: (bytes: Buffer, random: Random) => Buffer): Target {
  return {
    name,
    async setup() {
      const seeds = seedsOf();
      return async (random, caseDir) => {
        const file = path.join(caseDir, `image.${name === 'png' ? 'png' : 'jpg'}`);
        await fs.writeFile(file, prepare(mutateBytes(pick(random, seeds), random, 4), random));
        return expectRefusalOrSuccess(() => readImage(file, { maxPixels: FUZZ_MAX_PIXELS }));
      };
    },
  };
}

const images = path.join(ROOT, 'test/fixtures/images');
const png = imageTarget('png', () => {
  const rgb = Uint8Array.from({ length: 19 * 13 * 3 }, (_, i) => (i * 37) % 256);
  return [
    ...['rgb_12x10.png', 'rgba_12x10.png', 'palette_12x10.png'].map((f) => readFileSync(path.join(images, f))),
    interlacedRgbPng(19, 13, rgb),
    encodePng({ width: 9, height: 11, data: Float32Array.from({ length: 9 * 11 * 3 }, (_, i) => (i % 17) / 16) }),
  ];
}, (bytes, random) => (random() < 0.8 ? fixPngCrcs(bytes) : bytes));

const jpeg = imageTarget('jpeg', () => ['chelsea_48x40.jpg', 'chelsea_48x40_progressive.jpg', 'gray_12x10.jpg'].map((f) => readFileSync(path.join(images, f))), (bytes) => bytes);

export const TARGETS: Record<string, Target> = { net, pt, 'model.json': modelJson, png, jpeg };

export function caseRandom(seed: number, index: number): Random {
  return mulberry32((seed + Math.imul(index, 0x9e3779b1)) >>> 0);
}

export const workDir = () => fs.mkdtemp(path.join(os.tmpdir(), 'netc-fuzz-'));
