// The playground page in Debian's chromium (headless, SwiftShader's software WebGL), driven
// by playwright-core: it loads without console errors, shows what `netc compile` counts,
// marks a typo exactly as the CLI reports it, and deblurs a fixture image to the PNG that
// `netc deblur` writes (within 1 level on 99.9% of pixels) on WebGL, on WebGL with tiles
// forced by a small texture limit, and on the CPU fallback when WebGL is off.
import { copyFileSync, existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_WEB_MODEL } from '../src/web/defaults.js';
import { netc, ROOT, SHARED } from './helpers/spawn-cli.js';
import { launchChromium, pixelAgreement, readRgb, startWeb, TINY_SET, withGammaChunk, writeTinyCheckpoint, type WebServer } from './helpers/web.js';

const MODEL = 'models/deepdeblur-pytorch.net';
const SETS = Object.entries(TINY_SET).flatMap(([k, v]) => ['--set', `${k}=${v}`]);
const FIXTURE = path.join(SHARED, 'fixtures/images/chelsea.png'); // 451x300 RGB with an ICC profile
const tmp = mkdtempSync(path.join(tmpdir(), 'netc-web-page-'));
const checkpoint = path.join(tmp, 'tiny');
const timings: Record<string, number | string> = {};

let browser: Browser;

/** A page that records console errors, uncaught exceptions and failed requests. */
async function openPage(b: Browser, url: string): Promise<{ page: Page; problems: string[]; loadMs: number }> {
  const context = await b.newContext({ acceptDownloads: true, viewport: { width: 1280, height: 900 } });
  const page = await context.newPage();
  const problems: string[] = [];
  page.on('console', (m) => void (m.type() === 'error' && problems.push(`console: ${m.text()}`)));
  page.on('pageerror', (e) => problems.push(`exception: ${e.message}`));
  page.on('requestfailed', (r) => problems.push(`request failed: ${r.url()} ${r.failure()?.errorText}`));
  page.on('response', (r) => void (r.status() >= 400 && problems.push(`HTTP ${r.status()}: ${r.url()}`)));
  const started = Date.now();
  await page.goto(url);
  await page.waitForSelector('body[data-ready]', { timeout: 60_000 });
  return { page, problems, loadMs: Date.now() - started };
}

/** Double-clicks `word` (selecting it, as a user would) on the editor line `line`, types `replacement`. */
async function editWord(page: Page, line: string, word: string, replacement: string): Promise<void> {
  const at = await page.evaluate(([text, w]) => {
    const el = [...document.querySelectorAll('.cm-line')].find((l) => l.textContent === text);
    if (!el) throw new Error(`no editor line '${text}'`);
    el.scrollIntoView({ block: 'center' }); // the line may be below the editor's visible area
    const walker = document.createTreeWalker(el, NodeFilter.SHOW_TEXT);
    for (let node = walker.nextNode(); node; node = walker.nextNode()) {
      const i = node.textContent!.indexOf(w);
      if (i < 0) continue;
      const range = document.createRange();
      range.setStart(node, i);
      range.setEnd(node, i + w.length);
      const r = range.getBoundingClientRect();
      return { x: r.x + r.width / 2, y: r.y + r.height / 2 };
    }
    throw new Error(`no '${w}' on the line '${text}'`);
  }, [line, word]);
  await page.mouse.dblclick(at.x, at.y);
  await page.keyboard.type(replacement);
}

/** Deblurs the fixture in the page; returns the downloaded PNG and what the page reported. */
async function deblurInPage(page: Page, image = FIXTURE): Promise<{ png: Buffer; status: Record<string, string> }> {
  await page.setInputFiles('#file', image);
  await page.waitForSelector('#run:not([disabled])');
  await page.click('#run');
  await page.waitForSelector('#run-status[data-state="done"], #run-status[data-state="error"]', { timeout: 300_000 });
  const status = await page.$eval('#run-status', (el) => ({ ...(el as HTMLElement).dataset, text: el.textContent ?? '' }) as Record<string, string>);
  if (status.state !== 'done') throw new Error(`the page failed to deblur: ${status.text}`);
  const [download] = await Promise.all([page.waitForEvent('download'), page.click('#download')]);
  expect(download.suggestedFilename()).toBe(`${path.parse(image).name}-deblurred.png`);
  return { png: readFileSync((await download.path())!), status };
}

/** `netc deblur` of the fixture with the same model and weights. */
function deblurWithCli(name: string, extra: string[] = [], image = FIXTURE): string {
  const out = path.join(tmp, name);
  const r = netc(['deblur', image, '--model', MODEL, ...SETS, '--weights', checkpoint, '--out', out, ...extra]);
  expect(r.status, r.stderr).toBe(0);
  return out;
}

function expectSamePng(pagePng: Buffer, cliPng: string, label: string, input = FIXTURE): void {
  const a = readRgb(pagePng);
  const b = readRgb(cliPng);
  expect([a.width, a.height]).toEqual([b.width, b.height]);
  const { within, maxDiff } = pixelAgreement(a.rgb, b.rgb, 1);
  timings[`${label}PixelsWithin1`] = within;
  timings[`${label}MaxDiff`] = maxDiff;
  expect(within, `max difference ${maxDiff} levels`).toBeGreaterThanOrEqual(0.999);
  // The model really ran: its output is neither the input nor flat.
  expect(pixelAgreement(a.rgb, readRgb(input).rgb, 1).within).toBeLessThan(0.5);
  expect(new Set(a.rgb).size).toBeGreaterThan(50);
}

beforeAll(async () => {
  await writeTinyCheckpoint(checkpoint);
  browser = await launchChromium();
});
afterAll(async () => {
  await browser?.close();
  writeFileSync(path.join(ROOT, 'dist/web-timings.json'), JSON.stringify(timings, null, 1) + '\n');
});

describe('the page with the default model', () => {
  let server: WebServer;
  beforeAll(async () => void (server = await startWeb([])));
  afterAll(async () => server?.stop());
  const defaultModel = existsSync(path.join(ROOT, DEFAULT_WEB_MODEL.model)) ? DEFAULT_WEB_MODEL.model : DEFAULT_WEB_MODEL.fallback;

  it('loads without console errors, and its parameter count and FLOPs equal netc compile --json', async () => {
    const { page, problems, loadMs } = await openPage(browser, server.url);
    timings.loadMs = loadMs;
    timings.readyMs = Number(await page.getAttribute('body', 'data-ready'));
    expect(await page.textContent('#model-file')).toBe(defaultModel);
    const cli = netc(['compile', defaultModel, '--json']);
    expect(cli.status, cli.stderr).toBe(0);
    const expected = JSON.parse(cli.stdout) as { params: number; flops: number };
    const total = await page.$eval('#cost-total', (el) => ({ ...(el as HTMLElement).dataset, text: el.textContent }));
    expect(Number(total.params)).toBe(expected.params);
    expect(Number(total.flops)).toBe(expected.flops);
    expect(total.text).toContain(expected.params.toLocaleString('en-US')); // what the reader sees
    expect(await page.textContent('#problems-summary')).toBe('no problems');
    // The input size box recosts: 4x the pixels, 4x the FLOPs, the same parameters.
    await page.fill('#input-h', '512');
    await page.fill('#input-w', '512');
    await page.waitForFunction((f) => Number(document.getElementById('cost-total')?.dataset.flops) === f, expected.flops * 4);
    expect(Number(await page.getAttribute('#cost-total', 'data-params'))).toBe(expected.params);
    expect(problems).toEqual([]);
    await page.context().close();
  });

  it('marks a typo with the same message, line and column as the CLI, and recovers on undo', async () => {
    const { page, problems } = await openPage(browser, server.url);
    const source = readFileSync(path.join(ROOT, defaultModel), 'utf8');
    const lines = source.split('\n');
    const lineIndex = lines.findIndex((l) => /\bconv\(feats, kernel\)/.test(l));
    expect(lineIndex).toBeGreaterThan(0);
    await editWord(page, lines[lineIndex], 'kernel', 'kernal');
    await page.waitForSelector('#diagnostics li[data-severity="error"]');
    const shown = await page.$$eval('#diagnostics li', (items) => items.map((li) => li.textContent!));
    expect(await page.textContent('.cm-lintRange-error')).toBe('kernal');
    expect(await page.$eval('#cost', (el) => el.classList.contains('stale'))).toBe(true);

    // The CLI on the same text.
    lines[lineIndex] = lines[lineIndex].replace('kernel', 'kernal');
    const dir = mkdtempSync(path.join(tmp, 'typo-'));
    const file = path.join(dir, path.basename(defaultModel));
    writeFileSync(file, lines.join('\n'));
    const cli = netc(['compile', file]);
    expect(cli.status).toBe(1);
    const located = (text: string, prefix: string) => text.split('\n').filter((l) => l.startsWith(prefix + ':')).map((l) => l.slice(prefix.length));
    const fromCli = located(cli.stderr, file);
    const fromPage = shown.flatMap((l) => located(l, defaultModel));
    expect(fromCli.length).toBeGreaterThan(0);
    expect(fromPage).toEqual(fromCli);
    expect(fromPage[0]).toMatch(new RegExp(`^:${lineIndex + 1}:\\d+: error: .*kernal`));

    await page.keyboard.press('Control+z');
    await page.waitForFunction(() => document.getElementById('problems-summary')?.textContent === 'no problems');
    expect(await page.$eval('#cost', (el) => el.classList.contains('stale'))).toBe(false);
    expect(problems).toEqual([]);
    await page.context().close();
  });
});

describe('deblurring in the page', () => {
  let server: WebServer;
  let reference: string;
  beforeAll(async () => {
    server = await startWeb(['--model', MODEL, ...SETS, '--weights', checkpoint]);
    reference = deblurWithCli('cli.png');
  });
  afterAll(async () => server?.stop());

  it('on WebGL gives the PNG netc deblur writes (within 1 level on 99.9% of pixels)', async () => {
    const { page, problems } = await openPage(browser, server.url);
    expect(await page.textContent('#backend-note')).toMatch(/^Backend: WebGL on .*float32/);
    const { png, status } = await deblurInPage(page);
    timings.deblurWebglSeconds = Number(status.seconds);
    expect(status.text).toMatch(/^deblurred 451x300 in [\d.]+ s on webgl \(one tile\)$/); // the fixture's size
    expectSamePng(png, reference, 'webgl');
    expect(problems).toEqual([]);
    // The before/after slider moves the boundary.
    await page.$eval('#slider', (el) => {
      (el as HTMLInputElement).value = '20';
      el.dispatchEvent(new Event('input'));
    });
    expect(await page.$eval('#after', (el) => (el as HTMLElement).style.clipPath)).toBe('inset(0px 0px 0px 20%)');
    await page.context().close();
  });

  it('tiles where the texture limit demands, as netc deblur --tile does', async () => {
    const { page, problems } = await openPage(browser, `${server.url}?max-texture=1024`);
    expect(await page.textContent('#backend-note')).toContain('textures up to 1024² (limited with ?max-texture');
    const { png, status } = await deblurInPage(page);
    const tiles = Number(status.tiles);
    expect(tiles).toBeGreaterThan(1);
    expect(status.tileHeight).toBe(status.tileWidth);
    expect(status.text).toContain(`(${tiles} tiles of ${status.tileHeight}x${status.tileWidth})`);
    timings.deblurWebglTiledSeconds = Number(status.seconds);
    timings.tiledPlan = `${tiles} tiles of ${status.tileHeight}x${status.tileWidth}`;
    expectSamePng(png, deblurWithCli('cli-tiled.png', ['--tile', status.tileHeight, '--overlap', '64']), 'webglTiled');
    expect(problems).toEqual([]);
    await page.context().close();
  });

  it('reads pixels as stored, without colour management, as the CLI does', async () => {
    // A gamma of 1.0 declared in a file without an ICC profile (which would take precedence):
    // a colour-managed decoder would brighten every pixel.
    const plain = path.join(SHARED, 'fixtures/images/coffee.png');
    const gamma = path.join(tmp, 'coffee-gamma.png');
    writeFileSync(gamma, withGammaChunk(readFileSync(plain), 1.0));
    expect(readRgb(gamma).rgb).toEqual(readRgb(plain).rgb); // the same stored pixels
    const { page, problems } = await openPage(browser, server.url);
    const { png } = await deblurInPage(page, gamma);
    expectSamePng(png, deblurWithCli('cli-gamma.png', [], gamma), 'webglGamma', gamma);
    expect(problems).toEqual([]);
    await page.context().close();
  });

  it('falls back to the tfjs CPU backend with a note when WebGL is missing, and still deblurs', async () => {
    const noWebgl = await launchChromium({ webgl: false });
    try {
      const { page, problems } = await openPage(noWebgl, server.url);
      expect(await page.textContent('#backend-note')).toMatch(/^Backend: WebGL is not available \(.+\): running on the tfjs CPU backend instead/);
      expect(await page.$eval('#backend-note', (el) => el.classList.contains('fallback'))).toBe(true);
      const { png, status } = await deblurInPage(page);
      timings.deblurCpuSeconds = Number(status.seconds);
      expect(status.text).toMatch(/ on cpu \(one tile\)$/);
      expectSamePng(png, reference, 'cpu');
      expect(problems).toEqual([]);
    } finally {
      await noWebgl.close();
    }
  });

  it('says why it cannot run when the model text no longer fits the weights', async () => {
    const { page } = await openPage(browser, server.url);
    // feats is overridden (--set), so change the kernel size: every conv's weight changes shape.
    await editWord(page, 'kernel = 5', '5', '3');
    await page.waitForFunction(() => document.getElementById('problems-summary')?.textContent === 'no problems');
    await page.setInputFiles('#file', FIXTURE);
    await page.click('#run');
    await page.waitForSelector('#run-status[data-state="error"]');
    expect(await page.textContent('#run-status')).toMatch(new RegExp(`^${checkpoint}: checkpoint \\(saved from .*\\) does not fit model 'Generator' of models/deepdeblur-pytorch.net with --set feats=4 blocks=1: \\d+ mismatches`));
    await page.context().close();
  });
});

describe("the README's screenshot", () => {
  it('shows the page after a run (the bundled model when its weights are there, else the tiny test model)', async () => {
    const bundled = existsSync(path.join(ROOT, DEFAULT_WEB_MODEL.model)) && existsSync(path.join(ROOT, DEFAULT_WEB_MODEL.weights));
    const server = await startWeb(bundled ? [] : ['--model', MODEL, ...SETS, '--weights', checkpoint]);
    try {
      const { page, problems } = await openPage(browser, server.url);
      await deblurInPage(page);
      expect(problems).toEqual([]);
      const shot = await page.screenshot({ fullPage: true });
      writeFileSync(path.join(ROOT, 'dist/netc-web.png'), shot);
      // Committed to docs/ only when asked, so a test run leaves the work tree clean.
      if (process.env.NETC_UPDATE_SCREENSHOT === '1') copyFileSync(path.join(ROOT, 'dist/netc-web.png'), path.join(ROOT, 'docs/netc-web.png'));
      const image = readRgb(shot);
      expect(image.width).toBe(1280);
      expect(image.height).toBeGreaterThan(900);
      await page.context().close();
    } finally {
      await server.stop();
    }
  });
});

describe('the page without weights', () => {
  it('edits and costs, and says that running needs weights', async () => {
    const server = await startWeb(['--model', MODEL]);
    try {
      const { page, problems } = await openPage(browser, server.url);
      expect(await page.textContent('#weights-note')).toBe('No weights: none given (start netc web with --weights DIR). Editing and costing work; deblurring needs weights.');
      await page.setInputFiles('#file', FIXTURE);
      expect(await page.isDisabled('#run')).toBe(true);
      expect(await page.textContent('#run-status')).toContain('running needs weights');
      expect(problems).toEqual([]);
    } finally {
      await server.stop();
    }
  });

  it('refuses a grayscale PNG with the CLI message', async () => {
    const server = await startWeb(['--model', MODEL]);
    try {
      const { page } = await openPage(browser, server.url);
      const gray = path.join(SHARED, 'fixtures/images/camera.png');
      await page.setInputFiles('#file', gray);
      await page.waitForSelector('#run-status[data-state="error"]');
      const cli = netc(['deblur', gray, '--model', MODEL, ...SETS, '--weights', checkpoint, '--out', path.join(tmp, 'gray.png')]);
      expect(cli.stderr).toContain('netc: error: ');
      const cliMessage = cli.stderr.split('netc: error: ')[1].trim().replace(gray, 'camera.png');
      expect(await page.textContent('#run-status')).toBe(cliMessage);
    } finally {
      await server.stop();
    }
  });
});
