// `netc eval [FILE.net --weights DIR] --data ROOT [--split test] [--json] [--backend B]
// [--limit N]` (`--model FILE.net` instead of the first argument also works; with neither, the
// bundled model): PSNR/SSIM of the deblurred pairs next to the blurry baseline
// (src/runtime/evaluate.ts: GOPRO protocol). Without --set, the --set values the checkpoint
// was trained with are used, so `--weights RUNDIR` of a variant needs no repeating them.
import * as path from 'node:path';
import type { Command } from 'commander';
import { UserError } from '../errors.js';
import { BACKEND_NAMES, initBackend, isBackendName, type BackendName } from '../runtime/backends/index.js';
import { modelAndWeights } from '../runtime/bundled.js';
import { loadCheckpointFor, readCheckpointManifest } from '../runtime/checkpoint.js';
import { PairDataset, parseSplit, type BlurKind } from '../runtime/data/dataset.js';
import { DEFAULT_OVERLAP, DEFAULT_TILE, deblurImage } from '../runtime/deblur.js';
import { evaluate } from '../runtime/evaluate.js';
import { disposeParams } from '../runtime/params.js';
import { collectSet, compileForCli, ensembleOption, integerOption } from './options.js';

interface EvalFlags {
  model?: string;
  weights?: string;
  set?: Record<string, number>;
  data: string;
  split: string;
  blur?: string;
  json?: boolean;
  backend?: string;
  ensemble?: number;
  limit?: number;
}

const row = (cells: string[]) => cells.map((c, i) => (i === 0 ? c.padEnd(28) : c.padStart(9))).join(' ');

export function registerEval(program: Command): void {
  program
    .command('eval')
    .description('PSNR and SSIM of a model on a dataset split, next to the blurry input')
    .usage('[FILE.net --weights DIR] --data ROOT [options]')
    .argument('[file.net]', 'the model file (default: the bundled model, models/deblur-lite.net)')
    .option('--model <file.net>', 'the model file, when not given first (the older form)')
    .option('--weights <dir>', 'a checkpoint directory, or a run directory (its latest checkpoint); default: the bundled weights')
    .option('--set <name=value>', 'override a top-level constant (default: the values the checkpoint was trained with)', collectSet)
    .requiredOption('--data <root>', 'dataset root in the GOPRO layout')
    .option('--split <name>', 'train, val or test', 'test')
    .option('--blur <kind>', 'blur or blur_gamma (default: the file\'s data: setting, else blur_gamma)')
    .option('--json', 'print one JSON object: psnr, ssim, baselinePsnr, baselineSsim, images')
    .addOption(ensembleOption())
    .option('--backend <name>', `one of ${BACKEND_NAMES.join(', ')} (default: cpu)`)
    .option('--limit <n>', 'evaluate only the first N pairs', integerOption('--limit', { min: 1 }))
    .action(async (file: string | undefined, flags: EvalFlags) => {
      if (file !== undefined && flags.model !== undefined) throw new UserError(`netc eval: the model is given twice (${file} and --model ${flags.model})`);
      const { model, weights, ensemble, note } = modelAndWeights({ model: file ?? flags.model, weights: flags.weights, ensemble: flags.ensemble });
      if (note) console.error(`netc: ${note}`);
      if (flags.backend !== undefined && !isBackendName(flags.backend)) {
        throw new UserError(`--backend ${flags.backend}: expected one of ${BACKEND_NAMES.join(', ')}`);
      }
      const split = parseSplit(flags.split, '--split');
      if (flags.blur !== undefined && flags.blur !== 'blur' && flags.blur !== 'blur_gamma') throw new UserError(`--blur ${flags.blur}: expected blur or blur_gamma`);
      const { limit } = flags;
      const saved = flags.set ? undefined : await readCheckpointManifest(weights);
      const set = flags.set ?? saved!.model.netc.set;
      const { program: compiled } = compileForCli(model, { set, setFrom: saved && path.join(saved.dir, 'model.json') });
      const blurKind = (flags.blur ?? compiled.train?.data?.blur ?? 'blur_gamma') as BlurKind;
      const dataset = await PairDataset.open(flags.data, split, blurKind);
      const backend = await initBackend(flags.backend as BackendName | undefined);
      console.error(`netc: backend ${backend.name}: ${backend.note}`);
      const { params, checkpoint } = await loadCheckpointFor(compiled, weights);
      try {
        if (!flags.json) {
          console.error(`netc: ${checkpoint.dir} (step ${checkpoint.meta.step}) on ${flags.data}/${flags.split} (${blurKind})${ensemble > 1 ? `, ${ensemble} flipped views averaged` : ''}`);
          console.log(row(['image', 'PSNR', 'SSIM', 'blur PSNR', 'blur SSIM']));
        }
        const result = await evaluate(
          dataset,
          (image) => deblurImage(compiled, params, image, { tile: DEFAULT_TILE, overlap: DEFAULT_OVERLAP, ensemble }),
          {
            limit,
            onImage: (s, done, total) => {
              if (flags.json) console.error(`netc: ${done}/${total} ${s.id}`);
              else console.log(row([s.id, s.psnr.toFixed(2), s.ssim.toFixed(4), s.baselinePsnr.toFixed(2), s.baselineSsim.toFixed(4)]));
            },
          },
        );
        if (flags.json) {
          console.log(JSON.stringify({ model, weights: checkpoint.dir, step: checkpoint.meta.step, split: flags.split, blur: blurKind, ensemble, ...result }));
        } else {
          console.log(row([`mean of ${result.images.length}`, result.psnr.toFixed(2), result.ssim.toFixed(4), result.baselinePsnr.toFixed(2), result.baselineSsim.toFixed(4)]));
          const gain = result.psnr - result.baselinePsnr;
          console.log(`PSNR ${gain >= 0 ? '+' : ''}${gain.toFixed(2)} dB over the blurry input`);
        }
      } finally {
        disposeParams(params);
      }
    });
}
