// Access to the PyTorch parity fixtures in ../shared/fixtures/parity (see its README).
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { HostArray } from '../../src/runtime/params.js';

const here = path.dirname(fileURLToPath(import.meta.url));
export const PARITY_ROOT = path.resolve(here, '../../../shared/fixtures/parity');
export const PARITY_FOLDERS = ['small_r2_f8_s32', 'official255_r2_f8_s64', 'official255_r19_f16_s64'] as const;
export type ParityFolder = (typeof PARITY_FOLDERS)[number];

export interface FixtureConfig {
  n_resblocks: number;
  n_feats: number;
  kernel_size: number;
  n_scales: number;
  rgb_range: number;
  size: number;
}

export function fixturePath(folder: string, file: string): string {
  return path.join(PARITY_ROOT, folder, file);
}

export function fixtureConfig(folder: string): FixtureConfig {
  return JSON.parse(readFileSync(fixturePath(folder, 'fixture.json'), 'utf8')).config as FixtureConfig;
}

/** An NHWC float32 .bin of the fixture, with the shape from fixture.json. */
export function fixtureArray(folder: string, file: string): HostArray {
  const meta = JSON.parse(readFileSync(fixturePath(folder, 'fixture.json'), 'utf8'));
  const shape = meta.files[file].shape as number[];
  const bytes = readFileSync(fixturePath(folder, file));
  return { shape, data: new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength)) };
}

/** Weights from a tfjs-style manifest of the fixture (names = PyTorch keys). */
export function fixtureManifestWeights(folder: string, manifest: string): Map<string, HostArray> {
  const groups = JSON.parse(readFileSync(fixturePath(folder, manifest), 'utf8')) as { paths: string[]; weights: { name: string; shape: number[] }[] }[];
  const result = new Map<string, HostArray>();
  for (const group of groups) {
    const bytes = readFileSync(fixturePath(folder, group.paths[0]));
    const all = new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
    let offset = 0;
    for (const { name, shape } of group.weights) {
      const size = shape.reduce((a, b) => a * b, 1);
      result.set(name, { shape, data: all.slice(offset, offset + size) });
      offset += size;
    }
  }
  return result;
}

export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`length ${a.length} vs ${b.length}`);
  let max = 0;
  for (let i = 0; i < a.length; i++) max = Math.max(max, Math.abs(a[i] - b[i]));
  return max;
}
