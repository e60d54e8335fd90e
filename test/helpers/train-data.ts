// A tiny GOPRO-layout dataset for training/eval tests, synthesized (netc synth's code) from
// the fixture video frames: train = frames 1-12 (window 3, stride 1: 10 pairs),
// test = frames 22-30 (window 3, stride 3: 3 pairs, frame_0023/26/29.png). Deterministic.
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll } from 'vitest';
import { synthesize } from '../../src/runtime/data/synth.js';
import { SHARED } from './spawn-cli.js';

export const CITY_FRAMES = path.join(SHARED, 'fixtures/video/city-small');

async function linkFrames(dir: string, first: number, last: number): Promise<void> {
  await fs.mkdir(dir, { recursive: true });
  for (let i = first; i <= last; i++) {
    const name = `frame_${String(i).padStart(4, '0')}.png`;
    await fs.symlink(path.join(CITY_FRAMES, name), path.join(dir, name));
  }
}

export async function makeTrainingData(root: string): Promise<void> {
  // beside the root: netc synth writes only into a root that is empty or its own
  const frames = path.join(path.dirname(root), `${path.basename(root)}.frames`);
  await linkFrames(path.join(frames, 'train'), 1, 12);
  await linkFrames(path.join(frames, 'test'), 22, 30);
  await synthesize({ frames: path.join(frames, 'train'), out: root, window: 3, stride: 1, split: 'train', seq: 'city' });
  await synthesize({ frames: path.join(frames, 'test'), out: root, window: 3, stride: 3, split: 'test', seq: 'city' });
}

/** A temporary directory for one test file, `data` inside it holding makeTrainingData's
 *  pairs: made before the file's tests (hooks registered here run first) and removed
 *  after. Read the fields inside hooks and tests. */
export function useTrainingData(prefix: string): { tmp: string; data: string } {
  const dirs = { tmp: '', data: '' };
  beforeAll(async () => {
    dirs.tmp = await fs.mkdtemp(path.join(os.tmpdir(), prefix));
    dirs.data = path.join(dirs.tmp, 'data');
    await makeTrainingData(dirs.data);
  });
  afterAll(async () => {
    await fs.rm(dirs.tmp, { recursive: true, force: true });
  });
  return dirs;
}
