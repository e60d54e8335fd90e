// Backend selection. Names a user can pass to --backend:
//   cpu       oneDNN CPU backend when its native module loads, else plain tfjs CPU (with a note)
//   tfjs-cpu  plain @tensorflow/tfjs-backend-cpu (pure JavaScript)
//   webgl     @tensorflow/tfjs-backend-webgl on headless gl (Xvfb started when needed)
// Default: cpu (oneDNN when available, by far the fastest here). WebGL is never the default:
// headless gl reports only 'ANGLE' as renderer, so a real GPU cannot be told from Xvfb's
// software rasterizer (llvmpipe, ~1.5 GFLOP/s), which is slower than the CPU backends.
import { UserError } from '../../errors.js';
import { tf } from '../tf.js';
import { ONEDNN_BACKEND, registerOneDnnBackend } from './onednn.js';
import { registerWebGLBackend } from './webgl.js';

export const BACKEND_NAMES = ['cpu', 'tfjs-cpu', 'webgl'] as const;
export type BackendName = (typeof BACKEND_NAMES)[number];

export interface BackendInfo {
  /** The name the user asked for (or the default chosen). */
  name: BackendName;
  /** The tfjs backend actually active ('onednn', 'cpu' or 'webgl'). */
  tfjsBackend: string;
  /** One line for the user: what runs and why. */
  note: string;
}

export function isBackendName(name: string): name is BackendName {
  return (BACKEND_NAMES as readonly string[]).includes(name);
}

async function activate(tfjsName: string): Promise<void> {
  if (!(await tf.setBackend(tfjsName))) throw new UserError(`backend '${tfjsName}' failed to initialize`);
  await tf.ready();
}

/** Makes `name` (or the default) the active tfjs backend. */
export async function initBackend(name?: BackendName): Promise<BackendInfo> {
  if (name !== undefined && !isBackendName(name)) {
    throw new UserError(`unknown backend '${name}' (choose one of ${BACKEND_NAMES.join(', ')})`);
  }
  if (name === 'tfjs-cpu') {
    await activate('cpu');
    return { name, tfjsBackend: 'cpu', note: 'tfjs CPU (pure JavaScript)' };
  }
  if (name === 'webgl') {
    const gl = await registerWebGLBackend();
    if (!gl.ok) throw new UserError(`--backend webgl: ${gl.reason}`);
    await activate('webgl');
    return { name, tfjsBackend: 'webgl', note: `WebGL on headless gl (${gl.renderer})` };
  }
  const oneDnn = registerOneDnnBackend();
  if (oneDnn.ok) {
    await activate(ONEDNN_BACKEND);
    return { name: 'cpu', tfjsBackend: ONEDNN_BACKEND, note: 'CPU with oneDNN' };
  }
  await activate('cpu');
  return { name: 'cpu', tfjsBackend: 'cpu', note: `tfjs CPU (pure JavaScript; ${oneDnn.reason})` };
}
