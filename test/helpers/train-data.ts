// A tiny GOPRO-layout dataset for training/eval tests, synthesized (netc synth's code) from
// the fixture video frames: train = frames 1-12 (window 3, stride 1: 10 pairs),
// test = frames 22-30 (window 3, stride 3: 3 pairs, frame_0023/26/29.png). Deterministic.
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
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
  const frames = path.join(root, '.frames');
  await linkFrames(path.join(frames, 'train'), 1, 12);
  await linkFrames(path.join(frames, 'test'), 22, 30);
  await synthesize({ frames: path.join(frames, 'train'), out: root, window: 3, stride: 1, split: 'train', seq: 'city' });
  await synthesize({ frames: path.join(frames, 'test'), out: root, window: 3, stride: 3, split: 'test', seq: 'city' });
}
