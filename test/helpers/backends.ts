// The tfjs backend each --backend name must run on here (setup builds the oneDNN addon, so
// 'cpu' is oneDNN): tests assert the backend that ran, not the name they asked for.
import type { BackendName } from '../../src/runtime/backends/index.js';

export const TFJS_BACKEND: Record<BackendName, string> = { 'tfjs-cpu': 'cpu', cpu: 'onednn', webgl: 'webgl' };
