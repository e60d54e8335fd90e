// `netc bench`: how fast a model runs here, as JSON or one line.
import { createInterface } from 'node:readline';
import type { Command } from 'commander';
import { UserError } from '../errors.js';
import { benchForward, benchTrainStep, peakRssBytes, timeRuns, type Timer } from '../runtime/bench.js';
import { cpuPeak } from '../runtime/cpu-peak.js';
import { initBackend, isBackendName } from '../runtime/backends/index.js';
import { collectSet, compileForCli, integerOption, parseSize } from './options.js';

interface BenchFlags { input: string; batch: number; set?: Record<string, number>; train?: boolean; backend?: string; json?: boolean; paced?: boolean; runs: number; warmup: number }

export function registerBench(program: Command): void {
  program
    .command('bench')
    .description('time the generator forward pass (and with --train one training step)')
    .argument('<file>', 'the .net model file')
    .option('--input <HxW>', 'input size', '256x256')
    .option('--set <name=value>', 'override a top-level constant (repeatable)', collectSet)
    .option('--train', "also time one training step (the file's loss and Adam)")
    .option('--batch <n>', 'images per forward and per training step', integerOption('--batch', { min: 1 }), 1)
    .option('--backend <name>', 'cpu, tfjs-cpu or webgl')
    .option('--runs <n>', 'timed runs (median reported)', integerOption('--runs', { min: 1 }), 3)
    .option('--warmup <n>', 'untimed runs first', integerOption('--warmup'), 1)
    .option('--json', 'print one JSON object')
    .option('--paced', "time one run per line read from stdin, printing 'ready' after the warm-up and each run's ms; with --train only the training step (how `npm run bench` alternates netc and PyTorch run by run)")
    .action(async (file: string, flags: BenchFlags) => {
      if (flags.backend !== undefined && !isBackendName(flags.backend)) throw new UserError(`--backend ${flags.backend}: choose cpu, tfjs-cpu or webgl`);
      const { runs, warmup } = flags;
      const input = parseSize(flags.input);
      const backend = await initBackend(flags.backend);
      if (!flags.json) console.error(`netc: backend ${backend.name} (${backend.note})`);
      const { program: prog } = compileForCli(file, { input, set: flags.set });
      const timer = flags.paced ? pacedTimer() : timeRuns;
      const forward = flags.paced && flags.train ? undefined : await benchForward(prog, runs, warmup, flags.batch, timer);
      const train = flags.train ? await benchTrainStep(prog, runs, warmup, flags.batch, timer) : undefined;
      const peak = cpuPeak();
      // The share of the machine's peak, null where the clock is unknown.
      const share = (gflops: number) => (peak.gflopPerSecond > 0 ? gflops / peak.gflopPerSecond : null);
      const fraction = (gflops: number) => { const f = share(gflops); return f === null ? null : Math.round(f * 1000) / 1000; };
      const result = {
        backend: backend.name, tfjsBackend: backend.tfjsBackend, model: file, set: flags.set ?? {}, input: [flags.batch, ...input, 3],
        ...forward, ...train, peakRssBytes: peakRssBytes(),
        cpuPeak: peak, ...(forward ? { forwardPeakFraction: fraction(forward.gflopPerSecond) } : {}),
        ...(train ? { trainPeakFraction: fraction(train.trainGflopPerSecond) } : {}),
      };
      if (flags.json) console.log(JSON.stringify(result));
      else {
        const ofPeak = (gflops: number) => { const f = share(gflops); return `${gflops.toFixed(1)} GFLOP/s${f === null ? '' : `, ${(100 * f).toFixed(1)}% of peak`}`; };
        const trainText = train ? `train step ${(train.trainStepMs / 1000).toFixed(2)} s (${ofPeak(train.trainGflopPerSecond)})` : '';
        const forwardText = forward ? `forward ${(forward.forwardMs / 1000).toFixed(2)} s (${forward.gflop.toFixed(1)} GFLOP, ${ofPeak(forward.gflopPerSecond)})` : '';
        console.log(`${file} ${flags.batch}x${input.join('x')} on ${backend.name}: ${forwardText}${forward && train ? ', ' : ''}${trainText}`);
        console.log(`peak: ${peak.cores} cores x ${peak.ghz.toFixed(2)} GHz x ${peak.flopPerCycle} FLOP/cycle (${peak.isa}) = ${peak.gflopPerSecond.toFixed(0)} GFLOP/s`);
        // The FLOPs are the compiler's (direct convolution); Winograd kernels do fewer.
        console.log('(FLOPs counted as direct convolution; 5x5 convs run by Winograd kernels do ~6x fewer multiplications, so a share of peak can pass 100%)');
      }
    });
}

/** Runs timed one at a time on request: the warm-up, then 'ready' on stdout; then for each
 *  line read from stdin one run, its milliseconds printed on a line. So a driver can
 *  alternate two programs run by run, each idle (blocked on stdin) while the other runs; the
 *  result follows when stdin closes. */
function pacedTimer(): Timer {
  const lines = createInterface({ input: process.stdin })[Symbol.asyncIterator]();
  return async (once, runs, warmup) => {
    for (let i = 0; i < warmup; i++) await once();
    process.stdout.write('ready\n');
    const times: number[] = [];
    for (let i = 0; i < runs; i++) {
      if ((await lines.next()).done) break;
      const start = performance.now();
      await once();
      times.push(performance.now() - start);
      process.stdout.write(`${times[i]}\n`);
    }
    // Until the driver is done: exiting now would run this process's teardown during the
    // other side's last run.
    while (!(await lines.next()).done);
    return times;
  };
}
