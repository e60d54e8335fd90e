// Large buffers on transparent huge pages (native/src/huge-pages.cc), checked against the
// kernel's own record of the process's mappings (/proc/self/smaps): where each starts, how
// long it is, and its VmFlags ("hg": advised with MADV_HUGEPAGE). Whether the kernel then
// backs them with huge pages is the system's setting (THP "never" turns it off), so that is
// not asserted; the advice and the alignment that make it possible are.
import { readFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { nativeAddon } from '../src/runtime/backends/onednn-addon.js';
import { ONEDNN_BACKEND, registerOneDnnBackend } from '../src/runtime/backends/onednn.js';
import { tf } from '../src/runtime/tf.js';

const MiB = 1 << 20;

interface Mapping {
  start: bigint;
  length: number;
  advised: boolean;
}

function mappings(): Mapping[] {
  return readFileSync('/proc/self/smaps', 'utf8')
    .split(/\n(?=[0-9a-f]+-[0-9a-f]+ )/)
    .map((entry) => {
      const [start, end] = entry.split(' ')[0].split('-').map((hex) => BigInt(`0x${hex}`));
      return { start, length: Number(end - start), advised: /^VmFlags:.*\bhg\b/m.test(entry) };
    });
}

/** Mappings of exactly `length` bytes, 2 MiB-aligned and advised onto huge pages. */
const hugeMappings = (length: number) => mappings().filter((m) => m.length === length && m.advised && m.start % BigInt(2 * MiB) === 0n).length;

describe('huge pages for large buffers', () => {
  beforeAll(async () => {
    registerOneDnnBackend();
    await tf.setBackend(ONEDNN_BACKEND);
  });

  it('maps a buffer from 2 MiB up on its own 2 MiB-aligned range advised onto huge pages', () => {
    const floats = 2 * MiB / 4 + 5; // 2 MiB + 20 bytes: the mapping is rounded to 4 KiB pages
    const before = hugeMappings(2 * MiB + 4096);
    const array = nativeAddon().hugePageFloats(floats);
    expect(array.length).toBe(floats);
    expect(hugeMappings(2 * MiB + 4096)).toBe(before + 1);
    array.fill(0.25);
    array[floats - 1] = 3;
    expect(array[0] + array[floats - 1]).toBe(3.25);
  });

  it('leaves smaller buffers to the allocator (no mapping of their own)', () => {
    const before = mappings().filter((m) => m.advised).length;
    const array = nativeAddon().hugePageFloats(MiB / 4); // 1 MiB
    array.fill(1);
    expect(mappings().filter((m) => m.advised).length).toBe(before);
  });

  it("puts the backend's outputs of 2 MiB and more on such mappings", () => {
    const length = 2 * MiB + 3 * 4096; // bytes of the output
    const a = tf.fill([length / 4], 1.5);
    const b = tf.fill([length / 4], 2);
    const before = hugeMappings(length);
    const sum = tf.add(a, b);
    expect(hugeMappings(length)).toBeGreaterThan(before);
    expect(sum.dataSync()[length / 4 - 1]).toBe(3.5);
    tf.dispose([a, b, sum]);
  });
});
