// The page's tfjs backend: WebGL (tfjs-backend-webgl) when the browser offers it, else the
// plain tfjs CPU backend with a note saying so. URL options: ?backend=cpu asks for the CPU
// backend; ?max-texture=N makes WebGL use textures of at most N x N texels, like a GPU
// with a smaller limit (netc's tiles shrink to fit, see runtime/deblur.ts).
import { tf } from '../../runtime/tf.js';

export interface PageBackend {
  name: 'webgl' | 'cpu';
  note: string;
  /** True when WebGL was wanted but is missing. */
  fallback: boolean;
}

/** The renderer the browser reports for a fresh WebGL context, or why there is none. */
function probeWebGL(): { ok: true; renderer: string } | { ok: false; reason: string } {
  const canvas = document.createElement('canvas');
  const gl = (canvas.getContext('webgl2') ?? canvas.getContext('webgl')) as WebGLRenderingContext | null;
  if (!gl) return { ok: false, reason: 'this browser offers no WebGL' };
  const info = gl.getExtension('WEBGL_debug_renderer_info');
  const renderer = String(gl.getParameter(info ? info.UNMASKED_RENDERER_WEBGL : gl.RENDERER));
  gl.getExtension('WEBGL_lose_context')?.loseContext();
  return { ok: true, renderer };
}

async function useCpu(note: string, fallback: boolean): Promise<PageBackend> {
  await tf.setBackend('cpu');
  await tf.ready();
  return { name: 'cpu', note, fallback };
}

export async function initPageBackend(options: URLSearchParams): Promise<PageBackend> {
  if (options.get('backend') === 'cpu') return useCpu('tfjs CPU backend (pure JavaScript), as asked with ?backend=cpu', false);
  const probe = probeWebGL();
  let reason = probe.ok ? '' : probe.reason;
  if (probe.ok) {
    try {
      if (await tf.setBackend('webgl')) {
        await tf.ready();
        const real = tf.env().getNumber('WEBGL_MAX_TEXTURE_SIZE');
        const asked = Number(options.get('max-texture'));
        const limit = Number.isInteger(asked) && asked > 0 && asked < real ? asked : real;
        if (limit !== real) tf.env().set('WEBGL_MAX_TEXTURE_SIZE', limit);
        const precision = tf.env().getBool('WEBGL_RENDER_FLOAT32_ENABLED') ? 'float32' : 'float16 (results less exact than the CLI)';
        const textures = limit !== real ? `textures up to ${limit}² (limited with ?max-texture; the GPU allows ${real}²)` : `textures up to ${limit}²`;
        return { name: 'webgl', note: `WebGL on ${probe.renderer}: ${precision}, ${textures}`, fallback: false };
      }
      reason = 'the tfjs WebGL backend failed to initialize';
    } catch (err) {
      reason = (err as Error).message;
    }
  }
  return useCpu(`WebGL is not available (${reason}): running on the tfjs CPU backend instead, in pure JavaScript and much slower`, true);
}
