// `netc bench` reports what the issue asks, for a tiny variant (timings are not asserted:
// speed is measured by `npm run bench`, not by tests).
import { describe, expect, it } from 'vitest';
import { netc } from './helpers/spawn-cli.js';

describe('netc bench', () => {
  it('prints one JSON object with backend, input, forwardMs, gflop and gflopPerSecond', () => {
    const r = netc(['bench', 'models/deepdeblur-pytorch.net', '--set', 'blocks=1', '--set', 'feats=4', '--input', '32x48', '--runs', '3', '--warmup', '1', '--json', '--backend', 'tfjs-cpu']);
    expect(r.status, r.stderr).toBe(0);
    const j = JSON.parse(r.stdout);
    expect(j.backend).toBe('tfjs-cpu');
    expect(j.input).toEqual([1, 32, 48, 3]);
    expect(j.forwardRunsMs).toHaveLength(3);
    expect(j.forwardMs).toBeGreaterThan(0);
    // The FLOP count is the compiler's: 2 x multiply-adds of all convs at this size.
    const compiled = JSON.parse(netc(['compile', 'models/deepdeblur-pytorch.net', '--set', 'blocks=1', '--set', 'feats=4', '--input', '32x48', '--json']).stdout);
    expect(j.gflop).toBeCloseTo(compiled.flops / 1e9, 9);
    expect(j.gflopPerSecond).toBeCloseTo(j.gflop / (j.forwardMs / 1000), 6);
  });

  it('--train adds the time of one training step of the file\'s loss', () => {
    const r = netc(['bench', 'models/deepdeblur.net', '--set', 'blocks=1', '--set', 'feats=4', '--input', '32x32', '--runs', '1', '--warmup', '0', '--train', '--json', '--backend', 'tfjs-cpu']);
    expect(r.status, r.stderr).toBe(0);
    const j = JSON.parse(r.stdout);
    expect(j.trainStepRunsMs).toHaveLength(1);
    expect(j.trainStepMs).toBeGreaterThan(0);
  });

  it('rejects an unknown backend clearly', () => {
    const r = netc(['bench', 'models/deepdeblur-pytorch.net', '--backend', 'cuda']);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('--backend cuda: choose cpu, tfjs-cpu or webgl');
  });
});
