// `netc bench` reports what the issue asks, for a tiny variant (speed itself is measured by
// `npm run bench`, not by tests): the FLOP count against the PyTorch peer's own counter, the
// reported times against the runs it lists and the wall time of the process, the backend
// that actually ran.
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { createInterface } from 'node:readline';
import { describe, expect, it } from 'vitest';
import { netc, ROOT } from './helpers/spawn-cli.js';

// The PyTorch peer's analytic counter (../shared/peer/msresnet.py):
//   /usr/bin/python3 -c "import msresnet as M; print(M.msresnet_forward_flops(32, 48, n_resblocks=1, n_feats=4, n_scales=3))"
const PEER_FLOPS = 7_660_800;
//   /usr/bin/python3 -c "import bench as B; print(B.msresnet_train_flops(32, 48, n_resblocks=1, n_feats=4))"
const PEER_TRAIN_FLOPS = 22_924_800;
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

describe('netc bench', () => {
  it('prints one JSON object with backend, input, forwardMs, gflop and gflopPerSecond', () => {
    const started = performance.now();
    const r = netc(['bench', 'models/deepdeblur-pytorch.net', '--set', 'blocks=1', '--set', 'feats=4', '--input', '32x48', '--runs', '3', '--warmup', '1', '--json', '--backend', 'tfjs-cpu']);
    const wallMs = performance.now() - started;
    expect(r.status, r.stderr).toBe(0);
    const j = JSON.parse(r.stdout);
    expect(j.tfjsBackend).toBe('cpu'); // what ran, not what was asked for
    expect(j.input).toEqual([1, 32, 48, 3]);
    expect(j.forwardRunsMs).toHaveLength(3);
    expect(Math.min(...j.forwardRunsMs)).toBeGreaterThan(0);
    expect(j.forwardRunsMs.reduce((a: number, b: number) => a + b, 0)).toBeLessThan(wallMs); // real runs inside this process's life
    expect(j.forwardMs).toBe(median(j.forwardRunsMs));
    expect(j.gflop * 1e9).toBeCloseTo(PEER_FLOPS, 3);
    expect(j.gflopPerSecond).toBeCloseTo(PEER_FLOPS / 1e9 / (median(j.forwardRunsMs) / 1000), 6);
  });

  it('--train adds the time of one training step of the file\'s loss', () => {
    const r = netc(['bench', 'models/deepdeblur.net', '--set', 'blocks=1', '--set', 'feats=4', '--input', '32x32', '--runs', '1', '--warmup', '0', '--train', '--json', '--backend', 'cpu']);
    expect(r.status, r.stderr).toBe(0);
    const j = JSON.parse(r.stdout);
    expect(j.trainStepRunsMs).toHaveLength(1);
    expect(j.trainStepMs).toBeGreaterThan(0);
  });

  it('--batch N runs N images per forward and per step; FLOPs and the fraction of peak follow', () => {
    const r = netc(['bench', 'models/deepdeblur-pytorch.net', '--set', 'blocks=1', '--set', 'feats=4', '--input', '32x48', '--runs', '1', '--warmup', '0', '--train', '--batch', '3', '--json', '--backend', 'tfjs-cpu']);
    expect(r.status, r.stderr).toBe(0);
    const j = JSON.parse(r.stdout);
    expect(j.input).toEqual([3, 32, 48, 3]);
    expect(j.gflop * 1e9).toBeCloseTo(3 * PEER_FLOPS, 3);
    expect(j.trainGflop * 1e9).toBeCloseTo(3 * PEER_TRAIN_FLOPS, 3);
    expect(j.trainGflopPerSecond).toBeCloseTo(j.trainGflop / (j.trainStepMs / 1000), 6);
    // The peak from /proc/cpuinfo, read here independently of netc's reader.
    const info = readFileSync('/proc/cpuinfo', 'utf8');
    expect(j.cpuPeak.cores).toBe((info.match(/^processor\s*:/gm) ?? []).length);
    const mhz = Number(/^cpu MHz\s*:\s*([\d.]+)/m.exec(info)?.[1]);
    if (!existsSync('/sys/devices/system/cpu/cpu0/cpufreq/cpuinfo_max_freq')) expect(j.cpuPeak.ghz).toBeCloseTo(mhz / 1000, 1);
    expect([8, 16, 32, 64]).toContain(j.cpuPeak.flopPerCycle);
    if (/ avx2 /.test(info) && / fma /.test(info)) expect(j.cpuPeak.flopPerCycle).toBeGreaterThanOrEqual(32);
    expect(j.forwardPeakFraction).toBeCloseTo(j.gflopPerSecond / (j.cpuPeak.cores * j.cpuPeak.ghz * j.cpuPeak.flopPerCycle), 2);
  });

  it('rejects an unknown backend clearly', () => {
    const r = netc(['bench', 'models/deepdeblur-pytorch.net', '--backend', 'cuda']);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('--backend cuda: choose cpu, tfjs-cpu or webgl');
  });

  it('--paced times one run per line on stdin, each inside the time between the line and its answer', async () => {
    const child = spawn(path.join(ROOT, 'bin/netc.js'), ['bench', 'models/deepdeblur.net', '--set', 'blocks=1', '--set', 'feats=4', '--input', '32x32', '--runs', '5', '--warmup', '1', '--train', '--json', '--paced', '--backend', 'cpu'], { cwd: ROOT });
    const closed = new Promise((resolve) => child.on('close', resolve));
    const lines = createInterface({ input: child.stdout })[Symbol.asyncIterator]();
    const next = async () => String((await lines.next()).value);
    expect(await next()).toBe('ready');
    const reported: number[] = [];
    for (let i = 0; i < 2; i++) {
      const asked = performance.now();
      child.stdin.write('go\n');
      reported.push(Number(await next()));
      expect(reported[i]).toBeGreaterThan(0);
      expect(reported[i]).toBeLessThan(performance.now() - asked); // run after the line came
    }
    child.stdin.end(); // the driver stops after 2 of the 5 runs
    const j = JSON.parse(await next());
    expect(j.trainStepRunsMs).toEqual(reported);
    expect(j.forwardRunsMs).toBeUndefined(); // with --train, only the step is paced
    expect(await closed).toBe(0);
  });
});
