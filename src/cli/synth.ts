// `netc synth --frames DIR --out ROOT [--window 7] [--stride N] [--gamma 2.2] [--split train|test]
// [--seq NAME] [--max-pixels N]`: GOPRO-style blurry/sharp pairs from consecutive video frames.
// ROOT is a dataset root netc owns (data/dataset-root.ts); SIGINT/SIGTERM keep the pairs made
// so far and exit 130/143 (signals.ts).
import type { Command } from 'commander';
import { UserError } from '../errors.js';
import { DEFAULT_GAMMA, DEFAULT_WINDOW, synthesize } from '../runtime/data/synth.js';
import { DEFAULT_MAX_PIXELS } from '../runtime/image.js';
import { parseInteger } from './options.js';
import { onStopSignals } from './signals.js';

interface SynthFlags {
  frames: string;
  range?: string;
  out: string;
  window: string;
  stride?: string;
  gamma: string;
  split: string;
  seq?: string;
  maxPixels: string;
}

function parseRange(text: string): [number, number] {
  const m = /^(\d+):(\d+)$/.exec(text);
  if (!m) throw new UserError(`--range ${text}: expected FIRST:LAST frame numbers, e.g. 1:21`);
  return [Number(m[1]), Number(m[2])];
}

export function registerSynth(program: Command): void {
  program
    .command('synth')
    .description('make GOPRO-style blurry/sharp pairs from consecutive video frames')
    .requiredOption('--frames <dir>', 'folder of consecutive frames (PNG/JPEG, ordered by name)')
    .requiredOption('--out <root>', 'dataset root; writes ROOT/<split>/<seq>/{blur,blur_gamma,sharp}/')
    .option('--window <n>', 'frames averaged per blurry image (odd)', String(DEFAULT_WINDOW))
    .option('--stride <n>', 'frames between window starts (default: the window)')
    .option('--gamma <g>', 'camera gamma used to linearize before averaging (blur_gamma)', String(DEFAULT_GAMMA))
    .option('--split <name>', 'train or test', 'train')
    .option('--seq <name>', 'sequence name (default: the frames folder name)')
    .option('--range <first:last>', 'use only frames first..last (1-based, in name order), e.g. to hold out a test split')
    .option('--max-pixels <n>', 'refuse frames larger than this many pixels', String(DEFAULT_MAX_PIXELS))
    .action(async (flags: SynthFlags) => {
      const gamma = Number(flags.gamma);
      if (!Number.isFinite(gamma)) throw new UserError(`--gamma ${flags.gamma}: not a number`);
      const started = performance.now();
      const stop = onStopSignals('keeping the pairs made so far after this one');
      const result = await synthesize({
        frames: flags.frames,
        out: flags.out,
        window: parseInteger('--window', flags.window, { min: 1 }),
        stride: flags.stride === undefined ? undefined : parseInteger('--stride', flags.stride, { min: 1 }),
        maxPixels: parseInteger('--max-pixels', flags.maxPixels, { min: 1 }),
        shouldStop: () => stop.requested !== undefined,
        gamma,
        split: flags.split as 'train',
        seq: flags.seq,
        range: flags.range === undefined ? undefined : parseRange(flags.range),
        onProgress: (done, total) => {
          const line = `synth: pair ${done}/${total}`;
          if (process.stderr.isTTY) process.stderr.write(`\r${line}${done === total ? '\n' : ''}`);
          else console.error(line);
        },
      }).finally(() => stop.dispose());
      const seconds = ((performance.now() - started) / 1000).toFixed(1);
      if (result.stopped) {
        console.error(`netc: stopped after ${result.names.length} of ${result.total} pairs; ${result.names.length ? `wrote them to ${result.dir}` : `${result.dir} left as it was`}`);
        process.exitCode = stop.exitCode;
        return;
      }
      console.log(`wrote ${result.names.length} pairs to ${result.dir} (blur, blur_gamma, sharp) in ${seconds} s`);
    });
}
