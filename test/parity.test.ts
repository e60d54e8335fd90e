// Numerical parity with PyTorch: the fixtures' model.pt imported through `netc import`'s
// mapping, run on each backend, every scale compared with PyTorch's output.
// Differences are measured in 0..1 image units (the official255 fixtures are divided by 255).
import { afterAll, describe, expect, it } from 'vitest';
import { initBackend, type BackendName } from '../src/runtime/backends/index.js';
import { runGraph } from '../src/runtime/execute.js';
import { importOfficialCheckpoint } from '../src/runtime/import.js';
import { disposeParams, paramsFromArrays } from '../src/runtime/params.js';
import { tf } from '../src/runtime/tf.js';
import { TFJS_BACKEND } from './helpers/backends.js';
import { PARITY_FOLDERS, fixtureArray, fixtureConfig, fixturePath, maxAbsDiff } from './helpers/fixtures.js';
import { OFFICIAL_MODEL, PAPER_MODEL, compileModel } from './helpers/models.js';

const TOLERANCE: Record<BackendName, number> = { 'tfjs-cpu': 1e-5, cpu: 1e-5, webgl: 1e-4 };

async function runFixture(folder: string) {
  const config = fixtureConfig(folder);
  // rgb_range 255 fixtures are the official model; rgb_range 1 is the paper's 0..1 form.
  const official = config.rgb_range === 255;
  const program = compileModel(official ? OFFICIAL_MODEL : PAPER_MODEL, { blocks: config.n_resblocks, feats: config.n_feats }, [config.size, config.size]);
  const params = paramsFromArrays(await importOfficialCheckpoint(program, fixturePath(folder, 'model.pt')));
  const input = fixtureArray(folder, 'input.bin');
  const x = tf.tidy(() => tf.div(tf.tensor(input.data, input.shape), config.rgb_range));
  const outputs = runGraph(program.models[program.generator], [x], params);
  const diffs = outputs.map((out, s) => {
    const expected = fixtureArray(folder, `out_scale${s}.bin`);
    expect(out.shape).toEqual(expected.shape);
    return maxAbsDiff(out.dataSync(), expected.data.map((v) => v / config.rgb_range));
  });
  tf.dispose([x, ...outputs]);
  disposeParams(params);
  return diffs;
}

const backends: BackendName[] = ['tfjs-cpu', 'webgl', 'cpu'];
const measured: string[] = [];
afterAll(() => console.log(`parity max abs diff (0..1 units):\n  ${measured.join('\n  ')}`));

describe.each(backends)('PyTorch parity on %s', (backend) => {
  it.each(PARITY_FOLDERS)('%s: every scale within tolerance', async (folder) => {
    const info = await initBackend(backend);
    expect(info.tfjsBackend).toBe(TFJS_BACKEND[backend]);
    expect(tf.getBackend()).toBe(TFJS_BACKEND[backend]);
    const diffs = await runFixture(folder);
    measured.push(`${backend} (${info.tfjsBackend}) ${folder}: ${diffs.map((d) => d.toExponential(2)).join(' ')}`);
    for (const diff of diffs) expect(diff).toBeLessThanOrEqual(TOLERANCE[backend]);
  }, 120_000);
});
