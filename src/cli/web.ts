// `netc web [--port 8080] [--host 127.0.0.1] [--model FILE [--weights DIR] [--set k=v]]`:
// serves the playground page (src/web/). Without --model it opens the bundled model
// (src/web/defaults.ts) with its weights when they are there.
import { existsSync, promises as fs } from 'node:fs';
import * as path from 'node:path';
import type { Command } from 'commander';
import { CompileError, compileSource, formatDiagnostics } from '../compiler/index.js';
import { UserError } from '../errors.js';
import { checkFits, parseModelJson } from '../runtime/checkpoint-format.js';
import { resolveCheckpointDir } from '../runtime/checkpoint.js';
import { DEFAULT_OVERLAP, DEFAULT_TILE } from '../runtime/deblur.js';
import { DEFAULT_WEB_MODEL, type WebConfig } from '../web/defaults.js';
import { bundleDir, projectRoot } from '../web/paths.js';
import { startWebServer } from '../web/server.js';
import { collectSet } from './options.js';

interface WebFlags { port: string; host: string; model?: string; weights?: string; set?: Record<string, number> }

/** The model, its weights and why there are none, from the flags or the defaults. */
function chooseModel(flags: WebFlags, root: string): { model: string; weights?: string; reason?: string } {
  if (flags.weights && !flags.model) throw new UserError('--weights needs --model (the file the weights belong to)');
  if (flags.model) return { model: flags.model, weights: flags.weights, reason: flags.weights ? undefined : 'none given (start netc web with --weights DIR)' };
  const bundled = path.join(root, DEFAULT_WEB_MODEL.model);
  // As the user would type it: relative to the working directory when inside it.
  const relative = (p: string) => (path.relative(process.cwd(), p).startsWith('..') ? p : path.relative(process.cwd(), p));
  if (existsSync(bundled)) {
    const weights = path.join(root, DEFAULT_WEB_MODEL.weights);
    if (existsSync(weights)) return { model: relative(bundled), weights: relative(weights) };
    return { model: relative(bundled), reason: `the bundled weights ${DEFAULT_WEB_MODEL.weights} are not in this checkout` };
  }
  return {
    model: relative(path.join(root, DEFAULT_WEB_MODEL.fallback)),
    reason: `the bundled model ${DEFAULT_WEB_MODEL.model} is not in this checkout yet, so ${DEFAULT_WEB_MODEL.fallback} opened without weights`,
  };
}

/** What the page needs to know about the weights; checks them against the model when it compiles. */
async function describeWeights(modelFile: string, text: string, set: Record<string, number>, weightsPath: string): Promise<WebConfig['weights'] & { available: true }> {
  const dir = await resolveCheckpointDir(weightsPath);
  const modelJson = path.join(dir, 'model.json');
  const model = parseModelJson(await fs.readFile(modelJson, 'utf8'), modelJson);
  const group = model.weightsManifest[0];
  if (!group || group.paths.length !== 1 || !/^[\w.-]+$/.test(group.paths[0])) {
    throw new UserError(`${modelJson}: expected one weight file in the manifest's first group, named plainly (found ${JSON.stringify(group?.paths)})`);
  }
  if (!existsSync(path.join(dir, group.paths[0]))) throw new UserError(`${path.join(dir, group.paths[0])}: missing (listed in model.json)`);
  let program;
  try {
    program = compileSource(text, modelFile, { set }).program;
  } catch (err) {
    if (!(err instanceof CompileError)) throw err;
    console.error(formatDiagnostics(err.diagnostics, err.source));
    console.error('netc web: the model does not compile; the page opens it for editing (its weights are not checked)');
  }
  if (program) checkFits(program, program.generator, dir, model.netc, new Map(group.weights.map((w) => [w.name, { shape: w.shape }])));
  return { available: true, dir, step: model.netc.step, file: group.paths[0] };
}

export function registerWeb(program: Command): void {
  program
    .command('web')
    .description('serve the playground page: edit a model, see its cost, deblur images on WebGL in the browser')
    .option('--port <n>', 'port to listen on (0: any free port)', '8080')
    .option('--host <address>', 'address to bind (the default serves this machine only)', '127.0.0.1')
    .option('--model <file.net>', 'the model to open (default: the bundled model)')
    .option('--weights <dir>', 'checkpoint or run directory for --model, so the page can run it')
    .option('--set <name=value>', 'override a top-level constant (repeatable)', collectSet)
    .action(async (flags: WebFlags) => {
      const port = Number(flags.port);
      if (!Number.isInteger(port) || port < 0 || port > 65535) throw new UserError(`--port ${flags.port}: expected a port number 0..65535`);
      const root = projectRoot();
      const chosen = chooseModel(flags, root);
      const text = await fs.readFile(chosen.model, 'utf8').catch((err: NodeJS.ErrnoException) => {
        throw new UserError(`${chosen.model}: ${err.code === 'ENOENT' ? 'no such file' : `cannot read (${err.code})`}`);
      });
      const set = flags.set ?? {};
      const weights = chosen.weights
        ? await describeWeights(chosen.model, text, set, chosen.weights)
        : { available: false as const, reason: chosen.reason ?? 'none given' };
      const bundle = bundleDir(root);
      if (!existsSync(path.join(bundle, 'app.js'))) {
        console.error('netc web: building the page (first use)…');
        await (await import('../web/build.js')).buildPage(root);
      }
      const config: WebConfig = { model: { file: chosen.model, text }, set, weights, tile: DEFAULT_TILE, overlap: DEFAULT_OVERLAP };
      const { url } = await startWebServer({ host: flags.host, port, config, weightsDir: weights.available ? weights.dir : undefined, bundleDir: bundle }).catch(
        (err: NodeJS.ErrnoException) => {
          if (err.code === 'EADDRINUSE') throw new UserError(`port ${port} is in use; choose another with --port (0: any free port)`);
          if (err.code === 'EADDRNOTAVAIL') throw new UserError(`--host ${flags.host}: not an address of this machine`);
          throw err;
        },
      );
      console.log(`netc web: serving ${url}`);
      console.log(`  model   ${chosen.model}${Object.keys(set).length ? ` --set ${Object.entries(set).map(([k, v]) => `${k}=${v}`).join(' ')}` : ''}`);
      console.log(`  weights ${weights.available ? `${weights.dir} (step ${weights.step})` : `none: ${weights.reason}`}`);
      console.log('  Ctrl-C stops it');
    });
}
