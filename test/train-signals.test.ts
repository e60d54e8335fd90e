// `netc train` as a child process (the built CLI, bin/netc.js): SIGKILL at random moments
// while it writes a checkpoint after every update never leaves a latest checkpoint that fails
// to load, and the run resumes from it; SIGINT and SIGTERM save a checkpoint and exit with
// 130 and 143.
import { spawn, type ChildProcess } from 'node:child_process';
import { promises as fs, watch } from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadCheckpointFor } from '../src/runtime/checkpoint.js';
import { disposeParams } from '../src/runtime/params.js';
import { compileModel, OFFICIAL_MODEL } from './helpers/models.js';
import { ROOT } from './helpers/spawn-cli.js';
import { useTrainingData } from './helpers/train-data.js';

const SET = { blocks: 2, feats: 16, scales: 2, patch: 16, batch: 2 };
const SET_ARGS = Object.entries(SET).flatMap(([k, v]) => ['--set', `${k}=${v}`]);
const dirs = useTrainingData('netc-signals-');

function startTrain(runDir: string, extra: string[]): { child: ChildProcess; done: Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string }> } {
  const child = spawn(path.join(ROOT, 'bin/netc.js'), ['train', OFFICIAL_MODEL, '--data', dirs.data, '--out', runDir, '--backend', 'cpu', '--validate-every', '0', ...extra], { cwd: ROOT });
  let stderr = '';
  child.stderr!.on('data', (chunk) => (stderr += String(chunk)));
  const done = new Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string }>((resolve) => child.on('close', (code, signal) => resolve({ code, signal, stderr })));
  return { child, done };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function logLines(runDir: string): Promise<number> {
  const text = await fs.readFile(path.join(runDir, 'log.jsonl'), 'utf8').catch(() => '');
  return text.split('\n').filter((l) => l.trim()).length;
}

async function waitFor(condition: () => Promise<boolean>, timeoutMs = 60_000): Promise<void> {
  const start = Date.now();
  while (!(await condition())) {
    if (Date.now() - start > timeoutMs) throw new Error('timed out');
    await sleep(20);
  }
}

describe('netc train under signals', () => {
  it('SIGKILL during checkpoint writes never leaves a latest checkpoint that fails to load', async () => {
    const runDir = path.join(dirs.tmp, 'killed');
    const program = compileModel(OFFICIAL_MODEL, SET, [16, 16]);
    let seed = 12345;
    const random = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    const checkpoints = path.join(runDir, 'checkpoints');
    let lastStep = 0;
    let killedMidWrite = 0;
    for (let round = 0; round < 6; round++) {
      const { child, done } = startTrain(runDir, [...SET_ARGS, '--steps', '100000', '--checkpoint-every', '1', '--keep', '2', ...(round > 0 ? ['--resume'] : [])]);
      // once updates (and so checkpoint writes) are running: kill at a random moment, or the
      // moment a temp checkpoint directory (being written) or a '.deleting' one appears
      await waitFor(async () => (await logLines(runDir)) > lastStep + 1);
      const trigger = ['random', '.tmp', '.deleting'][round % 3];
      if (trigger === 'random') {
        await sleep(random() * 400);
        child.kill('SIGKILL');
      } else {
        const watcher = watch(checkpoints, (_event, name) => {
          if (name?.startsWith('.') && name.endsWith(trigger)) child.kill('SIGKILL');
        });
        await done;
        watcher.close();
      }
      const exit = await done;
      expect(exit.signal).toBe('SIGKILL');
      if ((await fs.readdir(checkpoints)).some((n) => n.startsWith('.'))) killedMidWrite += 1;
      const { checkpoint, params } = await loadCheckpointFor(program, runDir);
      disposeParams(params);
      expect(checkpoint.meta.step).toBeGreaterThanOrEqual(lastStep);
      lastStep = checkpoint.meta.step;
    }
    expect(killedMidWrite).toBeGreaterThan(0);
    // and the run still finishes from there
    const { done } = startTrain(runDir, ['--steps', String(lastStep + 2), '--checkpoint-every', '1', '--resume']);
    const exit = await done;
    expect(exit.code, exit.stderr).toBe(0);
    const names = await fs.readdir(path.join(runDir, 'checkpoints'));
    expect(names.filter((n) => n.startsWith('.'))).toEqual([]); // leftovers cleaned on resume
    expect(names).toContain(`step-${String(lastStep + 2).padStart(7, '0')}`);
  });

  // SIGTERM is what `timeout`, service managers and container stops send: before, it ended
  // the run at once (killed by the signal, no checkpoint since the last one).
  it.each([['SIGINT', 130], ['SIGTERM', 143]] as const)('%s saves a checkpoint at the current step and exits with %i', async (signal, status) => {
    const runDir = path.join(dirs.tmp, `interrupted-${signal}`);
    const { child, done } = startTrain(runDir, [...SET_ARGS, '--steps', '100000', '--checkpoint-every', '0']);
    await waitFor(async () => (await logLines(runDir)) >= 2);
    child.kill(signal);
    const exit = await done;
    expect(exit.signal, exit.stderr).toBe(null);
    expect(exit.code, exit.stderr).toBe(status);
    const steps = await logLines(runDir);
    expect(exit.stderr).toContain(`interrupted at step ${steps}; saved`);
    expect(exit.stderr).toContain('--resume');
    const { checkpoint, params } = await loadCheckpointFor(compileModel(OFFICIAL_MODEL, SET, [16, 16]), runDir);
    disposeParams(params);
    expect(checkpoint.meta.step).toBe(steps);
  });
});
