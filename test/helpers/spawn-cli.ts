// Runs the built CLI (bin/netc.js -> dist/) as a user would, capturing output and status.
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';

export const ROOT = path.resolve(import.meta.dirname, '../..');
export const SHARED = path.resolve(ROOT, '../shared');

export interface CliResult { status: number; stdout: string; stderr: string }

export function netc(args: string[], options: { cwd?: string; env?: Record<string, string>; timeout?: number } = {}): CliResult {
  const r = spawnSync(path.join(ROOT, 'bin/netc.js'), args, {
    cwd: options.cwd ?? ROOT, encoding: 'utf8', env: { ...process.env, ...options.env }, timeout: options.timeout ?? 300_000,
  });
  return { status: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

export interface MeasuredResult extends CliResult { seconds: number; maxRssMiB: number }

/** Runs the CLI under /usr/bin/time and timeout(1): also how long it took and its peak
 *  resident memory. A run still going after `timeoutSeconds` is killed: status 137. */
export function netcMeasured(args: string[], options: { cwd?: string; timeoutSeconds?: number } = {}): MeasuredResult {
  const started = performance.now();
  const limit = String(options.timeoutSeconds ?? 30);
  const r = spawnSync('/usr/bin/time', ['-f', 'netc-max-rss-kib %M', 'timeout', '-s', 'KILL', limit, path.join(ROOT, 'bin/netc.js'), ...args], {
    cwd: options.cwd ?? ROOT, encoding: 'utf8',
  });
  const seconds = (performance.now() - started) / 1000;
  const m = /netc-max-rss-kib (\d+)\s*$/.exec(r.stderr ?? '');
  const stderr = (r.stderr ?? '').replace(/(Command exited with non-zero status \d+\n)?netc-max-rss-kib \d+\s*$/, '');
  return { status: r.status ?? -1, stdout: r.stdout ?? '', stderr, seconds, maxRssMiB: m ? Number(m[1]) / 1024 : NaN };
}
