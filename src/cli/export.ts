// `netc export FILE --to pytorch --out DIR [--set k=v ...]`: model.py (a torch.nn.Module per
// model), train.py (the loss and train sections as a torchrun/DDP script) and README.md.
// `netc export FILE --to onnx --out F.onnx [--dynamic] [--weights DIR]`: the generator as ONNX,
// for any image size with --dynamic.
// `netc export FILE --to netc --weights RUN|CKPT --out DIR`: the checkpoint's parameters alone
// (no optimizer state: a third of the size), checked against FILE: what a run ships.
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import type { Command } from 'commander';
import { emitOnnx } from '../compiler/emit/onnx.js';
import { emitPytorchModels } from '../compiler/emit/pytorch.js';
import { emitPytorchReadme } from '../compiler/emit/pytorch-readme.js';
import { emitPytorchTrain } from '../compiler/emit/pytorch-train.js';
import { UserError } from '../errors.js';
import { writeFileAtomic } from '../runtime/fsutil.js';
import { checkpointWeights } from './compile.js';
import { collectSet, compileForCli, parseSize } from './options.js';

interface ExportFlags { to: string; out: string; set?: Record<string, number>; input: string; dynamic?: boolean; weights?: string }

/** The files an export directory may already hold: what an earlier export wrote. */
const PYTORCH_FILES = new Set(['model.py', 'train.py', 'README.md', '__pycache__']);

async function checkExportDir(dir: string): Promise<void> {
  const entries = await fs.readdir(dir).catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT') return [];
    if (err.code === 'ENOTDIR') throw new UserError(`--out ${dir}: exists and is not a directory`);
    throw new UserError(`--out ${dir}: cannot read (${err.message})`);
  });
  const foreign = entries.filter((e) => !PYTORCH_FILES.has(e));
  if (foreign.length) {
    throw new UserError(`--out ${dir}: holds files netc export did not write (${foreign.slice(0, 3).join(', ')}${foreign.length > 3 ? ', ...' : ''}); choose an empty or new directory`);
  }
}

export function registerExport(program: Command): void {
  program
    .command('export')
    .description('export a model for PyTorch (model.py, train.py for torchrun/DDP), as ONNX, or a run\'s checkpoint without optimizer state')
    .argument('<file>', 'the .net model file')
    .requiredOption('--to <format>', "'pytorch', 'onnx' or 'netc' (a weights-only checkpoint)")
    .requiredOption('--out <path>', 'directory (pytorch, netc) or .onnx file')
    .option('--set <name=value>', 'override a top-level constant (repeatable)', collectSet)
    .option('--input <HxW>', 'input size the shapes are checked at (ONNX: the fixed size unless --dynamic)', '256x256')
    .option('--dynamic', 'ONNX: any batch, height and width')
    .option('--weights <dir>', 'ONNX and netc: checkpoint or run directory (its latest checkpoint) whose weights to export')
    .action(async (file: string, flags: ExportFlags) => {
      if (!['pytorch', 'onnx', 'netc'].includes(flags.to)) throw new UserError(`--to ${flags.to}: expected 'pytorch', 'onnx' or 'netc'`);
      const { program: prog } = compileForCli(file, { input: parseSize(flags.input), set: flags.set });
      if (flags.to === 'netc') {
        if (!flags.weights) throw new UserError('--to netc needs --weights RUN|CHECKPOINT');
        const { loadCheckpointFor, saveCheckpoint } = await import('../runtime/checkpoint.js');
        const { checkpoint } = await loadCheckpointFor(prog, flags.weights);
        await saveCheckpoint(flags.out, { meta: checkpoint.meta, params: checkpoint.params });
        console.log(`wrote ${flags.out} (step ${checkpoint.meta.step} of ${checkpoint.dir}, parameters only)`);
        return;
      }
      if (flags.to === 'onnx') {
        const weights = flags.weights ? await checkpointWeights(prog, flags.weights) : undefined;
        await writeFileAtomic(flags.out, emitOnnx(prog.models[prog.generator], weights, 0, { dynamic: flags.dynamic }));
        console.log(`wrote ${flags.out}${flags.dynamic ? ' (any batch, height and width)' : ` (${flags.input})`}`);
        return;
      }
      if (flags.dynamic || flags.weights) throw new UserError('--dynamic and --weights apply to --to onnx only');
      await checkExportDir(flags.out);
      const files: [string, string][] = [['model.py', emitPytorchModels(prog)], ['README.md', emitPytorchReadme(prog, file)]];
      if (prog.loss && prog.train) files.push(['train.py', emitPytorchTrain(prog)]);
      for (const [name, text] of files) await writeFileAtomic(path.join(flags.out, name), text);
      console.log(`wrote ${files.map(([name]) => path.join(flags.out, name)).join(', ')}`);
      if (!prog.train) console.log(`(${file} has no loss/train sections, so no train.py)`);
    });
}
