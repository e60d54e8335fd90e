import { existsSync, rmSync } from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { UserError } from '../src/errors.js';
import { oihwToHwio } from '../src/runtime/import.js';
import { PickleFormatError, PickleGlobalError, unpickle } from '../src/runtime/torch/pickle.js';
import { readStateDict, readTorchCheckpoint } from '../src/runtime/torch/load.js';
import { PARITY_FOLDERS, fixtureManifestWeights, fixturePath, maxAbsDiff } from './helpers/fixtures.js';

const torchDir = path.join(path.dirname(fileURLToPath(import.meta.url)), 'helpers/torch');

describe('torch checkpoint reader', () => {
  it.each(PARITY_FOLDERS)('reads %s/model.pt like its tfjs manifest (OIHW -> HWIO)', async (folder) => {
    const weights = await readStateDict(fixturePath(folder, 'model.pt'));
    const manifest = fixtureManifestWeights(folder, 'weights_manifest.json');
    expect([...weights.keys()].sort()).toEqual([...manifest.keys()].sort());
    for (const [name, expected] of manifest) {
      const found = weights.get(name)!;
      const converted = found.shape.length === 4 ? oihwToHwio(found) : found;
      expect(converted.shape, name).toEqual(expected.shape);
      expect(maxAbsDiff(converted.data, expected.data), name).toBe(0);
    }
  });

  it('handles strides and storage offsets of views', async () => {
    const weights = await readStateDict(path.join(torchDir, 'strided.pt'));
    expect(weights.get('t')).toEqual({ shape: [3, 2], data: Float32Array.from([7, 13, 8, 14, 9, 15]) });
    expect(weights.get('u')).toEqual({ shape: [2, 3], data: Float32Array.from([8, 9, 10, 14, 15, 16]) });
  });

  it('reads deflate-compressed archives', async () => {
    const weights = await readStateDict(path.join(torchDir, 'deflated.pt'));
    expect(Array.from(weights.get('u')!.data)).toEqual([8, 9, 10, 14, 15, 16]);
  });

  it('refuses a pickle naming os.system, without running it', async () => {
    rmSync('/tmp/netc-pwned', { force: true });
    const file = path.join(torchDir, 'malicious.pt');
    await expect(readTorchCheckpoint(file)).rejects.toThrow(UserError);
    await expect(readTorchCheckpoint(file)).rejects.toThrow(
      `refusing to load ${file}: pickle global 'posix.system' is not allowed (netc only loads state dicts)`,
    );
    expect(existsSync('/tmp/netc-pwned')).toBe(false);
  });

  it('refuses any global outside the allow-list (GLOBAL and STACK_GLOBAL)', () => {
    const enc = (s: string) => Array.from(Buffer.from(s, 'latin1'));
    // protocol 0: c builtins\neval\n (S'1+1'\n t R .
    const classic = Uint8Array.from([...enc("cbuiltins\neval\n(S'1+1'\ntR.")]);
    expect(() => unpickle(classic, () => null)).toThrow(new PickleGlobalError('builtins.eval'));
    // protocol 4: SHORT_BINUNICODE 'os', SHORT_BINUNICODE 'system', STACK_GLOBAL
    const stackGlobal = Uint8Array.from([0x80, 4, 0x8c, 2, ...enc('os'), 0x8c, 6, ...enc('system'), 0x93, 0x2e]);
    expect(() => unpickle(stackGlobal, () => null)).toThrow("pickle global 'os.system' is not allowed");
  });

  it('rejects truncated pickles and unknown opcodes as format errors', () => {
    expect(() => unpickle(Uint8Array.from([0x80, 2, 0x58, 10, 0, 0, 0, 0x61]), () => null)).toThrow(PickleFormatError);
    expect(() => unpickle(Uint8Array.from([0x80, 2, 0xff]), () => null)).toThrow(/unsupported pickle opcode 0xff/);
  });

  it('gives a clear error for files that are not torch checkpoints', async () => {
    const png = fixturePath(PARITY_FOLDERS[0], 'fixture.json');
    await expect(readTorchCheckpoint(png)).rejects.toThrow(/not a zip-based torch.save file/);
    await expect(readTorchCheckpoint('/nonexistent/model.pt')).rejects.toThrow('/nonexistent/model.pt: no such file');
  });
});
