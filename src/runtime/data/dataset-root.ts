// Dataset roots netc writes (synth, and any command adding pairs to a root): the root holds
// manifest.json {"netc": "dataset", "sequences": {"<split>/<seq>": {...}}} (fsutil.ts, the
// owned-output rule). A command writing ROOT/<split>/<seq>/ first claims the entry:
//   - ROOT must be missing, empty, or a dataset root netc wrote (it has the manifest);
//   - ROOT/<split>/<seq> must be missing, empty, or listed in the manifest (netc wrote it);
//   - the entry is then listed (status 'writing' until recordDatasetEntry), so that a run
//     killed halfway still owns what it left behind.
// It writes the sequence with writeDirAtomic(dir, sequenceOwnership(root, entry), ...) and
// records what it wrote with recordDatasetEntry.
import * as path from 'node:path';
import { assertReplaceable, manifestOutput, readNetcManifest, updateNetcManifest, type Ownership } from '../fsutil.js';

export const DATASET_KIND = 'dataset';
export const DATASET_ROOT_OUTPUT = manifestOutput(DATASET_KIND);

type Sequences = Record<string, Record<string, unknown>>;
const sequencesOf = (manifest: Record<string, unknown> | undefined): Sequences =>
  typeof manifest?.sequences === 'object' && manifest.sequences !== null ? (manifest.sequences as Sequences) : {};

/** A sequence directory `entry` ('<split>/<seq>') is netc's when the root's manifest lists it. */
export function sequenceOwnership(root: string, entry: string): Ownership {
  return {
    what: `a sequence listed in ${path.join(root, 'manifest.json')}`,
    recognize: async () => entry in sequencesOf(await readNetcManifest(root, DATASET_KIND)),
  };
}

/** Checks that netc may write ROOT/<entry> (see the header) and lists the entry. */
export async function claimDatasetEntry(root: string, entry: string): Promise<void> {
  await assertReplaceable(root, DATASET_ROOT_OUTPUT);
  await assertReplaceable(path.join(root, entry), sequenceOwnership(root, entry));
  await updateNetcManifest(root, DATASET_KIND, (manifest) => {
    const sequences = sequencesOf(manifest);
    if (!(entry in sequences)) sequences[entry] = { status: 'writing' };
    manifest.sequences = sequences;
  });
}

/** Records how the entry was made (replacing what the manifest said of it). */
export async function recordDatasetEntry(root: string, entry: string, fields: Record<string, unknown>): Promise<void> {
  await updateNetcManifest(root, DATASET_KIND, (manifest) => {
    manifest.sequences = { ...sequencesOf(manifest), [entry]: fields };
  });
}
