// Every build of native/src/small-conv.cc's kernels (AVX-512, AVX2 + FMA, plain x86-64),
// each in a fresh process whose instruction set is capped the way a user emulates a smaller
// CPU (ONEDNN_MAX_CPU_ISA, which the addon's own kernels follow like oneDNN's): the build
// that runs, and its results against tfjs's plain CPU kernels.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

const dist = (file: string) => JSON.stringify(new URL(`../dist/src/${file}`, import.meta.url).href);

// A 16 -> 3 conv (5x5, bias, relu) and its filter and input gradients, on the oneDNN
// backend with the small-conv kernels forced, and on tfjs's plain CPU backend.
const CHECK = `
  const { tf } = await import(${dist('runtime/tf.js')});
  const { ONEDNN_BACKEND, oneDnnInfo, registerOneDnnBackend } = await import(${dist('runtime/backends/onednn.js')});
  const { conv2dWithPostOps } = await import(${dist('runtime/conv.js')});
  registerOneDnnBackend();
  const run = async (backend) => {
    await tf.setBackend(backend);
    const values = (shape, seed) => tf.tensor(Array.from({ length: shape.reduce((a, b) => a * b) }, (_, i) => Math.sin(i * 0.37 + seed)), shape);
    const x = values([2, 9, 13, 16], 1), w = values([5, 5, 16, 3], 2), b = values([3], 3);
    const f = (a, c, d) => conv2dWithPostOps(a, c, { strides: [1, 1], pad: [2, 2, 2, 2], bias: d, activation: 'relu' }).mul(values([2, 9, 13, 3], 4)).sum();
    const y = conv2dWithPostOps(x, w, { strides: [1, 1], pad: [2, 2, 2, 2], bias: b, activation: 'relu' });
    return [y, ...tf.grads(f)([x, w, b])].map((t) => Array.from(t.dataSync()));
  };
  const before = oneDnnInfo().smallConvCalls;
  const fast = await run(ONEDNN_BACKEND);
  const info = oneDnnInfo();
  const plain = await run('cpu');
  const maxDiff = Math.max(...fast.flatMap((v, i) => v.map((e, j) => Math.abs(e - plain[i][j]))));
  console.log(JSON.stringify({ isa: info.isa, build: info.smallConvBuild, calls: info.smallConvCalls - before, maxDiff }));
`;

function check(cap: string | undefined) {
  const env: Record<string, string | undefined> = { ...process.env, NETC_SMALL_CONV: 'on', ONEDNN_MAX_CPU_ISA: cap };
  if (cap === undefined) delete env.ONEDNN_MAX_CPU_ISA;
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', CHECK], { encoding: 'utf8', env });
  expect(r.status, r.stderr).toBe(0);
  return JSON.parse(r.stdout) as { isa: string; build: string; calls: number; maxDiff: number };
}

/** The build this CPU runs uncapped, from /proc/cpuinfo's flags. */
function expectedBuild(): string {
  const flags = new Set(/^flags\s*:(.*)$/m.exec(readFileSync('/proc/cpuinfo', 'utf8'))![1].trim().split(/\s+/));
  if (['avx512f', 'avx512vl', 'avx512dq'].every((f) => flags.has(f))) return 'avx512';
  return flags.has('avx2') && flags.has('fma') ? 'avx2' : 'baseline';
}

describe('small-conv builds under an instruction-set cap', () => {
  const machine = expectedBuild();
  const cases: [string | undefined, string][] = [[undefined, machine], ['AVX2', machine === 'baseline' ? 'baseline' : 'avx2'], ['SSE41', 'baseline']];
  for (const [cap, build] of cases) {
    it(`${cap ?? 'uncapped'}: runs the ${build} build, within 1e-4 of tfjs-cpu`, () => {
      const r = check(cap);
      if (cap) expect(r.isa).toBe(cap.toLowerCase());
      expect(r.build).toBe(build);
      expect(r.calls).toBeGreaterThanOrEqual(2); // the forward and the filter gradient
      expect(r.maxDiff).toBeLessThan(1e-4);
    });
  }
});
