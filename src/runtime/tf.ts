// The one place the runtime gets TensorFlow.js from. The union package `@tensorflow/tfjs`
// registers the gradients and the plain CPU backend; in Node it resolves to its CommonJS
// bundle, which shares one engine with `@tensorflow/tfjs-core` and the WebGL backend, so
// tensors made anywhere in the process live in the same engine.
//
// In Node it is loaded with require, not `import`: an ESM import of a CommonJS file first
// has Node scan the whole bundle for its export names (cjs-module-lexer), ~0.4 s of every
// command's start-up on a 2-core machine (import 570-680 ms, require 190-210 ms). The
// playground's bundle (no `process`) and Node before 20.16 (no getBuiltinModule) import it.
import type * as tfjs from '@tensorflow/tfjs';

interface NodeProcess {
  getBuiltinModule?(id: 'node:module'): { createRequire(from: string): (id: string) => unknown };
}
const nodeRequire = (globalThis as { process?: NodeProcess }).process?.getBuiltinModule?.('node:module').createRequire(import.meta.url);

export const tf: typeof tfjs = nodeRequire ? (nodeRequire('@tensorflow/tfjs') as typeof tfjs) : await import('@tensorflow/tfjs');

/** The tfjs types the runtime names as `tf.X` (the value above carries no types). */
// eslint-disable-next-line @typescript-eslint/no-namespace
export declare namespace tf {
  type Rank = tfjs.Rank;
  type Tensor<R extends Rank = Rank> = tfjs.Tensor<R>;
  type Tensor1D = tfjs.Tensor1D;
  type Tensor2D = tfjs.Tensor2D;
  type Tensor4D = tfjs.Tensor4D;
  type Scalar = tfjs.Scalar;
  type Variable<R extends Rank = Rank> = tfjs.Variable<R>;
  type NamedAttrMap = tfjs.NamedAttrMap;
  type NamedTensorMap = tfjs.NamedTensorMap;
}

// tfjs prints a "use tfjs-node" banner on first use of the CPU backend; netc chooses its
// backends itself, so that hint is noise. PROD only silences tfjs's console warnings.
tf.env().set('PROD', true);

export type Tensor = tfjs.Tensor;
export type Variable = tfjs.Variable;
