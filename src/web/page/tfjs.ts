// TensorFlow.js as the page bundles it (esbuild aliases '@tensorflow/tfjs' here, see
// src/web/build.ts): the core ops with the WebGL and plain CPU backends.
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-backend-webgl';

export * from '@tensorflow/tfjs-core';
