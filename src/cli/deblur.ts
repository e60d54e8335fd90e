// `netc deblur [FILE.net] IN... [--weights DIR] --out OUT` (or, the older form, `netc deblur
// IN... --model FILE.net ...`): restore photos with a trained or imported generator; with no
// model and weights, the bundled one (src/runtime/bundled.ts). Without --set, the --set values
// the checkpoint was made with apply. See
// src/runtime/deblur.ts for the size, tiling and rounding rules. Images are checked against
// --max-pixels from their headers before decoding; an existing output is replaced only if
// netc wrote it (a PNG with netc's marker), and never when it is also an input.
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import type { Command } from 'commander';
import { UserError } from '../errors.js';
import { initBackend, isBackendName, BACKEND_NAMES } from '../runtime/backends/index.js';
import { modelAndWeights } from '../runtime/bundled.js';
import { loadCheckpointFor, readCheckpointManifest } from '../runtime/checkpoint.js';
import { DEFAULT_OVERLAP, DEFAULT_TILE, deblurImage, sizeMultiple } from '../runtime/deblur.js';
import { PNG_OUTPUT, assertReplaceable } from '../runtime/fsutil.js';
import { DEFAULT_MAX_PIXELS, readImage, writePng } from '../runtime/image.js';
import { disposeParams } from '../runtime/params.js';
import { collectSet, compileForCli, ensembleOption, integerOption, optionalModelAndRest } from './options.js';

interface DeblurFlags {
  model?: string;
  weights?: string;
  set?: Record<string, number>;
  out: string;
  backend?: string;
  ensemble?: number;
  tile: number;
  overlap: number;
  maxPixels: number;
}

const USAGE = 'netc deblur [FILE.net] IN... [--weights DIR] --out OUT';

/** Output file for each input: one input -> OUT is the file (or a directory to put it in);
 *  several inputs -> OUT is a directory, each output named after its input, as .png. */
async function outputPaths(inputs: string[], out: string): Promise<string[]> {
  const outIsDir = inputs.length > 1 || out.endsWith('/') || (await fs.stat(out).then((s) => s.isDirectory(), () => false));
  if (!outIsDir) {
    if (path.extname(out).toLowerCase() !== '.png') throw new UserError(`--out ${out}: netc writes PNG files; give a .png name or a directory`);
    return [out];
  }
  const paths = inputs.map((input) => path.join(out, `${path.parse(input).name}.png`));
  const seen = new Map<string, string>();
  for (const [i, p] of paths.entries()) {
    const other = seen.get(p);
    if (other) throw new UserError(`${inputs[i]} and ${other} would both be written to ${p}`);
    seen.set(p, inputs[i]);
  }
  return paths;
}

/** Refuses, before any work, outputs that would overwrite an input or a file netc did not write. */
async function checkOutputs(inputs: string[], outputs: string[]): Promise<void> {
  const inputSet = new Set(inputs.map((input) => path.resolve(input)));
  for (const output of outputs) {
    if (inputSet.has(path.resolve(output))) throw new UserError(`--out ${output}: is also an input; netc does not write over its inputs`);
    await assertReplaceable(output, PNG_OUTPUT);
  }
}

function progressBar(label: string): (done: number, total: number) => void {
  if (!process.stderr.isTTY) return () => {};
  return (done, total) => {
    if (total <= 1) return;
    const width = 30;
    const filled = Math.round((width * done) / total);
    process.stderr.write(`\r${label} [${'#'.repeat(filled)}${'-'.repeat(width - filled)}] ${done}/${total} tiles${done === total ? '\n' : ''}`);
  };
}

export function registerDeblur(program: Command): void {
  program
    .command('deblur')
    .description('deblur PNG/JPEG images with a model and its weights; writes PNG')
    .usage('FILE.net IN... --weights DIR --out OUT [options]')
    .argument('<files...>', 'the model file (.net; default: the bundled model, models/deblur-lite.net), then PNG or JPEG images')
    .option('--model <file.net>', 'the model file, when not given first (the older form: netc deblur IN... --model FILE.net)')
    .option('--weights <dir>', 'a checkpoint directory, or a run directory (its latest checkpoint); default: the bundled weights')
    .option('--set <name=value>', 'override a top-level constant (default: the values the checkpoint was made with)', collectSet)
    .requiredOption('--out <path>', 'output .png (one input) or directory')
    .addOption(ensembleOption())
    .option('--backend <name>', `one of ${BACKEND_NAMES.join(', ')} (default: the fastest available)`)
    .option('--tile <pixels>', 'process images larger than this in overlapping tiles (0: never)', integerOption('--tile'), DEFAULT_TILE)
    .option('--overlap <pixels>', 'tile overlap, blended linearly', integerOption('--overlap'), DEFAULT_OVERLAP)
    .option('--max-pixels <n>', 'refuse images larger than this many pixels (checked from the header, before decoding)', integerOption('--max-pixels', { min: 1 }), DEFAULT_MAX_PIXELS)
    .action(async (files: string[], flags: DeblurFlags) => {
      const given = optionalModelAndRest(files, flags.model);
      const inputs = given.rest;
      const { model, weights, ensemble, note } = modelAndWeights({ model: given.model, weights: flags.weights, ensemble: flags.ensemble });
      if (note) console.error(`netc: ${note}`);
      if (inputs.length === 0) throw new UserError(`netc deblur: no images given (${USAGE})`);
      const { tile, overlap } = flags;
      if (flags.backend !== undefined && !isBackendName(flags.backend)) {
        throw new UserError(`--backend ${flags.backend}: expected one of ${BACKEND_NAMES.join(', ')}`);
      }
      for (const input of inputs) {
        const stat = await fs.stat(input).catch(() => undefined);
        if (!stat) throw new UserError(`${input}: no such file`);
        if (!stat.isFile()) throw new UserError(`${input}: not a file`);
      }
      const outputs = await outputPaths(inputs, flags.out);
      await checkOutputs(inputs, outputs);
      const saved = flags.set ? undefined : await readCheckpointManifest(weights);
      const set = flags.set ?? saved!.model.netc.set;
      const { program: compiled } = compileForCli(model, { set, setFrom: saved && path.join(saved.dir, 'model.json') });
      const backend = await initBackend(flags.backend as Parameters<typeof initBackend>[0]);
      console.error(`netc: backend ${backend.name}: ${backend.note}`);
      const { params } = await loadCheckpointFor(compiled, weights);
      const minimum = sizeMultiple(compiled.models[compiled.generator]);
      try {
        for (const [i, input] of inputs.entries()) {
          const image = await readImage(input, { maxPixels: flags.maxPixels });
          if (image.width < minimum || image.height < minimum) {
            throw new UserError(`${input}: ${image.width}x${image.height} is too small; this model needs at least ${minimum}x${minimum} pixels`);
          }
          const started = performance.now();
          const result = await deblurImage(compiled, params, image, { tile, overlap, ensemble, onProgress: progressBar(path.basename(input)) });
          await writePng(outputs[i], result);
          const seconds = ((performance.now() - started) / 1000).toFixed(1);
          console.log(`wrote ${outputs[i]} (${image.width}x${image.height}, ${seconds} s)`);
        }
      } finally {
        disposeParams(params);
      }
    });
}
