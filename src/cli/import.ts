// `netc import MODEL.pt --model FILE.net [--set k=v] --out DIR`: PyTorch generator weights
// (official DeepDeblur-PyTorch checkpoints, or what the train.py of `netc export --to pytorch`
// writes) -> a netc checkpoint directory.
import type { Command } from 'commander';
import { checkpointMeta, saveCheckpoint } from '../runtime/checkpoint.js';
import { importTorchCheckpoint } from '../runtime/import.js';
import { collectSet, compileForCli } from './options.js';

interface ImportFlags {
  model: string;
  set?: Record<string, number>;
  out: string;
}

export function registerImport(program: Command): void {
  program
    .command('import')
    .description('convert a PyTorch checkpoint (official DeepDeblur-PyTorch, or from an exported train.py) into a netc checkpoint')
    .argument('<model.pt>', "torch.save file holding {'G': state_dict, ...} or a bare state dict")
    .requiredOption('--model <file.net>', 'the model the weights are for (e.g. models/deepdeblur-pytorch.net)')
    .option('--set <name=value>', 'override a top-level constant (repeatable)', collectSet)
    .requiredOption('--out <dir>', 'checkpoint directory to write')
    .action(async (file: string, flags: ImportFlags) => {
      const { program: compiled } = compileForCli(flags.model, { set: flags.set });
      const { params, layout } = await importTorchCheckpoint(compiled, file);
      await saveCheckpoint(flags.out, { meta: checkpointMeta(compiled, 0, { importedFrom: file }), params });
      const count = [...params.values()].reduce((n, p) => n + p.data.length, 0);
      console.log(`wrote ${flags.out}: ${params.size} tensors, ${count.toLocaleString('en-US')} parameters from ${file} (${layout} layout)`);
    });
}
