// Mutations for the fuzzers: byte-level edits of a seed (bit flips, interesting values,
// spans deleted, duplicated or overwritten, truncation), PNG chunk CRCs recomputed so that
// mutations reach the decoder, and JSON-aware edits of a parsed document. All randomness
// comes from the caller's seeded generator, so a case is reproduced from its number.
import { crc32 } from 'node:zlib';

export type Random = () => number;

export const pick = <T>(random: Random, xs: readonly T[]): T => xs[Math.floor(random() * xs.length)];
const int = (random: Random, n: number) => Math.floor(random() * n);

/** Values that break length, size and offset arithmetic. */
const INTERESTING_32 = [0, 1, 0x7f, 0x80, 0xff, 0x7fff, 0x8000, 0xffff, 0x7fffffff, 0x80000000, 0xfffffffe, 0xffffffff, 65536, 30000, 1e6];

/** One to `maxEdits` random byte-level edits of `seed` (a new buffer). */
export function mutateBytes(seed: Uint8Array, random: Random, maxEdits = 4): Buffer {
  let out = Buffer.from(seed);
  const edits = 1 + int(random, maxEdits);
  for (let e = 0; e < edits; e++) {
    const at = int(random, Math.max(1, out.length));
    switch (int(random, 8)) {
      case 0: // flip a bit
        if (out.length) out[at] ^= 1 << int(random, 8);
        break;
      case 1: // a random byte
        if (out.length) out[at] = int(random, 256);
        break;
      case 2: // an interesting 32-bit value, either byte order
        if (out.length >= 4) {
          const p = Math.min(at, out.length - 4);
          const v = pick(random, INTERESTING_32) >>> 0;
          if (random() < 0.5) out.writeUInt32BE(v, p);
          else out.writeUInt32LE(v, p);
        }
        break;
      case 3: // delete a span
        out = Buffer.concat([out.subarray(0, at), out.subarray(at + 1 + int(random, 64))]);
        break;
      case 4: // duplicate a span
        out = Buffer.concat([out.subarray(0, at), out.subarray(at, at + 1 + int(random, 256)), out.subarray(at)]);
        break;
      case 5: // overwrite with another part of the file
        if (out.length > 8) {
          const from = int(random, out.length - 4);
          out.copy(out, at, from, from + 1 + int(random, 32));
        }
        break;
      case 6: // truncate
        out = out.subarray(0, at);
        break;
      default: // insert random bytes
        out = Buffer.concat([out.subarray(0, at), Buffer.from(Array.from({ length: 1 + int(random, 16) }, () => int(random, 256))), out.subarray(at)]);
    }
  }
  return out;
}

/** Recomputes the CRC of every whole chunk of a PNG (a decoder would reject the mutation
 *  at its first CRC otherwise); stops at the first chunk that runs past the end. */
export function fixPngCrcs(png: Buffer): Buffer {
  const out = Buffer.from(png);
  for (let at = 8; at + 12 <= out.length; ) {
    const length = out.readUInt32BE(at);
    if (at + 12 + length > out.length) break;
    out.writeUInt32BE(crc32(out.subarray(at + 4, at + 8 + length)), at + 8 + length);
    at += 12 + length;
  }
  return out;
}

/** Values a JSON field of a checkpoint could hold wrongly. */
const INTERESTING_JSON: unknown[] = [
  -1, 0, 1, 1.5, 1e9, 1e308, -1e308, 2 ** 31, 2 ** 53, NaN, '', '..', '../../etc/passwd', '/etc/passwd', 'weights.bin', 'model.json',
  'a/b', null, true, [], {}, [1, 2, 3], [-1], [1e9, 1e9], { x: 1 }, 'x'.repeat(300),
];

/** Random edits of a parsed JSON document: a field replaced, removed, an array item
 *  duplicated or removed. */
export function mutateJson(doc: unknown, random: Random, maxEdits = 3): unknown {
  const copy = structuredClone(doc);
  const edits = 1 + int(random, maxEdits);
  for (let e = 0; e < edits; e++) {
    const slots: { parent: Record<string, unknown> | unknown[]; key: string | number }[] = [];
    const visit = (v: unknown) => {
      if (Array.isArray(v)) v.forEach((item, i) => (slots.push({ parent: v, key: i }), visit(item)));
      else if (typeof v === 'object' && v !== null) for (const [k, item] of Object.entries(v)) slots.push({ parent: v as Record<string, unknown>, key: k }), visit(item);
    };
    visit(copy);
    if (!slots.length) break;
    const { parent, key } = pick(random, slots);
    const choice = int(random, 6);
    if (choice === 0) {
      if (Array.isArray(parent)) parent.splice(key as number, 1);
      else delete parent[key as string];
    } else if (choice === 1 && Array.isArray(parent)) {
      parent.splice(key as number, 0, structuredClone(parent[key as number]));
    } else if (choice === 2 && typeof (parent as Record<string, unknown>)[key as never] === 'number') {
      const v = (parent as Record<string, number>)[key as never];
      (parent as Record<string, number>)[key as never] = pick(random, [v + 1, v - 1, v * 2, -v, v * 1000]);
    } else {
      (parent as Record<string, unknown>)[key as never] = structuredClone(pick(random, INTERESTING_JSON));
    }
  }
  return copy;
}

const NET_FRAGMENTS = ['->', '(', ')', '{', '}', '[', ']', ',', '=', ':', '+', '-', '*', '/', ' x ', '..', 'conv', 'relu', 'input', 'block', 'model', 'output', 'for', 'in', 'coarse_to_fine', '"s"', '0', '-1', '2.5', '1e9', 'feats', 'L[7]', 'ResBlock', '#', '\n', '@', 'concat(', 'pyramid(', 'mean(k in 0..3)', 'true', ' x 1000000000', 'levels = 100', '0..100000'];

/** Text mutations of a model file (the .net fuzzer of test/language/fuzz.test.ts). */
export function mutateNet(text: string, random: Random): string {
  const at = () => Math.floor(random() * (text.length + 1));
  let out = text;
  const edits = 1 + Math.floor(random() * 3);
  for (let i = 0; i < edits; i++) {
    const p = Math.min(at(), out.length);
    switch (Math.floor(random() * 5)) {
      case 0: out = out.slice(0, p) + out.slice(p + 1 + Math.floor(random() * 12)); break; // delete a span
      case 1: out = out.slice(0, p) + pick(random, NET_FRAGMENTS) + out.slice(p); break; // insert a token
      case 2: out = out.replace(/\d+(\.\d+)?/g, (m) => (random() < 0.15 ? pick(random, ['0', '-3', '1.5', '100000', '7', '1e9']) : m)); break; // numbers
      case 3: { // swap two lines
        const lines = out.split('\n');
        const a = Math.floor(random() * lines.length), b = Math.floor(random() * lines.length);
        [lines[a], lines[b]] = [lines[b], lines[a]];
        out = lines.join('\n');
        break;
      }
      default: { // replace a name with another name
        const names = out.match(/[A-Za-z_]\w*/g) ?? ['x'];
        out = out.replace(pick(random, names), pick(random, names));
      }
    }
  }
  return out;
}

