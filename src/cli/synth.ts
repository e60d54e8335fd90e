// `netc synth`: blurry/sharp training pairs in the GOPRO layout, three ways:
//   --frames DIR               a window of consecutive frames averaged (the GOPRO recipe)
//   --video FILE...            the same, decoded from video files by ffmpeg (--window N or
//                              --exposure MS; --interpolate K for a continuous smear)
//   --kernels --images DIR     photos blurred by random camera-shake kernels
//   --kernels --video FILE...  every --stride-th frame of videos, likewise
// Each run writes whole sequences (ROOT/<split>/<seq>/) and updates ROOT/manifest.json; ROOT
// is a dataset root netc owns (data/dataset-root.ts). Ctrl-C or SIGTERM stops between pairs,
// keeping the pairs made so far, and exits 130/143 (signals.ts).
import type { Command } from 'commander';
import { UserError } from '../errors.js';
import { DEFAULT_GAMMA, DEFAULT_WINDOW, synthesize } from '../runtime/data/synth.js';
import { KERNEL_DEFAULTS, synthesizeKernels } from '../runtime/data/synth-kernels.js';
import { parseSplit } from '../runtime/data/dataset.js';
import { synthesizeVideo } from '../runtime/data/synth-video.js';
import { DEFAULT_MAX_PIXELS } from '../runtime/image.js';
import { parseInteger } from './options.js';
import { onStopSignals } from './signals.js';

interface SynthFlags {
  frames?: string;
  video?: string[];
  kernels?: boolean;
  images?: string;
  range?: string;
  out: string;
  window?: string;
  exposure?: string;
  interpolate?: string;
  size?: string;
  stride?: string;
  gamma: string;
  split: string;
  seq?: string;
  license?: string;
  count?: string;
  seed?: string;
  length?: string;
  noise?: string;
  maxPixels: string;
}

const integer = (value: string, flag: string) => parseInteger(flag, value, { min: 1 });

function positive(value: string, flag: string): number {
  const n = Number(value);
  if (!(n > 0) || !Number.isFinite(n)) throw new UserError(`${flag} ${value}: expected a positive number`);
  return n;
}

function pairOf(text: string, flag: string, example: string, parse: (s: string) => number): [number, number] {
  const m = /^([^:]+):([^:]+)$/.exec(text);
  if (!m) throw new UserError(`${flag} ${text}: expected A:B, e.g. ${example}`);
  return [parse(m[1]), parse(m[2])];
}

function parseRange(text: string): [number, number] {
  const [a, b] = pairOf(text, '--range', '1:21', (s) => integer(s, '--range'));
  if (b < a) throw new UserError(`--range ${text}: empty (the last frame comes before the first)`);
  return [a, b];
}

function parseSize(text: string): [number, number] {
  const m = /^(\d+)x(\d+)$/.exec(text.trim());
  if (!m || Number(m[1]) < 8 || Number(m[2]) < 8) throw new UserError(`--size ${text}: expected WIDTHxHEIGHT, e.g. 640x360`);
  return [Number(m[1]), Number(m[2])];
}

const collect = (value: string, previous: string[] = []) => [...previous, value];

/** One progress line, rewritten on a terminal. */
function progress(label: string, every = 500): (done: number, total: number) => void {
  let last = 0;
  return (done, total) => {
    const now = performance.now();
    if (now - last < every && done !== total) return;
    last = now;
    const line = `synth: ${label} ${done}${total ? `/${total}` : ''}`;
    if (process.stderr.isTTY) process.stderr.write(`\r\x1b[K${line}`);
    else console.error(line);
  };
}

export function registerSynth(program: Command): void {
  program
    .command('synth')
    .description('make blurry/sharp training pairs (GOPRO layout) from video frames, video files, or photos with camera-shake kernels')
    .requiredOption('--out <root>', 'dataset root; writes ROOT/<split>/<seq>/{blur,blur_gamma,sharp}/ and ROOT/manifest.json')
    .option('--frames <dir>', 'folder of consecutive frames (PNG/JPEG, ordered by name)')
    .option('--video <file>', 'video file ffmpeg decodes (mp4, mpg, mkv, ...); repeatable', collect)
    .option('--kernels', 'blur single images with random camera-shake kernels (with --images or --video)')
    .option('--images <dir>', 'with --kernels: folder of sharp photos')
    .option('--window <n>', `frames averaged per blurry image (odd; default ${DEFAULT_WINDOW})`)
    .option('--exposure <ms>', 'video: the window as a shutter time in milliseconds')
    .option('--interpolate <k>', 'video: motion-compensated frames per stored frame before averaging (ffmpeg minterpolate)', '1')
    .option('--size <WxH>', 'video: decode at this size (area-averaged), e.g. 640x360')
    .option('--stride <n>', 'frames between consecutive sharp frames (default: windows do not overlap; --kernels: 1)')
    .option('--range <first:last>', 'use only frames first..last (1-based), e.g. to hold out a test split')
    .option('--gamma <g>', 'camera gamma used to linearize before averaging or blurring (blur_gamma)', String(DEFAULT_GAMMA))
    .option('--split <name>', 'train, val (what `netc train` validates on) or test (held out for the final score)', 'train')
    .option('--seq <name>', 'sequence name (default: the frames folder, video or images folder name)')
    .option('--license <text>', 'the sources\' license, recorded in manifest.json')
    .option('--count <n>', `--kernels: blurred copies per image (default ${KERNEL_DEFAULTS.count})`)
    .option('--seed <n>', '--kernels: random seed', '1')
    .option('--length <min:max>', `--kernels: kernel path length in pixels (default ${KERNEL_DEFAULTS.minLength}:${KERNEL_DEFAULTS.maxLength})`)
    .option('--max-pixels <n>', 'refuse frames and photos larger than this many pixels', String(DEFAULT_MAX_PIXELS))
    .option('--noise <gain:read>', `--kernels: largest Poisson gain and read-noise sigma, linear units (default ${KERNEL_DEFAULTS.noiseGain}:${KERNEL_DEFAULTS.noiseRead})`)
    .action(async (flags: SynthFlags) => {
      const gamma = positive(flags.gamma, '--gamma');
      const modes = [flags.frames !== undefined, flags.video !== undefined && !flags.kernels, flags.kernels === true].filter(Boolean).length;
      if (modes !== 1) throw new UserError('give one source: --frames DIR, --video FILE..., or --kernels with --images DIR or --video FILE...');
      if (flags.seq && (flags.video?.length ?? 0) > 1) throw new UserError('--seq names one sequence; with several --video files each is named after its file');
      const split = parseSplit(flags.split, '--split');
      const range = flags.range === undefined ? undefined : parseRange(flags.range);
      const stride = flags.stride === undefined ? undefined : integer(flags.stride, '--stride');
      const size = flags.size === undefined ? undefined : parseSize(flags.size);
      const maxPixels = integer(flags.maxPixels, '--max-pixels');
      const stop = onStopSignals('keeping the pairs made so far after this one');
      const shouldStop = () => stop.requested !== undefined;
      const started = performance.now();
      const done = (what: string, result: { dir: string; names: string[]; stopped: boolean; total?: number }) => {
        if (result.stopped) console.error(`netc: stopped after ${result.names.length}${result.total ? ` of ${result.total}` : ''} pairs; ${result.names.length ? `wrote them to ${result.dir}` : `${result.dir} left as it was`}`);
        else console.log(`${what} in ${((performance.now() - started) / 1000).toFixed(1)} s`);
        return result.stopped;
      };
      try {
        if (flags.frames !== undefined) {
          const result = await synthesize({
            frames: flags.frames, out: flags.out, window: integer(flags.window ?? String(DEFAULT_WINDOW), '--window'), stride, gamma, split,
            seq: flags.seq, range, maxPixels, shouldStop, onProgress: progress('pair', 0),
          });
          done(`wrote ${result.names.length} pairs to ${result.dir} (blur, blur_gamma, sharp)`, result);
        } else if (!flags.kernels) {
          for (const video of flags.video!) {
            const result = await synthesizeVideo({
              video, out: flags.out, split, seq: flags.seq, range, stride, size, gamma, license: flags.license,
              window: flags.window === undefined ? undefined : integer(flags.window, '--window'),
              exposureMs: flags.exposure === undefined ? undefined : positive(flags.exposure, '--exposure'),
              interpolate: integer(flags.interpolate ?? '1', '--interpolate'),
              shouldStop, onProgress: (pairs, frame, frames) => progress(`${video}: ${pairs} pairs, frame`)(frame, frames),
            });
            if (done(`wrote ${result.names.length} pairs to ${result.dir} (window ${result.window} frames)`, result)) break;
          }
        } else {
          const [minLength, maxLength] = flags.length === undefined ? [undefined, undefined] : pairOf(flags.length, '--length', '3:32', (s) => positive(s, '--length'));
          const [noiseGain, noiseRead] = flags.noise === undefined ? [undefined, undefined] : pairOf(flags.noise, '--noise', '4e-4:2e-3', Number);
          if (noiseGain !== undefined && !(noiseGain >= 0 && noiseRead! >= 0)) throw new UserError(`--noise ${flags.noise}: expected two numbers >= 0`);
          const sources: { images?: string; video?: string }[] = flags.images !== undefined ? [{ images: flags.images }] : (flags.video ?? []).map((video) => ({ video }));
          if (sources.length === 0) throw new UserError('--kernels needs --images DIR or --video FILE');
          for (const source of sources) {
            const result = await synthesizeKernels({
              ...source, out: flags.out, split, seq: flags.seq, range, stride, size, gamma, license: flags.license,
              count: flags.count === undefined ? undefined : integer(flags.count, '--count'),
              seed: Number(flags.seed ?? 1), minLength, maxLength, noiseGain, noiseRead,
              maxPixels, shouldStop, onProgress: progress(`${source.images ?? source.video}: pair`),
            });
            if (done(`wrote ${result.names.length} pairs to ${result.dir} (blur, blur_gamma, sharp, kernel)`, result)) break;
          }
        }
      } finally {
        stop.dispose();
        if (process.stderr.isTTY) process.stderr.write('\n');
      }
      if (stop.requested) process.exitCode = stop.exitCode;
    });
}
