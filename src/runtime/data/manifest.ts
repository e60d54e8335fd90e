// What ROOT/manifest.json (dataset-root.ts: the file that marks a dataset root netc wrote)
// says of each sequence synth --video/--kernels make: its sources (file, sha256, license), how
// it was made, how many pairs it holds; and per split, the pair counts. It keeps the splits
// honest: a source file feeds one split only (train, val or test), so held-out pairs never
// share a clip (or a photo) with the training pairs, nor validation pairs with either.
import { createHash } from 'node:crypto';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { UserError } from '../../errors.js';
import { updateNetcManifest } from '../fsutil.js';
import { DATASET_KIND } from './dataset-root.js';
import type { Split } from './dataset.js';

export interface SequenceRecord {
  split: Split;
  seq: string;
  kind: 'frames' | 'video' | 'kernels';
  /** Source files (or the frames folder), as given. */
  sources: { path: string; sha256?: string }[];
  license: string;
  pairs: number;
  /** The options that made the pairs (window, stride, range, size, seed, ...). */
  settings: Record<string, unknown>;
  created: string;
}

export interface Manifest {
  netc: 'dataset';
  version: 1;
  /** By `<split>/<seq>`. */
  sequences: Record<string, SequenceRecord>;
  /** Pairs per split. */
  counts: Record<string, number>;
}

export const MANIFEST = 'manifest.json';

export async function sha256File(file: string): Promise<string> {
  return createHash('sha256').update(await fs.readFile(file)).digest('hex');
}

export async function readManifest(root: string): Promise<Manifest | undefined> {
  let text: string;
  try {
    text = await fs.readFile(path.join(root, MANIFEST), 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new UserError(`${path.join(root, MANIFEST)}: cannot read (${(err as Error).message})`);
  }
  try {
    const manifest = JSON.parse(text) as Manifest;
    if (manifest?.netc !== 'dataset' || typeof manifest.sequences !== 'object') throw new Error('not a netc dataset manifest');
    return manifest;
  } catch (err) {
    throw new UserError(`${path.join(root, MANIFEST)}: not a netc dataset manifest (${(err as Error).message}); choose another --out`);
  }
}

/** Refuses a sequence whose sources already feed another split (compared by sha256 when
 *  known, else by path). Call before synthesizing. */
export async function checkHeldOut(root: string, split: Split, sources: SequenceRecord['sources']): Promise<void> {
  const manifest = await readManifest(root);
  if (!manifest) return;
  for (const record of Object.values(manifest.sequences)) {
    if (!record.split || record.split === split) continue; // (records of synth --frames name no split)
    const other = record.split;
    for (const source of sources) {
      const same = (record.sources ?? []).find((s) => (s.sha256 && source.sha256 ? s.sha256 === source.sha256 : path.resolve(s.path) === path.resolve(source.path)));
      if (same) {
        throw new UserError(`${source.path} already feeds the ${other} split of ${root} (sequence ${record.seq}); ` +
          `the val and test splits must hold out whole clips and photos, never parts of another split's`);
      }
    }
  }
}

/** Records a sequence (replacing what the manifest said of it) and the counts per split. */
export async function recordSequence(root: string, record: SequenceRecord): Promise<void> {
  await updateNetcManifest(root, DATASET_KIND, (manifest) => {
    const sequences = (manifest.sequences ?? {}) as Record<string, Partial<SequenceRecord>>;
    sequences[`${record.split}/${record.seq}`] = record;
    const counts: Record<string, number> = {};
    for (const [entry, r] of Object.entries(sequences)) {
      const split = r.split ?? entry.split('/')[0];
      counts[split] = (counts[split] ?? 0) + (r.pairs ?? (r as { names?: unknown[] }).names?.length ?? 0);
    }
    Object.assign(manifest, { version: 1, sequences, counts });
  });
}
