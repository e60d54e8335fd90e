// `netc import` on hostile .pt files, as a user runs it (the built CLI under /usr/bin/time):
// each case is one clear message, exit 1, within seconds, in bounded memory. Every case
// here failed on the reader before it was hardened (a loop, an allocation of gigabytes, a
// crash); the comments say how.
import { mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { buildZip, readZipEntries, tensorArchive, type ZipEntrySpec } from '../fuzz/torch-archive.js';
import { compressedZeros } from './helpers/compressed.js';
import { fixturePath } from './helpers/fixtures.js';
import { OFFICIAL_MODEL } from './helpers/models.js';
import { netcMeasured } from './helpers/spawn-cli.js';

const REAL = fixturePath('official255_r2_f8_s64', 'model.pt');
const dir = mkdtempSync(path.join(tmpdir(), 'netc-hostile-'));
/** The CLI's own footprint (Node, the compiler, tfjs) is ~150 MiB; a run that inflated or
 *  allocated what the file asks for would take gigabytes. */
const MEMORY_MIB = 400;

function write(name: string, bytes: Uint8Array): string {
  const file = path.join(dir, name);
  writeFileSync(file, bytes);
  return file;
}

/** `netc import` of `pt` into a fresh --out; returns the one error line. */
function importError(pt: string): string {
  const out = path.join(mkdtempSync(path.join(dir, 'out-')), 'ckpt');
  const r = netcMeasured(['import', pt, '--model', OFFICIAL_MODEL, '--set', 'blocks=2', '--set', 'feats=8', '--out', out], { timeoutSeconds: 20 });
  expect(r.status, `status (137: killed after 20 s)\n${r.stderr}`).toBe(1);
  expect(r.seconds).toBeLessThan(10);
  expect(r.maxRssMiB).toBeLessThan(MEMORY_MIB);
  const errors = r.stderr.split('\n').filter((l) => l.startsWith('netc: error:'));
  expect(errors, r.stderr).toHaveLength(1);
  expect(r.stderr).not.toMatch(/internal error|\n\s+at /);
  expect(readdirSync(path.dirname(out))).toEqual([]); // nothing written
  return errors[0];
}

let real: ZipEntrySpec[];
beforeAll(async () => {
  real = await readZipEntries(REAL);
});
const withEntry = (name: string, change: (e: ZipEntrySpec) => ZipEntrySpec) => buildZip(real.map((e) => (e.name === name ? change(e) : e)));

describe('netc import of hostile .pt files', () => {
  it('a 7-byte data.pkl whose BINSTRING has a negative length (looped forever)', () => {
    const pickle = Buffer.from([0x80, 0x02, 0x54, 0xfb, 0xff, 0xff, 0xff]); // PROTO 2, BINSTRING -5
    const pt = write('negative.pt', buildZip([{ name: 'archive/data.pkl', data: pickle }]));
    expect(importError(pt)).toBe(`netc: error: ${pt}: not a readable torch checkpoint: invalid length -5 at byte 7`);
  });

  it('a real checkpoint whose storage entry inflates to 2 GB, declared honestly (took > 3 GB)', async () => {
    const bomb = await compressedZeros(2 ** 31, 'raw');
    const pt = write('bomb-honest.pt', withEntry('model/data/0', (e) => ({ ...e, deflate: true, raw: bomb, declaredSize: 2 ** 31 })));
    expect(importError(pt)).toBe(`netc: error: ${pt}: not a readable torch checkpoint: entry 'model/data/0' holds 2,147,483,648 bytes, but its storage needs 4,800`);
  }, 30_000);

  it('the same entry declaring its true 4,800 bytes but inflating to 2 GB', async () => {
    const bomb = await compressedZeros(2 ** 31, 'raw');
    const pt = write('bomb-lying.pt', withEntry('model/data/0', (e) => ({ ...e, deflate: true, raw: bomb })));
    expect(importError(pt)).toMatch(new RegExp(`^netc: error: ${pt}: not a readable torch checkpoint: entry 'model/data/0'.*(too many bytes|inflates past)`));
  }, 30_000);

  it('a tensor with stride 0 and a huge shape under a real key (allocated 6.4 GB before any check)', () => {
    const pt = write('stride0.pt', tensorArchive([{ name: 'body_models.0.body.0.weight', shape: [40000, 40000, 1, 1], stride: [0, 0, 0, 0], numel: 1 }]));
    const error = importError(pt);
    expect(error).toContain(`netc: error: ${pt}: the checkpoint's generator (scales=1 blocks=0 feats=40000 kernel=1: 2 convolutions) does not fit`);
  });

  it('a tensor past 2^31 elements, and one reaching outside its storage', () => {
    const huge = write('huge.pt', tensorArchive([{ name: 'w', shape: [65536, 65536], stride: [0, 0], numel: 1 }]));
    expect(importError(huge)).toBe(`netc: error: ${huge}: tensor 'w' has shape [65536, 65536], more than 2,147,483,647 elements`);
    const outside = write('outside.pt', tensorArchive([{ name: 'w', shape: [4, 4], stride: [4, 1], offset: 1, numel: 16 }]));
    expect(importError(outside)).toBe(`netc: error: ${outside}: tensor 'w' reaches element 16 of a storage of 16 (shape [4, 4], strides [4, 1], offset 1)`);
  });

  it('a negative stride (read garbage before)', () => {
    const pt = write('negative-stride.pt', tensorArchive([{ name: 'w', shape: [2, 3], stride: [-3, 1], offset: 3, numel: 6 }]));
    expect(importError(pt)).toBe(`netc: error: ${pt}: tensor 'w' has an invalid stride -3 in [-3, 1] (netc reads non-negative strides only)`);
  });

  it('a key whose index is a billion (made the structure loops run that long)', () => {
    const pt = write('index.pt', tensorArchive([{ name: 'body_models.999999999.body.0.weight', shape: [2] }]));
    expect(importError(pt)).toBe(`netc: error: ${pt}: key 'body_models.999999999.body.0.weight' has an index beyond the 1 tensors of the state dict; not a DeepDeblur generator`);
  });

  it('a storage entry whose size disagrees with its storage', () => {
    const pt = write('short-storage.pt', withEntry('model/data/0', (e) => ({ ...e, data: e.data.subarray(0, 100) })));
    expect(importError(pt)).toBe(`netc: error: ${pt}: not a readable torch checkpoint: entry 'model/data/0' holds 100 bytes, but its storage needs 4,800`);
  });

  it.each([10, 1000, 50_000, 116_000])('the real checkpoint cut at %i bytes', async (length) => {
    const { readFileSync } = await import('node:fs');
    const pt = write(`cut-${length}.pt`, readFileSync(REAL).subarray(0, length));
    expect(importError(pt)).toMatch(new RegExp(`^netc: error: ${pt}: not a readable torch checkpoint: `));
  });

  it('a zip64 locator pointing 3 exabytes into a 200-byte file (yauzl passed it to fs.read, which threw past every handler: the process died)', () => {
    const zip = tensorArchive([{ name: 'w', shape: [2] }]);
    const locator = Buffer.alloc(20);
    locator.writeUInt32LE(0x07064b50, 0);
    locator.writeBigUInt64LE(3_458_764_513_820_541_400n, 8);
    const end = zip.length - 22;
    const pt = write('zip64.pt', Buffer.concat([zip.subarray(0, end), locator, zip.subarray(end)]));
    expect(importError(pt)).toMatch(new RegExp(`^netc: error: ${pt}: not a readable torch checkpoint: a read of bytes 3458764513820541\\d+\\.\\.\\d+ reaches outside the \\d+-byte file$`));
  });

  it('garbage after a zip signature', () => {
    const garbage = Buffer.alloc(5000);
    for (let i = 0; i < garbage.length; i++) garbage[i] = (i * 2654435761) >>> 24;
    garbage.writeUInt32LE(0x04034b50, 0);
    const pt = write('garbage.pt', garbage);
    expect(importError(pt)).toMatch(new RegExp(`^netc: error: ${pt}: not a readable torch checkpoint: end of central directory record signature not found`));
  });
});
