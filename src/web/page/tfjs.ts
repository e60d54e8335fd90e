// TensorFlow.js as the page bundles it (esbuild aliases '@tensorflow/tfjs' here, see
// src/web/build.ts): the core ops, the chained-op methods (x.reshape(...).transpose(...)),
// which the runtime uses, and the WebGL and plain CPU backends. No gradients: the page
// only runs inference.
import '@tensorflow/tfjs-core/dist/public/chained_ops/register_all_chained_ops';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-backend-webgl';

export * from '@tensorflow/tfjs-core';
