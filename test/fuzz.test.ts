// The mutation fuzzers (fuzz/targets.ts) as `npm test` runs them: a few hundred cases of each
// format netc reads, through `npm run fuzz`'s runner (dist/fuzz/run.js), which runs each
// format in a child process it kills when a case hangs. Each case is refused with a clear
// error or accepted; none crashes, hangs, takes seconds or grows memory past the runner's
// cap. Both outcomes must occur, or the mutations would prove nothing. Long runs:
// `npm run fuzz -- --cases 10000`.
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT } from './helpers/spawn-cli.js';

const CASES = 300;

describe.each(['net', 'pt', 'model.json', 'png', 'jpeg'])('fuzzing %s', (format) => {
  it(`${CASES} mutations: no crash, hang, internal error or unbounded memory`, () => {
    const r = spawnSync(process.execPath, [path.join(ROOT, 'dist/fuzz/run.js'), '--format', format, '--cases', String(CASES), '--json'], { cwd: ROOT, encoding: 'utf8', timeout: 240_000 });
    expect(r.status, r.stdout + r.stderr).toBe(0);
    const [summary] = JSON.parse(r.stdout) as { cases: number; accepted: number; refused: number; findings: string[]; peakRssMiB: number }[];
    expect(summary.findings).toEqual([]);
    expect(summary.cases).toBe(CASES);
    expect(summary.accepted + summary.refused).toBe(CASES);
    expect(summary.refused).toBeGreaterThan(0);
    expect(summary.accepted).toBeGreaterThan(0);
  }, 300_000);
});
