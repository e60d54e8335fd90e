// WebGL backend on headless `gl` (WebGL 1 via ANGLE). `gl` needs an X display: use $DISPLAY
// if it works, otherwise start a private Xvfb as a child process (killed when netc exits,
// and started with -terminate so it also goes away if netc dies without cleaning up).
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tf } from '../tf.js';

const require = createRequire(import.meta.url);

type GLContext = WebGLRenderingContext & { getExtension(name: string): unknown };
type CreateGL = (width: number, height: number, options?: object) => GLContext | null;

let xvfb: ChildProcess | undefined;
let registered: { ok: true; renderer: string } | { ok: false; reason: string } | undefined;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function stopXvfb(): void {
  if (xvfb && xvfb.exitCode === null) xvfb.kill();
  xvfb = undefined;
}

/** Starts Xvfb on the first free display number; returns its DISPLAY string. */
async function startXvfb(): Promise<string> {
  for (let display = 90; display < 140; display++) {
    if (existsSync(`/tmp/.X11-unix/X${display}`) || existsSync(`/tmp/.X${display}-lock`)) continue;
    const child = spawn('Xvfb', [`:${display}`, '-ac', '-screen', '0', '1280x1024x24', '-nolisten', 'tcp', '-terminate'], {
      stdio: 'ignore',
    });
    let failed: Error | undefined;
    child.on('error', (err) => (failed = err));
    child.unref();
    for (let waited = 0; waited < 10000 && !failed && child.exitCode === null; waited += 50) {
      if (existsSync(`/tmp/.X11-unix/X${display}`)) {
        xvfb = child;
        process.once('exit', stopXvfb);
        for (const signal of ['SIGINT', 'SIGTERM'] as const) {
          process.once(signal, () => {
            stopXvfb();
            process.exit(signal === 'SIGINT' ? 130 : 143);
          });
        }
        return `:${display}`;
      }
      await sleep(50);
    }
    if (failed) throw new Error(`cannot start Xvfb: ${failed.message} (install the 'xvfb' package)`);
    if (child.exitCode === null) child.kill();
    // Another process took this display number meanwhile: try the next one.
  }
  throw new Error('cannot start Xvfb: no free display number in :90..:139');
}

function createContext(): GLContext | null {
  const createGL = require('gl') as CreateGL;
  return createGL(1, 1, { preserveDrawingBuffer: false, antialias: false, depth: false, stencil: false });
}

/** Registers tfjs's WebGL backend as 'webgl' on a headless GL context (idempotent). */
export async function registerWebGLBackend(): Promise<{ ok: true; renderer: string } | { ok: false; reason: string }> {
  if (registered) return registered;
  try {
    let gl = process.env.DISPLAY ? createContext() : null;
    if (!gl) {
      process.env.DISPLAY = await startXvfb();
      gl = createContext();
    }
    if (!gl) return (registered = { ok: false, reason: 'headless-gl could not create a WebGL context' });
    if (!gl.getExtension('OES_texture_float')) {
      return (registered = { ok: false, reason: 'the GL driver lacks OES_texture_float (float textures)' });
    }
    const webgl = require('@tensorflow/tfjs-backend-webgl') as typeof import('@tensorflow/tfjs-backend-webgl');
    const env = tf.env();
    // headless-gl is WebGL 1; it renders to float textures but cannot read floats back, so
    // tfjs encodes each float32 into RGBA bytes on download (exact, not half precision).
    env.set('WEBGL_VERSION', 1);
    env.set('WEBGL_RENDER_FLOAT32_ENABLED', true);
    env.set('WEBGL_DOWNLOAD_FLOAT_ENABLED', false);
    env.set('WEBGL_FENCE_API_ENABLED', false);
    // Keep every op on the GL side so that "webgl" results really come from WebGL.
    env.set('WEBGL_CPU_FORWARD', false);
    webgl.setWebGLContext(1, gl);
    const context = gl;
    tf.registerBackend(
      'webgl',
      () => {
        const backend = new webgl.MathBackendWebGL(new webgl.GPGPUContext(context));
        // tfjs warns "High memory usage in GPU ... most likely due to a memory leak" past
        // 1 GB, a browser heuristic; here the "GPU" is llvmpipe in system memory and a
        // 1280x720 DeepDeblur forward legitimately holds ~1.5 GB. Leaks are caught by the
        // tensor-count tests instead.
        (backend as unknown as { warnedAboutMemory: boolean }).warnedAboutMemory = true;
        return backend;
      },
      1,
    );
    const renderer = String(gl.getParameter(gl.RENDERER));
    return (registered = { ok: true, renderer });
  } catch (err) {
    return (registered = { ok: false, reason: (err as Error).message });
  }
}
