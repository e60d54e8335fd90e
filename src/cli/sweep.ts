// `netc sweep FILE... --data ROOT --set blocks=2,4,8 --set feats=16,32 (--steps N | --minutes M)
// --out DIR`: trains every combination with the same budget, scores each on the test split,
// and writes DIR/sweep.json, DIR/sweep.md and DIR/pareto.svg (src/runtime/train/sweep.ts).
// Ctrl-C or SIGTERM saves the running variant's checkpoint; the same command resumes.
import type { Command } from 'commander';
import { UserError } from '../errors.js';
import { BACKEND_NAMES, initBackend, isBackendName, type BackendName } from '../runtime/backends/index.js';
import { SweepInterrupted, runSweep } from '../runtime/train/sweep.js';
import { compileForCli } from './options.js';

interface SweepFlags {
  data: string;
  set?: Record<string, number[]>;
  steps?: string;
  minutes?: string;
  out: string;
  seed: string;
  evalImages?: string;
  backend?: string;
  workers: string;
}

/** Commander collector for repeated `--set NAME=V1,V2,...`. */
export function collectGrid(value: string, previous: Record<string, number[]> = {}): Record<string, number[]> {
  const m = /^([A-Za-z_][A-Za-z0-9_]*)=(.+)$/.exec(value);
  if (!m) throw new UserError(`--set ${value}: expected NAME=V1,V2,..., e.g. --set blocks=2,4,8`);
  const values = m[2].split(',').map((v) => Number(v.trim()));
  if (values.some((v) => !Number.isFinite(v))) throw new UserError(`--set ${value}: every value must be a number`);
  return { ...previous, [m[1]]: [...new Set([...(previous[m[1]] ?? []), ...values])] };
}

function whole(flag: string, value: string): number {
  if (!/^\s*\d+\s*$/.test(value) || Number(value) < 1) throw new UserError(`${flag} ${value}: expected a whole number >= 1`);
  return Number(value);
}

export function registerSweep(program: Command): void {
  program
    .command('sweep')
    .description('train every combination of model files and --set values with one budget; compare them on the test split')
    .argument('<files...>', 'model files (variants may change the architecture itself)')
    .requiredOption('--data <root>', 'dataset root in the GOPRO layout (train and test splits)')
    .option('--set <name=v1,v2>', 'values of a top-level constant to try (repeatable; applies to the files that declare it)', collectGrid)
    .option('--steps <n>', 'budget: updates per variant')
    .option('--minutes <m>', 'budget: minutes of training time per variant')
    .requiredOption('--out <dir>', 'sweep directory (resumes when it holds an interrupted sweep)')
    .option('--seed <n>', 'seed of every variant', '1')
    .option('--eval-images <n>', 'test pairs each variant is scored on (default: all)')
    .option('--backend <name>', `one of ${BACKEND_NAMES.join(', ')} (default: cpu)`)
    .option('--workers <n>', 'threads assembling batches', '1')
    .action(async (files: string[], flags: SweepFlags) => {
      if (flags.backend !== undefined && !isBackendName(flags.backend)) throw new UserError(`--backend ${flags.backend}: expected one of ${BACKEND_NAMES.join(', ')}`);
      const minutes = flags.minutes === undefined ? undefined : Number(flags.minutes);
      if (minutes !== undefined && !(minutes > 0)) throw new UserError(`--minutes ${flags.minutes}: expected a positive number`);
      const backend = await initBackend(flags.backend as BackendName | undefined);
      console.error(`netc: backend ${backend.name}: ${backend.note}`);
      let signal: NodeJS.Signals | undefined;
      const stop = (s: NodeJS.Signals) => {
        if (signal) process.exit(s === 'SIGTERM' ? 143 : 130);
        signal = s;
        console.error(`\nnetc: ${s}: saving the running variant after this step (again to quit without saving)`);
      };
      process.on('SIGINT', stop);
      process.on('SIGTERM', stop);
      let lastLine = 0;
      try {
        const results = await runSweep({
          files, grid: flags.set ?? {}, dataRoot: flags.data, outDir: flags.out,
          steps: flags.steps === undefined ? undefined : whole('--steps', flags.steps), minutes,
          seed: Number(flags.seed), evalImages: flags.evalImages === undefined ? undefined : whole('--eval-images', flags.evalImages),
          workers: Number(flags.workers),
          compile: (file, set, input) => compileForCli(file, { set, input }).program,
          onMessage: (line) => console.error(`netc: ${line}`),
          onStep: (result, info) => {
            if (performance.now() - lastLine < 10_000) return;
            lastLine = performance.now();
            console.error(`netc:   step ${result.step}  loss ${result.loss.toPrecision(4)}  ${info.itPerSecond.toFixed(2)} it/s`);
          },
          shouldStop: () => signal !== undefined,
        });
        console.log(`${results.length} variants: ${flags.out}/sweep.md, ${flags.out}/sweep.json, ${flags.out}/pareto.svg`);
      } catch (err) {
        if (err instanceof SweepInterrupted && signal) {
          console.error(`netc: ${err.message}`);
          process.exitCode = signal === 'SIGTERM' ? 143 : 130;
          return;
        }
        throw err;
      } finally {
        process.off('SIGINT', stop);
        process.off('SIGTERM', stop);
      }
    });
}
