// `netc import FILE.net MODEL.pt [--set k=v] --out DIR` (or, the older form,
// `netc import MODEL.pt --model FILE.net --out DIR`): PyTorch generator weights (official
// DeepDeblur-PyTorch checkpoints, or what the train.py of `netc export --to pytorch` writes)
// -> a netc checkpoint directory. DIR may only be missing, empty or an older netc
// checkpoint (fsutil.ts, the owned-output rule).
import type { Command } from 'commander';
import { UserError } from '../errors.js';
import { checkpointMeta, saveCheckpoint } from '../runtime/checkpoint.js';
import { CHECKPOINT_OUTPUT, assertReplaceable } from '../runtime/fsutil.js';
import { importTorchCheckpoint } from '../runtime/import.js';
import { collectSet, compileForCli, modelAndRest } from './options.js';

interface ImportFlags {
  model?: string;
  set?: Record<string, number>;
  out: string;
}

const USAGE = 'netc import FILE.net MODEL.pt --out DIR';

export function registerImport(program: Command): void {
  program
    .command('import')
    .description('convert a PyTorch checkpoint (official DeepDeblur-PyTorch, or from an exported train.py) into a netc checkpoint')
    .usage('FILE.net MODEL.pt --out DIR [options]')
    .argument('<files...>', "the model file (.net), then the torch.save file holding {'G': state_dict, ...} or a bare state dict")
    .option('--model <file.net>', 'the model file, when not given first (the older form: netc import MODEL.pt --model FILE.net)')
    .option('--set <name=value>', 'override a top-level constant (repeatable)', collectSet)
    .requiredOption('--out <dir>', 'checkpoint directory to write (missing, empty, or a netc checkpoint it replaces)')
    .action(async (files: string[], flags: ImportFlags) => {
      const { model, rest } = modelAndRest('import', files, flags.model, USAGE);
      if (rest.length !== 1) throw new UserError(`netc import: expected one .pt file after the model file (${USAGE}), got ${rest.length}`);
      const [file] = rest;
      await assertReplaceable(flags.out, CHECKPOINT_OUTPUT);
      const { program: compiled } = compileForCli(model, { set: flags.set });
      const { params, layout } = await importTorchCheckpoint(compiled, file);
      await saveCheckpoint(flags.out, { meta: checkpointMeta(compiled, 0, { importedFrom: file }), params });
      const count = [...params.values()].reduce((n, p) => n + p.data.length, 0);
      console.log(`wrote ${flags.out}: ${params.size} tensors, ${count.toLocaleString('en-US')} parameters from ${file} (${layout} layout)`);
    });
}
