// Every build of the addon's hand-written kernels, native/src/small-conv.cc and winograd.cc
// (AVX-512, AVX2 + FMA, plain x86-64),
// each in a fresh process whose instruction set is capped the way a user emulates a smaller
// CPU (ONEDNN_MAX_CPU_ISA, which the addon's own kernels follow like oneDNN's): the build
// that runs, and its results against tfjs's plain CPU kernels.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

const dist = (file: string) => JSON.stringify(new URL(`../dist/src/${file}`, import.meta.url).href);

// A 16 -> 3 conv (small-conv.cc) and a 32 -> 16 one (winograd.cc), 5x5 with bias and relu,
// and their filter and input gradients, on the oneDNN backend with both kernels forced, and
// on tfjs's plain CPU backend.
const CHECK = `
  const { tf } = await import(${dist('runtime/tf.js')});
  const { ONEDNN_BACKEND, oneDnnInfo, registerOneDnnBackend } = await import(${dist('runtime/backends/onednn.js')});
  const { conv2dWithPostOps } = await import(${dist('runtime/conv.js')});
  registerOneDnnBackend();
  const run = async (backend) => {
    await tf.setBackend(backend);
    const values = (shape, seed) => tf.tensor(Array.from({ length: shape.reduce((a, b) => a * b) }, (_, i) => Math.sin(i * 0.37 + seed)), shape);
    const conv = (c, oc) => {
      const x = values([2, 9, 13, c], 1), w = values([5, 5, c, oc], 2).mul(0.2), b = values([oc], 3);
      const f = (a, e, d) => conv2dWithPostOps(a, e, { strides: [1, 1], pad: [2, 2, 2, 2], bias: d, activation: 'relu' }).mul(values([2, 9, 13, oc], 4)).sum();
      const y = conv2dWithPostOps(x, w, { strides: [1, 1], pad: [2, 2, 2, 2], bias: b, activation: 'relu' });
      return [y, ...tf.grads(f)([x, w, b])];
    };
    return [...conv(16, 3), ...conv(32, 16)].map((t) => Array.from(t.dataSync()));
  };
  const before = oneDnnInfo();
  const fast = await run(ONEDNN_BACKEND);
  const info = oneDnnInfo();
  const plain = await run('cpu');
  // relative to each output's largest value
  const maxDiff = Math.max(...fast.map((v, i) => Math.max(...v.map((e, j) => Math.abs(e - plain[i][j]))) / Math.max(...plain[i].map(Math.abs))));
  console.log(JSON.stringify({ isa: info.isa, build: info.kernelBuild, small: info.smallConvCalls - before.smallConvCalls, winograd: info.winogradCalls - before.winogradCalls, maxDiff }));
`;

function check(cap: string | undefined) {
  const env: Record<string, string | undefined> = { ...process.env, NETC_SMALL_CONV: 'on', NETC_WINOGRAD: 'on', ONEDNN_MAX_CPU_ISA: cap };
  if (cap === undefined) delete env.ONEDNN_MAX_CPU_ISA;
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', CHECK], { encoding: 'utf8', env });
  expect(r.status, r.stderr).toBe(0);
  return JSON.parse(r.stdout) as { isa: string; build: string; small: number; winograd: number; maxDiff: number };
}

/** The build this CPU runs uncapped, from /proc/cpuinfo's flags. */
function expectedBuild(): string {
  const flags = new Set(/^flags\s*:(.*)$/m.exec(readFileSync('/proc/cpuinfo', 'utf8'))![1].trim().split(/\s+/));
  if (['avx512f', 'avx512vl', 'avx512dq'].every((f) => flags.has(f))) return 'avx512';
  return flags.has('avx2') && flags.has('fma') ? 'avx2' : 'baseline';
}

describe('hand-written kernel builds under an instruction-set cap', () => {
  const machine = expectedBuild();
  const cases: [string | undefined, string][] = [[undefined, machine], ['AVX2', machine === 'baseline' ? 'baseline' : 'avx2'], ['SSE41', 'baseline']];
  for (const [cap, build] of cases) {
    it(`${cap ?? 'uncapped'}: runs the ${build} build, within 1e-4 (relative) of tfjs-cpu`, () => {
      const r = check(cap);
      if (cap) expect(r.isa).toBe(cap.toLowerCase());
      expect(r.build).toBe(build);
      expect(r.small).toBeGreaterThanOrEqual(2); // the forward and the filter gradient
      expect(r.winograd).toBe(4); // the forward twice, the input and the filter gradients
      expect(r.maxDiff).toBeLessThan(1e-4);
    });
  }
});
