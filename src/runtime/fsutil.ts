// Writing outputs: atomically (a reader, or a crash, never sees a half-written file or
// directory), and never over anything of the user's.
//
// THE OWNED-OUTPUT RULE. An `--out` of netc (import, synth, train, deblur, sweep, ...)
// replaces only something netc itself wrote there before; anything else is refused with
// a UserError naming the path. A missing path or an empty directory is always fine. What
// netc recognizes as its own (each an `Ownership` below; pass one to writeDirAtomic,
// writeFileAtomic or assertReplaceable):
//   CHECKPOINT_OUTPUT  a directory with model.json of format 'netc-checkpoint' and nothing
//                      but model.json and the weight files that manifest names
//   RUN_OUTPUT         a training run: log.jsonl and/or checkpoints/ (train/run.ts layout)
//   PNG_OUTPUT         a PNG carrying netc's tEXt chunk `Software: netc` (image.ts)
//   manifestOutput(k)  any other directory netc makes (dataset roots, sweeps): it holds
//                      manifest.json with a "netc" field naming the kind k, written with
//                      writeNetcManifest / updateNetcManifest, e.g.
//                        {"netc": "dataset", "sequences": {"train/city": {...}}}
//                      A command that writes inside such a root (a sequence, a sweep's run)
//                      records the entry in the manifest first and replaces only entries
//                      the manifest lists (see data/synth.ts).
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { UserError } from '../errors.js';

/** How a command recognizes an output it may replace. */
export interface Ownership {
  /** For messages: 'a netc checkpoint', 'a dataset root written by netc', ... */
  what: string;
  /** Whether `target` (which exists) is such an output. */
  recognize(target: string): Promise<boolean>;
}

export const NETC_MANIFEST = 'manifest.json';
/** The tEXt chunk netc's PNGs carry (keyword, NUL, text). */
export const PNG_MARKER = Buffer.from('Software\0netc', 'latin1');

async function entries(dir: string): Promise<string[] | undefined> {
  return fs.readdir(dir).catch(() => undefined);
}

async function readSmallJson(file: string, maxBytes = 4 * 2 ** 20): Promise<unknown> {
  const stat = await fs.stat(file).catch(() => undefined);
  if (!stat?.isFile() || stat.size > maxBytes) return undefined;
  try {
    return JSON.parse(await fs.readFile(file, 'utf8'));
  } catch {
    return undefined;
  }
}

export const CHECKPOINT_OUTPUT: Ownership = {
  what: 'a netc checkpoint',
  async recognize(dir) {
    const json = (await readSmallJson(path.join(dir, 'model.json'), 64 * 2 ** 20)) as { format?: unknown; weightsManifest?: { paths?: unknown[] }[] } | undefined;
    if (json?.format !== 'netc-checkpoint' || !Array.isArray(json.weightsManifest)) return false;
    const own = new Set(['model.json', ...json.weightsManifest.flatMap((g) => (Array.isArray(g?.paths) ? g.paths.map(String) : []))]);
    return (await entries(dir))?.every((name) => own.has(name)) ?? false;
  },
};

export const RUN_OUTPUT: Ownership = {
  what: 'a netc run directory (log.jsonl, checkpoints/)',
  async recognize(dir) {
    const names = await entries(dir);
    return names !== undefined && (names.includes('log.jsonl') || names.includes('checkpoints'));
  },
};

export const PNG_OUTPUT: Ownership = {
  what: 'a PNG written by netc',
  async recognize(file) {
    const handle = await fs.open(file, 'r').catch(() => undefined);
    if (!handle) return false;
    try {
      const head = Buffer.alloc(33 + 8 + PNG_MARKER.length);
      const { bytesRead } = await handle.read(head, 0, head.length, 0);
      // signature (8), IHDR chunk (25), then netc's tEXt chunk: length, 'tEXt', marker
      return bytesRead === head.length && head.toString('latin1', 37, 41) === 'tEXt' && head.subarray(41).equals(PNG_MARKER);
    } finally {
      await handle.close();
    }
  },
};

/** Directories holding manifest.json with {"netc": kind}. */
export function manifestOutput(kind: string): Ownership {
  return { what: `a ${kind} written by netc (${NETC_MANIFEST} with "netc": "${kind}")`, recognize: async (dir) => (await readNetcManifest(dir, kind)) !== undefined };
}

/** The manifest.json of a directory netc made of `kind`, or undefined. */
export async function readNetcManifest(dir: string, kind: string): Promise<Record<string, unknown> | undefined> {
  const json = await readSmallJson(path.join(dir, NETC_MANIFEST));
  return typeof json === 'object' && json !== null && (json as { netc?: unknown }).netc === kind ? (json as Record<string, unknown>) : undefined;
}

/** Writes `dir/manifest.json` = {"netc": kind, ...fields}, atomically. */
export async function writeNetcManifest(dir: string, kind: string, fields: Record<string, unknown>): Promise<void> {
  await writeFileAtomic(path.join(dir, NETC_MANIFEST), JSON.stringify({ ...fields, netc: kind }, null, 1) + '\n');
}

/** Reads (or starts) `dir`'s manifest of `kind`, lets `change` edit it, writes it back. */
export async function updateNetcManifest(dir: string, kind: string, change: (manifest: Record<string, unknown>) => void): Promise<void> {
  const manifest = (await readNetcManifest(dir, kind)) ?? { netc: kind };
  change(manifest);
  await writeNetcManifest(dir, kind, manifest);
}

/** Throws a UserError unless `target` is missing, an empty directory, or recognized by
 *  `owner` as something netc wrote (see the rule above). `flag` names the option. */
export async function assertReplaceable(target: string, owner: Ownership, flag = '--out'): Promise<void> {
  const stat = await fs.lstat(target).catch(() => undefined);
  if (!stat) return;
  if (stat.isDirectory() && (await entries(target))?.length === 0) return;
  if (!stat.isSymbolicLink() && (await owner.recognize(target))) return;
  throw new UserError(`${flag} ${target}: already exists and is not ${owner.what}; netc replaces only what it wrote itself, so it leaves this alone (move it away or choose another ${flag})`);
}

/** Writes `data` to `target` through a temp file in the same directory, fsync, rename;
 *  with `owner`, only where assertReplaceable allows. */
export async function writeFileAtomic(target: string, data: string | Uint8Array, owner?: Ownership): Promise<void> {
  const dir = path.dirname(target);
  await fs.mkdir(dir, { recursive: true });
  if (owner) await assertReplaceable(target, owner);
  const tmp = path.join(dir, tempName(target));
  const handle = await fs.open(tmp, 'w');
  try {
    await handle.writeFile(data);
    await handle.sync();
  } finally {
    await handle.close();
  }
  try {
    await fs.rename(tmp, target);
  } catch (err) {
    await fs.rm(tmp, { force: true });
    throw err;
  }
}

/** `.NAME.PID.TIME.tmp`: the temp names of atomic writes (TEMP_NAME matches them). */
function tempName(target: string): string {
  return `.${path.basename(target)}.${process.pid}.${Date.now()}.tmp`;
}
export const TEMP_NAME = /^\..+\.\d+\.\d+\.tmp(\.old)?$/;

/** Builds a directory through `build(tmpDir)` and then renames it into place, replacing a
 *  previous `target` only once the new one is complete, and only where `owner` recognizes
 *  it (assertReplaceable, checked before anything is built). */
export async function writeDirAtomic(target: string, owner: Ownership, build: (tmpDir: string) => Promise<void>): Promise<void> {
  const parent = path.dirname(target);
  await fs.mkdir(parent, { recursive: true });
  await assertReplaceable(target, owner);
  const tmp = path.join(parent, tempName(target));
  await fs.rm(tmp, { recursive: true, force: true }); // only ever this process's own temp name
  await fs.mkdir(tmp);
  try {
    await build(tmp);
    const old = `${tmp}.old`;
    let hadOld = false;
    try {
      await fs.rename(target, old);
      hadOld = true;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
    await fs.rename(tmp, target);
    if (hadOld) await fs.rm(old, { recursive: true, force: true });
  } catch (err) {
    await fs.rm(tmp, { recursive: true, force: true });
    throw err;
  }
}
