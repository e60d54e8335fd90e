// The playground's HTTP server: a fixed table of routes, each naming the one file (or the
// generated JSON) it answers with. No part of a request's path is ever joined to a
// directory, so nothing outside the table can be reached; requests whose decoded path
// tries to climb (`..`, backslashes, NUL) are refused with 403 all the same, everything
// not in the table is 404, any method but GET is 405. Bound to a loopback address, it
// also refuses requests naming another Host (a DNS-rebinding page cannot read it).
import { createReadStream, promises as fs } from 'node:fs';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as path from 'node:path';
import type { WebConfig } from './defaults.js';

export interface WebServerOptions {
  host: string;
  port: number;
  config: WebConfig;
  /** The checkpoint directory whose model.json and weight file are served, if any. */
  weightsDir?: string;
  /** The built page (dist/web). */
  bundleDir: string;
}

type Route = { type: string; file: string } | { type: string; body: string };

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.bin': 'application/octet-stream',
};

const HEADERS = {
  'X-Content-Type-Options': 'nosniff',
  'Referrer-Policy': 'no-referrer',
  'Cache-Control': 'no-store',
  // CodeMirror injects its styles at run time (style-src 'unsafe-inline'); images are shown
  // from blob: URLs; everything else comes from this server.
  'Content-Security-Policy': "default-src 'self'; img-src 'self' blob: data:; style-src 'self' 'unsafe-inline'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'",
};

function routes(options: WebServerOptions): Map<string, Route> {
  const table = new Map<string, Route>();
  const bundle = (name: string) => ({ type: TYPES[path.extname(name)], file: path.join(options.bundleDir, name) });
  table.set('/', bundle('index.html'));
  table.set('/app.js', bundle('app.js'));
  table.set('/app.css', bundle('app.css'));
  table.set('/config.json', { type: TYPES['.json'], body: JSON.stringify(options.config) });
  if (options.weightsDir && options.config.weights.available) {
    table.set('/weights/model.json', { type: TYPES['.json'], file: path.join(options.weightsDir, 'model.json') });
    const weightFile = options.config.weights.file;
    table.set(`/weights/${weightFile}`, { type: TYPES['.bin'], file: path.join(options.weightsDir, weightFile) });
  }
  return table;
}

const isLoopback = (host: string) => host === 'localhost' || host === '::1' || /^127\.\d+\.\d+\.\d+$/.test(host);

/** Why a request path is refused (403), or undefined. */
export function refusedPath(rawPath: string): string | undefined {
  let decoded: string;
  try {
    decoded = decodeURIComponent(rawPath);
  } catch {
    return 'malformed percent-encoding';
  }
  if (!decoded.startsWith('/')) return 'not an absolute path';
  if (decoded.includes('\\') || decoded.includes('\0')) return 'backslash or NUL in the path';
  if (decoded.split('/').some((segment) => segment === '..' || segment === '.')) return 'the path climbs out of the page';
  return undefined;
}

function send(res: http.ServerResponse, status: number, text: string, extra: Record<string, string> = {}): void {
  const body = `${status} ${text}\n`;
  res.writeHead(status, { ...HEADERS, 'Content-Type': 'text/plain; charset=utf-8', 'Content-Length': String(Buffer.byteLength(body)), ...extra });
  res.end(body);
}

export function createWebServer(options: WebServerOptions): http.Server {
  const table = routes(options);
  const allowedHosts = new Set<string>();
  return http.createServer((req, res) => {
    if (req.method !== 'GET') return send(res, 405, 'only GET is answered', { Allow: 'GET' });
    if (isLoopback(options.host)) {
      const { port } = req.socket.address() as AddressInfo;
      if (allowedHosts.size === 0) for (const name of ['127.0.0.1', 'localhost', '[::1]']) allowedHosts.add(`${name}:${port}`);
      if (!allowedHosts.has(String(req.headers.host ?? '').toLowerCase())) return send(res, 403, `unexpected Host header '${req.headers.host ?? ''}'`);
    }
    const rawPath = (req.url ?? '').split('?')[0];
    const refused = refusedPath(rawPath);
    if (refused) return send(res, 403, `refused: ${refused}`);
    const route = table.get(rawPath);
    if (!route) return send(res, 404, 'not found');
    if ('body' in route) {
      res.writeHead(200, { ...HEADERS, 'Content-Type': route.type, 'Content-Length': String(Buffer.byteLength(route.body)) });
      return void res.end(route.body);
    }
    fs.stat(route.file).then(
      (stat) => {
        res.writeHead(200, { ...HEADERS, 'Content-Type': route.type, 'Content-Length': String(stat.size) });
        createReadStream(route.file).on('error', () => res.destroy()).pipe(res);
      },
      () => send(res, 404, 'not found (the file has gone)'),
    );
  });
}

/** Starts the server; resolves with its URL once it listens. */
export async function startWebServer(options: WebServerOptions): Promise<{ server: http.Server; url: string }> {
  const server = createWebServer(options);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  const host = options.host.includes(':') ? `[${options.host}]` : options.host;
  return { server, url: `http://${host}:${port}/` };
}
