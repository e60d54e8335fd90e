// For the playground tests: `netc web` as a child process, raw HTTP requests (paths a
// browser would normalize away), Debian's chromium through playwright-core, a tiny model's
// checkpoint with fixed weights, and 8-bit PNG comparison.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import { PNG } from 'pngjs';
import { chromium, type Browser } from 'playwright-core';
import { compileFile } from '../../src/compiler/index.js';
import { initBackend } from '../../src/runtime/backends/index.js';
import { checkpointMeta, saveCheckpoint } from '../../src/runtime/checkpoint.js';
import { createParams, disposeParams } from '../../src/runtime/params.js';
import { ROOT } from './spawn-cli.js';

export interface WebServer {
  url: string;
  port: number;
  /** Everything it printed so far. */
  output: () => string;
  stop: () => Promise<void>;
}

/** Starts `netc web --port 0 ...args` and waits for its "serving URL" line. */
export function startWeb(args: string[]): Promise<WebServer> {
  const child: ChildProcess = spawn(path.join(ROOT, 'bin/netc.js'), ['web', '--port', '0', ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  return new Promise((resolve, reject) => {
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      const m = /serving (http:\/\/[^\s]+)/.exec(output);
      if (m) {
        resolve({
          url: m[1],
          port: Number(new URL(m[1]).port),
          output: () => output,
          stop: () => new Promise((done) => (child.exitCode !== null ? done() : (child.once('exit', () => done()), child.kill()))),
        });
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.once('exit', (code) => reject(new Error(`netc web exited with ${code} before serving:\n${output}`)));
  });
}

/** Runs `netc web ...args` expecting it to fail; resolves with its exit code and output. */
export function failingWeb(args: string[]): Promise<{ code: number | null; output: string }> {
  const child = spawn(path.join(ROOT, 'bin/netc.js'), ['web', '--port', '0', ...args], { cwd: ROOT });
  let output = '';
  child.stdout.on('data', (c: Buffer) => (output += c));
  child.stderr.on('data', (c: Buffer) => (output += c));
  return new Promise((resolve) => {
    const timer = setTimeout(() => child.kill(), 30_000);
    child.once('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, output });
    });
  });
}

export interface RawResponse { status: number; headers: string; body: string }

/** Sends one request exactly as written (no URL normalization) and reads the answer. */
export function rawRequest(port: number, method: string, target: string, host = `127.0.0.1:${port}`, address = '127.0.0.1'): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, address, () => socket.write(`${method} ${target} HTTP/1.1\r\nHost: ${host}\r\nConnection: close\r\n\r\n`));
    let data = '';
    socket.on('data', (c) => (data += c.toString('latin1')));
    socket.on('error', reject);
    socket.on('end', () => {
      const [head, ...rest] = data.split('\r\n\r\n');
      resolve({ status: Number(head.split(' ')[1]), headers: head, body: rest.join('\r\n\r\n') });
    });
  });
}

/** Debian's chromium binary (the /usr/bin/chromium wrapper is a shell script). */
export function chromiumPath(): string {
  const candidates = [process.env.NETC_CHROMIUM, '/usr/lib/chromium/chromium', '/usr/lib/chromium-browser/chromium-browser'].filter(Boolean) as string[];
  const found = candidates.find((p) => existsSync(p));
  if (!found) throw new Error(`no chromium found (looked at ${candidates.join(', ')}); \`npm run setup\` installs Debian's chromium`);
  return found;
}

/** Headless chromium with SwiftShader's software WebGL, or with WebGL switched off. */
export function launchChromium(options: { webgl?: boolean } = {}): Promise<Browser> {
  const args = ['--use-angle=swiftshader', '--enable-unsafe-swiftshader', '--ignore-gpu-blocklist'];
  if (process.getuid?.() === 0) args.push('--no-sandbox'); // chromium refuses to run as root with its sandbox
  if (options.webgl === false) args.push('--disable-webgl', '--disable-webgl2', '--disable-3d-apis');
  return chromium.launch({ executablePath: chromiumPath(), args });
}

export const TINY_SET = { feats: 4, blocks: 1 };

/** A checkpoint of models/deepdeblur-pytorch.net with TINY_SET and seeded initial weights. */
export async function writeTinyCheckpoint(dir: string, seed = 7): Promise<void> {
  await initBackend('tfjs-cpu');
  const { program } = compileFile(path.join(ROOT, 'models/deepdeblur-pytorch.net'), { set: TINY_SET });
  const params = createParams(program.models[program.generator], seed);
  await saveCheckpoint(dir, { meta: checkpointMeta(program, 0), params });
  disposeParams(params);
}

/** 8-bit RGB of a PNG file or buffer. */
export function readRgb(png: string | Buffer): { width: number; height: number; rgb: Uint8Array } {
  const image = PNG.sync.read(typeof png === 'string' ? readFileSync(png) : png);
  const rgb = new Uint8Array(image.width * image.height * 3);
  for (let i = 0; i < image.width * image.height; i++) for (let c = 0; c < 3; c++) rgb[i * 3 + c] = image.data[i * 4 + c];
  return { width: image.width, height: image.height, rgb };
}

/** Share of pixels whose three channels all differ by at most `levels`, and the largest difference. */
export function pixelAgreement(a: Uint8Array, b: Uint8Array, levels = 1): { within: number; maxDiff: number } {
  let ok = 0;
  let maxDiff = 0;
  for (let p = 0; p < a.length; p += 3) {
    const d = Math.max(Math.abs(a[p] - b[p]), Math.abs(a[p + 1] - b[p + 1]), Math.abs(a[p + 2] - b[p + 2]));
    if (d <= levels) ok++;
    maxDiff = Math.max(maxDiff, d);
  }
  return { within: ok / (a.length / 3), maxDiff };
}

function crc32(bytes: Uint8Array): number {
  let crc = ~0;
  for (const b of bytes) {
    crc ^= b;
    for (let k = 0; k < 8; k++) crc = (crc >>> 1) ^ (0xedb88320 & -(crc & 1));
  }
  return ~crc >>> 0;
}

/** The PNG with a gAMA chunk (file gamma `gamma`) after its header: a colour-managed
 *  decoder changes its pixels, netc must not. */
export function withGammaChunk(png: Buffer, gamma: number): Buffer {
  const body = Buffer.alloc(8);
  body.write('gAMA', 0, 'latin1');
  body.writeUInt32BE(Math.round(gamma * 100000), 4);
  const chunk = Buffer.alloc(16);
  chunk.writeUInt32BE(4, 0);
  body.copy(chunk, 4);
  chunk.writeUInt32BE(crc32(body), 12);
  return Buffer.concat([png.subarray(0, 33), chunk, png.subarray(33)]);
}
