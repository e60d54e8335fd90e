// The Run panel: pick or drop an image, deblur it with the editor's model and the served
// weights through netc's own runtime (runtime/deblur.ts: padding, tiles shrunk to the
// WebGL texture limit, blending), progress and time, a before/after slider, PNG download.
import type { Program } from '../../compiler/ir.js';
import { UserError } from '../../errors.js';
import { checkFits } from '../../runtime/checkpoint-format.js';
import { deblurImage, sizeMultiple, type TilePlan } from '../../runtime/deblur.js';
import type { RgbImage } from '../../runtime/image-bytes.js';
import { disposeParams, paramsFromArrays } from '../../runtime/params.js';
import type { WebConfig } from '../defaults.js';
import type { PageBackend } from './backend.js';
import { decodeImageFile, paint, pngBlob } from './pixels.js';
import { fetchWeights, type PageWeights } from './weights.js';

export interface RunContext {
  config: WebConfig;
  backend: PageBackend;
  /** The editor's model compiled as `netc deblur` compiles it, or why it does not compile. */
  program(): { program: Program } | { problem: string };
}

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;

export function setupRunPanel(ctx: RunContext): void {
  const backendNote = $('backend-note');
  const weightsNote = $('weights-note');
  const drop = $('drop');
  const fileInput = $<HTMLInputElement>('file');
  const imageInfo = $('image-info');
  const tileInput = $<HTMLInputElement>('tile');
  const overlapInput = $<HTMLInputElement>('overlap');
  const button = $<HTMLButtonElement>('run');
  const progress = $<HTMLProgressElement>('progress');
  const status = $('run-status');
  const compare = $('compare');
  const before = $<HTMLCanvasElement>('before');
  const after = $<HTMLCanvasElement>('after');
  const slider = $<HTMLInputElement>('slider');
  const divider = $('divider');
  const download = $<HTMLAnchorElement>('download');

  const weightsConfig = ctx.config.weights;
  backendNote.textContent = `Backend: ${ctx.backend.note}`;
  backendNote.classList.toggle('fallback', ctx.backend.fallback);
  weightsNote.textContent = weightsConfig.available
    ? `Weights: ${weightsConfig.dir} (step ${weightsConfig.step})`
    : `No weights: ${weightsConfig.reason}. Editing and costing work; deblurring needs weights.`;
  weightsNote.classList.toggle('missing', !weightsConfig.available);
  tileInput.value = String(ctx.config.tile);
  overlapInput.value = String(ctx.config.overlap);

  let image: { name: string; pixels: RgbImage } | undefined;
  let weights: PageWeights | undefined;
  let running = false;
  const refresh = () => (button.disabled = running || !image || !weightsConfig.available);
  const say = (text: string, state: 'idle' | 'running' | 'done' | 'error') => {
    status.textContent = text;
    status.dataset.state = state;
  };
  say(weightsConfig.available ? 'choose an image' : 'running needs weights (netc web --model FILE --weights DIR)', 'idle');

  const showSlider = () => {
    const at = Number(slider.value);
    after.style.clipPath = `inset(0 0 0 ${at}%)`;
    divider.style.left = `${at}%`;
  };
  slider.addEventListener('input', showSlider);

  async function open(file: File): Promise<void> {
    try {
      const pixels = await decodeImageFile(file);
      image = { name: file.name, pixels };
      paint(before, pixels);
      after.width = pixels.width;
      after.height = pixels.height;
      after.getContext('2d')!.clearRect(0, 0, after.width, after.height);
      compare.hidden = false;
      download.hidden = true;
      progress.value = 0;
      imageInfo.textContent = `${file.name}, ${pixels.width}x${pixels.height}`;
      say(weightsConfig.available ? 'ready to deblur' : 'running needs weights (netc web --model FILE --weights DIR)', 'idle');
    } catch (err) {
      image = undefined;
      say(err instanceof UserError ? err.message : `cannot open ${file.name}: ${(err as Error).message}`, 'error');
    }
    refresh();
  }

  fileInput.addEventListener('change', () => void (fileInput.files?.[0] && open(fileInput.files[0])));
  drop.addEventListener('dragover', (e) => {
    e.preventDefault();
    drop.classList.add('over');
  });
  drop.addEventListener('dragleave', () => drop.classList.remove('over'));
  drop.addEventListener('drop', (e) => {
    e.preventDefault();
    drop.classList.remove('over');
    const file = e.dataTransfer?.files[0];
    if (file) void open(file);
  });

  const count = (input: HTMLInputElement, flag: string) => {
    const n = Number(input.value);
    if (!Number.isInteger(n) || n < 0) throw new UserError(`${flag} ${input.value}: expected a whole number >= 0`);
    return n;
  };

  async function run(): Promise<void> {
    if (!image || !weightsConfig.available) return;
    running = true;
    refresh();
    download.hidden = true;
    const started = performance.now();
    let plan: TilePlan | undefined;
    let done = 0;
    const elapsed = () => ((performance.now() - started) / 1000).toFixed(1);
    const tick = () => say(`${plan ? `tile ${Math.min(done + 1, plan.tiles)} of ${plan.tiles}` : 'preparing'}, ${elapsed()} s`, 'running');
    const timer = setInterval(tick, 100);
    try {
      const compiled = ctx.program();
      if ('problem' in compiled) throw new UserError(`the model does not compile: ${compiled.problem}`);
      const { program } = compiled;
      const tile = count(tileInput, '--tile');
      const overlap = count(overlapInput, '--overlap');
      const minimum = sizeMultiple(program.models[program.generator]);
      const { pixels, name } = image;
      if (pixels.width < minimum || pixels.height < minimum) {
        throw new UserError(`${name}: ${pixels.width}x${pixels.height} is too small; this model needs at least ${minimum}x${minimum} pixels`);
      }
      if (!weights) {
        say('loading weights…', 'running');
        weights = await fetchWeights(weightsConfig);
      }
      checkFits(program, program.generator, weights.dir, weights.meta, weights.params);
      const params = paramsFromArrays(weights.params);
      let result: RgbImage;
      try {
        result = await deblurImage(program, params, pixels, {
          tile,
          overlap,
          onPlan: (p) => (plan = p),
          onProgress: (d, total) => {
            done = d;
            progress.max = total;
            progress.value = d;
            tick();
          },
        });
      } finally {
        disposeParams(params);
      }
      paint(after, result);
      showSlider();
      const seconds = elapsed();
      const url = URL.createObjectURL(await pngBlob(after));
      if (download.href) URL.revokeObjectURL(download.href);
      download.href = url;
      download.download = `${name.replace(/\.[^.]*$/, '')}-deblurred.png`;
      download.hidden = false;
      const tiles = plan && plan.tiles > 1 ? `${plan.tiles} tiles of ${plan.tileHeight}x${plan.tileWidth}` : 'one tile';
      say(`deblurred ${pixels.width}x${pixels.height} in ${seconds} s on ${ctx.backend.name} (${tiles})`, 'done');
      status.dataset.seconds = seconds;
      if (plan) Object.assign(status.dataset, { tiles: String(plan.tiles), tileHeight: String(plan.tileHeight), tileWidth: String(plan.tileWidth) });
    } catch (err) {
      say(err instanceof UserError ? err.message : `internal error (please report): ${(err as Error).message}`, 'error');
      if (!(err instanceof UserError)) console.error(err);
    } finally {
      clearInterval(timer);
      running = false;
      refresh();
    }
  }
  button.addEventListener('click', () => void run());
  refresh();
}
