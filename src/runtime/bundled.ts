// The model netc ships: `netc deblur` and `netc eval` use it when given no --model/--weights.
// Its text is models/deblur-lite.net and its trained checkpoint weights/deblur-lite/ (how it
// was made: weights/deblur-lite/README.md), both found from the package's own root, so the
// commands work from any directory.
import { existsSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { UserError } from '../errors.js';

/** The package root: the nearest folder above this module whose package.json is netc's. */
function packageRoot(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const manifest = path.join(dir, 'package.json');
    if (existsSync(manifest) && (JSON.parse(readFileSync(manifest, 'utf8')) as { name?: string }).name === 'netc') return dir;
    const parent = path.dirname(dir);
    if (parent === dir) throw new Error('netc: cannot find the package root');
    dir = parent;
  }
}

export const BUNDLED_NAME = 'deblur-lite';
/** Views `netc deblur`/`netc eval` average with the bundled model unless --ensemble says
 *  otherwise (deblur.ts): as is and flipped left-right. On its 27 held-out pairs 1, 2 and 4
 *  views gain +1.84, +2.04 and +2.12 dB; a 1280x720 photo takes 2.2-2.6, 3.6-4.0 and
 *  6.2-6.6 s through `netc deblur` on the slowest 2-core machine measured (2.1 GHz Xeon,
 *  2026-12-02; its speed varies by a quarter over an hour): 2 is the most that stays under
 *  the 5 s bar there. */
export const BUNDLED_ENSEMBLE = 2;

export function bundledModel(): { model: string; weights: string } {
  const root = packageRoot();
  return { model: path.join(root, 'models', `${BUNDLED_NAME}.net`), weights: path.join(root, 'weights', BUNDLED_NAME) };
}

/** --model/--weights as given, or the bundled pair when both are left out (with a line saying
 *  so). One without the other is an error: weights belong to one model. The ensemble is
 *  --ensemble's, else 1, or BUNDLED_ENSEMBLE for the bundled model. */
export function modelAndWeights(flags: { model?: string; weights?: string; ensemble?: number }): { model: string; weights: string; ensemble: number; note?: string } {
  const ensemble = flags.ensemble ?? 1;
  if (flags.model !== undefined && flags.weights !== undefined) return { model: flags.model, weights: flags.weights, ensemble };
  if (flags.model !== undefined) throw new UserError(`--model ${flags.model} needs --weights DIR (a checkpoint of that model); leave both out to use the bundled model`);
  if (flags.weights !== undefined) throw new UserError(`--weights ${flags.weights} needs the model those weights are for: give FILE.net first (or --model FILE.net), or leave both out to use the bundled model`);
  const bundled = bundledModel();
  if (!existsSync(path.join(bundled.weights, 'model.json'))) throw new UserError(`the bundled model's weights are missing (${bundled.weights}); give --model and --weights`);
  const views = flags.ensemble ?? BUNDLED_ENSEMBLE;
  const viewsNote = views > 1 ? `, ${views} flipped views averaged${flags.ensemble === undefined ? ' (--ensemble 1: one pass, faster)' : ''}` : '';
  return {
    ...bundled,
    ensemble: views,
    note: `using the bundled model ${BUNDLED_NAME} (${path.relative(process.cwd(), bundled.model) || bundled.model}, weights ${path.relative(process.cwd(), bundled.weights) || bundled.weights}${viewsNote})`,
  };
}
