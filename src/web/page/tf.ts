// src/runtime/tf.ts as the page bundles it (src/web/build.ts puts this file in its place):
// a static import, which lets esbuild drop what the page never calls (the runtime's own
// file loads tfjs through Node's require, or a dynamic import that keeps all of it).
import * as tf from './tfjs.js';

tf.env().set('PROD', true);

export { tf };
