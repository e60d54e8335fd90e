// Blurry/sharp pairs in the GOPRO layout:
//   ROOT/<split>/<SEQ>/{blur,blur_gamma,sharp}/<frame>.png
// pairs matched by file name within a sequence (any folder of pairs in that layout works,
// e.g. what `netc synth` writes). Decoded pairs are kept as 8-bit RGB in an LRU cache with
// a byte budget: a small set is decoded once; a large one (GOPRO: ~5.5 MB per pair) keeps
// the most recently used pairs.
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { UserError } from '../../errors.js';
import { readImage } from '../image.js';
import { toRgb8, type Rgb8Image } from '../metrics.js';

export type BlurKind = 'blur' | 'blur_gamma';
/** train: what a run learns from; val: what it validates on while training (checkpoint
 *  choice), when the root has it; test: held out for the final score only. */
export const SPLITS = ['train', 'val', 'test'] as const;
export type Split = (typeof SPLITS)[number];

/** `value` as a Split, or a UserError naming `what` (e.g. `--split`). */
export function parseSplit(value: unknown, what: string): Split {
  if (typeof value === 'string' && (SPLITS as readonly string[]).includes(value)) return value as Split;
  throw new UserError(`${what} must be ${SPLITS.join(', ').replace(/, (?=[^,]*$)/, ' or ')}, got ${String(value)}`);
}

export interface PairEntry {
  /** `<SEQ>/<file name>`, unique within the split. */
  id: string;
  blur: string;
  sharp: string;
}

/** A pair's sharp image alone: all that `augment: shake` reads (it makes the blur anew). */
export interface SharpImage {
  entry: PairEntry;
  sharp: Rgb8Image;
}

export interface Pair extends SharpImage {
  blur: Rgb8Image;
}

const cachedBytes = (item: SharpImage) => item.sharp.data.length + ((item as Partial<Pair>).blur?.data.length ?? 0);

/** What a PairDataset is made of, plain data: lets a worker thread open the same dataset. */
export interface PairDatasetSpec {
  root: string;
  split: Split;
  blurKind: BlurKind;
  pairs: PairEntry[];
  cacheBytes: number;
}

export interface PairDatasetOptions {
  /** Decoded-pair cache budget in bytes (default 2 GiB). */
  cacheBytes?: number;
}

const IMAGE_EXTENSIONS = new Set(['.png', '.jpg', '.jpeg']);
const LAYOUT = 'expected ROOT/{train,val,test}/<SEQ>/{blur,blur_gamma,sharp}/*.png';
export const DEFAULT_CACHE_BYTES = 2 * 1024 ** 3;

async function listDir(dir: string, what: string): Promise<string[]> {
  try {
    const stat = await fs.stat(dir);
    if (!stat.isDirectory()) throw new UserError(`${dir}: not a folder (${what}; ${LAYOUT})`);
    return (await fs.readdir(dir)).sort((a, b) => a.localeCompare(b, 'en', { numeric: true }));
  } catch (err) {
    if (err instanceof UserError) throw err;
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw new UserError(`${dir}: no such folder (${what}; ${LAYOUT})`);
    throw new UserError(`${dir}: cannot read (${(err as Error).message})`);
  }
}

const images = (names: string[]) => names.filter((n) => IMAGE_EXTENSIONS.has(path.extname(n).toLowerCase()));

function describeNames(names: string[]): string {
  return names.length <= 3 ? names.join(', ') : `${names.slice(0, 3).join(', ')} and ${names.length - 3} more`;
}

export class PairDataset {
  private cache = new Map<number, SharpImage | Pair>(); // insertion order = least recently used first
  private cachedBytes = 0;
  readonly cacheBytes: number;

  private constructor(
    readonly root: string,
    readonly split: Split,
    readonly blurKind: BlurKind,
    readonly pairs: PairEntry[],
    options: PairDatasetOptions,
  ) {
    this.cacheBytes = options.cacheBytes ?? DEFAULT_CACHE_BYTES;
  }

  /** Lists the pairs of ROOT/<split>; every sequence needs `<blurKind>/` and `sharp/` with the same file names. */
  static async open(root: string, split: Split, blurKind: BlurKind = 'blur_gamma', options: PairDatasetOptions = {}): Promise<PairDataset> {
    if (blurKind !== 'blur' && blurKind !== 'blur_gamma') throw new UserError(`blur must be "blur" or "blur_gamma", got ${String(blurKind)}`);
    await listDir(root, 'the dataset root');
    const splitDir = path.join(root, split);
    const sequences = await listDir(splitDir, `the ${split} split`);
    const pairs: PairEntry[] = [];
    for (const seq of sequences) {
      if (seq.startsWith('.')) continue; // hidden: e.g. a sequence a killed `netc synth` was writing
      const seqDir = path.join(splitDir, seq);
      if (!(await fs.stat(seqDir)).isDirectory()) continue;
      const blurNames = images(await listDir(path.join(seqDir, blurKind), `the blurry images of sequence ${seq}`));
      const sharpNames = images(await listDir(path.join(seqDir, 'sharp'), `the sharp images of sequence ${seq}`));
      const sharpSet = new Set(sharpNames);
      const blurSet = new Set(blurNames);
      const noSharp = blurNames.filter((n) => !sharpSet.has(n));
      const noBlur = sharpNames.filter((n) => !blurSet.has(n));
      if (noSharp.length || noBlur.length) {
        const problems = [
          noSharp.length ? `${describeNames(noSharp)} in ${blurKind}/ but not in sharp/` : '',
          noBlur.length ? `${describeNames(noBlur)} in sharp/ but not in ${blurKind}/` : '',
        ].filter(Boolean);
        throw new UserError(`${seqDir}: unmatched pairs: ${problems.join('; ')} (pairs are matched by file name)`);
      }
      for (const name of blurNames) {
        pairs.push({ id: `${seq}/${name}`, blur: path.join(seqDir, blurKind, name), sharp: path.join(seqDir, 'sharp', name) });
      }
    }
    if (pairs.length === 0) throw new UserError(`${splitDir}: no image pairs (${LAYOUT})`);
    return new PairDataset(root, split, blurKind, pairs, options);
  }

  /** The same dataset from its spec (no listing again; see `spec`). */
  static fromSpec(spec: PairDatasetSpec): PairDataset {
    return new PairDataset(spec.root, spec.split, spec.blurKind, spec.pairs, { cacheBytes: spec.cacheBytes });
  }

  get spec(): PairDatasetSpec {
    return { root: this.root, split: this.split, blurKind: this.blurKind, pairs: this.pairs, cacheBytes: this.cacheBytes };
  }

  get size(): number {
    return this.pairs.length;
  }

  /** Whether the blurry images were blurred in linear light (blur_gamma), as shake blurs. */
  get linearBlur(): boolean {
    return this.blurKind === 'blur_gamma';
  }

  /** The decoded pair `index` (cached); blurry and sharp must have the same size. */
  async load(index: number): Promise<Pair> {
    const hit = this.cached(index);
    if (hit && 'blur' in hit) return hit;
    const entry = this.entry(index);
    const [blur, sharp] = await Promise.all([readImage(entry.blur).then(toRgb8), hit ? hit.sharp : readImage(entry.sharp).then(toRgb8)]);
    if (blur.width !== sharp.width || blur.height !== sharp.height) {
      throw new UserError(`${entry.blur}: ${blur.width}x${blur.height}, but its sharp image ${entry.sharp} is ${sharp.width}x${sharp.height}`);
    }
    const pair: Pair = { entry, blur, sharp };
    this.remember(index, pair);
    return pair;
  }

  /** The decoded sharp image of pair `index` (cached, alone unless the pair is): for
   *  training with `augment: shake`, half the decoding and half the cache of `load`. */
  async loadSharp(index: number): Promise<SharpImage> {
    const hit = this.cached(index);
    if (hit) return hit;
    const entry = this.entry(index);
    const image: SharpImage = { entry, sharp: toRgb8(await readImage(entry.sharp)) };
    this.remember(index, image);
    return image;
  }

  private entry(index: number): PairEntry {
    const entry = this.pairs[index];
    if (!entry) throw new Error(`pair index ${index} out of range 0..${this.pairs.length - 1}`);
    return entry;
  }

  private cached(index: number): SharpImage | Pair | undefined {
    const hit = this.cache.get(index);
    if (hit) {
      this.cache.delete(index); // move to the most recently used end
      this.cache.set(index, hit);
    }
    return hit;
  }

  private remember(index: number, item: SharpImage | Pair): void {
    const old = this.cache.get(index);
    if (old && (!('blur' in item) || 'blur' in old)) return; // loaded twice concurrently
    if (old) this.cachedBytes -= cachedBytes(old); // a sharp image replaced by its whole pair
    this.cache.delete(index);
    this.cache.set(index, item);
    this.cachedBytes += cachedBytes(item);
    for (const [key, evicted] of this.cache) {
      if (this.cachedBytes <= this.cacheBytes || key === index) break;
      this.cache.delete(key);
      this.cachedBytes -= cachedBytes(evicted);
    }
  }
}
