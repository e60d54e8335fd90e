// The one place the runtime gets TensorFlow.js from. The union package `@tensorflow/tfjs`
// registers the gradients and the plain CPU backend; in Node it resolves to its CommonJS
// bundle, which shares one engine with `@tensorflow/tfjs-core` and the WebGL backend, so
// tensors made anywhere in the process live in the same engine.
import * as tf from '@tensorflow/tfjs';

// tfjs prints a "use tfjs-node" banner on first use of the CPU backend; netc chooses its
// backends itself, so that hint is noise. PROD only silences tfjs's console warnings.
tf.env().set('PROD', true);

export { tf };
export type Tensor = tf.Tensor;
export type Variable = tf.Variable;
