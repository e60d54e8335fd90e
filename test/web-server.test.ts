// `netc web`'s server without a browser: what it serves, what it refuses, which model and
// weights it offers, and that the page bundle holds netc's own compiler and runtime modules
// and no Node-only one.
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { networkInterfaces, tmpdir } from 'node:os';
import * as net from 'node:net';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_WEB_MODEL, type WebConfig } from '../src/web/defaults.js';
import { ROOT } from './helpers/spawn-cli.js';
import { failingWeb, rawRequest, startWeb, writeTinyCheckpoint, type WebServer } from './helpers/web.js';

const PACKAGE_JSON = readFileSync(path.join(ROOT, 'package.json'), 'utf8');
const tmp = mkdtempSync(path.join(tmpdir(), 'netc-web-'));
const checkpoint = path.join(tmp, 'tiny');
let server: WebServer;

beforeAll(async () => {
  await writeTinyCheckpoint(checkpoint);
  // An optimizer file beside the weights: it must not be served.
  writeFileSync(path.join(checkpoint, 'optimizer.bin'), 'secret');
  server = await startWeb(['--model', 'models/deepdeblur-pytorch.net', '--set', 'feats=4', '--set', 'blocks=1', '--weights', checkpoint]);
});
afterAll(async () => server?.stop());

describe('netc web: what it refuses', () => {
  const escapes = ['/../package.json', '/%2e%2e/', '/%2e%2e/package.json', '/%2E%2E%2Fpackage.json', '/..%2fpackage.json', '/.%2e/package.json', '/weights/../../package.json', '/%5c..%5cpackage.json', '/./app.js'];
  it.each(escapes)('refuses %s with 403 and serves nothing of the project', async (target) => {
    const r = await rawRequest(server.port, 'GET', target);
    expect(r.status).toBe(403);
    expect(r.body).toMatch(/^403 refused/);
    expect(r.body).not.toContain('"name": "netc"');
    expect(PACKAGE_JSON).toContain('"name": "netc"'); // the check above could have failed
  });

  it('answers 404 for files that are not its own, even ones that exist in the project', async () => {
    for (const target of ['/package.json', '/src/cli/main.ts', '/dist/web/app.js', '/meta.json', '/weights/optimizer.bin', '/weights/', '//config.json']) {
      const r = await rawRequest(server.port, 'GET', target);
      expect(r.status, target).toBe(404);
      expect(r.body).not.toContain('secret');
    }
  });

  it('answers GET only', async () => {
    for (const method of ['POST', 'PUT', 'DELETE', 'HEAD', 'OPTIONS']) {
      const r = await rawRequest(server.port, method, '/');
      expect(r.status, method).toBe(405);
      expect(r.headers).toMatch(/\r\nAllow: GET\r\n/i);
    }
  });

  it('refuses another Host name (DNS rebinding) but answers 127.0.0.1 and localhost', async () => {
    expect((await rawRequest(server.port, 'GET', '/', 'evil.example:80')).status).toBe(403);
    expect((await rawRequest(server.port, 'GET', '/', `localhost:${server.port}`)).status).toBe(200);
    expect((await rawRequest(server.port, 'GET', '/')).status).toBe(200);
  });

  it('binds 127.0.0.1 by default: other addresses of this machine are not answered', async () => {
    expect(server.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/$/);
    const external = Object.values(networkInterfaces()).flat().find((i) => i && i.family === 'IPv4' && !i.internal);
    if (!external) throw new Error('this machine has no non-loopback IPv4 address to test with');
    const refused = await new Promise<string>((resolve) => {
      const socket = net.connect(server.port, external.address, () => (socket.destroy(), resolve('connected')));
      socket.on('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? 'error'));
    });
    expect(refused).toBe('ECONNREFUSED');
  });
});

describe('netc web: what it serves', () => {
  it('serves the page, its script and style, with a content security policy', async () => {
    const page = await rawRequest(server.port, 'GET', '/');
    expect(page.status).toBe(200);
    expect(page.body).toContain('<script type="module" src="/app.js">');
    expect(page.headers).toMatch(/Content-Security-Policy: default-src 'self'/);
    expect((await rawRequest(server.port, 'GET', '/app.js?v=1')).status).toBe(200);
    expect((await rawRequest(server.port, 'GET', '/app.css')).headers).toMatch(/Content-Type: text\/css/);
  });

  it('hands the page the model text, the --set values and the checkpoint that fits them', async () => {
    const r = await rawRequest(server.port, 'GET', '/config.json');
    const config = JSON.parse(r.body) as WebConfig;
    expect(config.model.file).toBe('models/deepdeblur-pytorch.net');
    expect(config.model.text).toBe(readFileSync(path.join(ROOT, 'models/deepdeblur-pytorch.net'), 'utf8'));
    expect(config.set).toEqual({ feats: 4, blocks: 1 });
    expect(config.weights).toEqual({ available: true, dir: checkpoint, step: 0, file: 'weights.bin' });
    const weights = await rawRequest(server.port, 'GET', '/weights/weights.bin');
    expect(weights.status).toBe(200);
    expect(Buffer.from(weights.body, 'latin1').equals(readFileSync(path.join(checkpoint, 'weights.bin')))).toBe(true);
    expect(JSON.parse((await rawRequest(server.port, 'GET', '/weights/model.json')).body).format).toBe('netc-checkpoint');
  });

  it('with --model alone, opens it for editing and says there are no weights', async () => {
    const alone = await startWeb(['--model', 'models/deepdeblur.net']);
    try {
      const config = JSON.parse((await rawRequest(alone.port, 'GET', '/config.json')).body) as WebConfig;
      expect(config.model.file).toBe('models/deepdeblur.net');
      expect(config.weights).toEqual({ available: false, reason: 'none given (start netc web with --weights DIR)' });
      expect((await rawRequest(alone.port, 'GET', '/weights/model.json')).status).toBe(404);
      expect(alone.output()).toContain('weights none: none given');
    } finally {
      await alone.stop();
    }
  });

  it(`without options, opens the bundled model (${DEFAULT_WEB_MODEL.model}) or, while it is missing, ${DEFAULT_WEB_MODEL.fallback} without weights`, async () => {
    const plain = await startWeb([]);
    try {
      const config = JSON.parse((await rawRequest(plain.port, 'GET', '/config.json')).body) as WebConfig;
      if (existsSync(path.join(ROOT, DEFAULT_WEB_MODEL.model))) {
        expect(config.model.file).toBe(DEFAULT_WEB_MODEL.model);
        expect(config.weights).toMatchObject({ available: true, dir: DEFAULT_WEB_MODEL.weights });
      } else {
        expect(config.model.file).toBe(DEFAULT_WEB_MODEL.fallback);
        expect(config.weights).toEqual({ available: false, reason: expect.stringContaining(`${DEFAULT_WEB_MODEL.model} is not in this checkout`) });
      }
    } finally {
      await plain.stop();
    }
  });

  it('refuses weights that do not fit the model, listing the mismatches', async () => {
    const r = await failingWeb(['--model', 'models/deepdeblur-pytorch.net', '--set', 'feats=8', '--set', 'blocks=1', '--weights', checkpoint]);
    expect(r.code).toBe(1);
    expect(r.output).toContain(`netc: error: ${checkpoint}: checkpoint (saved from`);
    expect(r.output).toMatch(/wrong shape: .*expected \[5, 5, 3, 8\], found \[5, 5, 3, 4\]/);
  });

  it('says what is wrong with its options', async () => {
    expect((await failingWeb(['--weights', checkpoint])).output).toContain('netc: error: --weights needs --model');
    expect((await failingWeb(['--model', 'models/nope.net'])).output).toContain('netc: error: models/nope.net: no such file');
    expect((await failingWeb(['--model', 'models/deepdeblur.net', '--port', '99999'])).output).toContain('--port 99999: expected a port number');
  });
});

describe('the page bundle', () => {
  const meta = JSON.parse(readFileSync(path.join(ROOT, 'dist/web/meta.json'), 'utf8')) as { inputs: Record<string, { imports: { path: string }[] }> };
  const inputs = Object.keys(meta.inputs);

  it("reuses the project's compiler and runtime, not copies", () => {
    for (const file of ['grammar/parser.ts', 'src/compiler/pipeline.ts', 'src/compiler/elaborate.ts', 'src/compiler/validation/index.ts', 'src/compiler/summary.ts',
      'src/runtime/deblur.ts', 'src/runtime/lower.ts', 'src/runtime/execute.ts', 'src/runtime/conv.ts', 'src/runtime/checkpoint-format.ts', 'src/runtime/image-bytes.ts']) {
      expect(inputs, file).toContain(file);
    }
  });

  it('holds no Node-only module', () => {
    for (const file of ['src/compiler/index.ts', 'src/runtime/checkpoint.ts', 'src/runtime/image.ts', 'src/runtime/backends/onednn.ts', 'src/runtime/backends/webgl.ts', 'src/runtime/fsutil.ts']) {
      expect(inputs, file).not.toContain(file);
    }
    const imports = Object.values(meta.inputs).flatMap((i) => i.imports.map((x) => x.path));
    expect(imports.filter((p) => p.startsWith('node:') || ['fs', 'path', 'crypto', 'child_process', 'module'].includes(p))).toEqual([]);
    expect(inputs.some((f) => f.startsWith('node_modules/@tensorflow/tfjs-backend-webgl/'))).toBe(true);
  });
});
