// NETC_DEBUG=3: a trace of lowering and execution on stderr, one line per IR node run: the
// op, the node, its input and output shapes, the backend and the kernels the lowering ran
// there (e.g. NetcConv2D on onednn, FusedConv2D on webgl), and milliseconds. Levels 1 and 2
// trace the compiler (src/cli/options.ts). Browser-safe: NETC_DEBUG is read where a
// `process` exists.
import type { Node } from '../compiler/ir.js';
import { tf } from './tf.js';

export const TRACE_PREFIX = '[netc trace]';

/** The engine's profiling record, which tfjs fills for every kernel while `profiling` is set
 *  (tf.profile sets it too, but is asynchronous; a graph runs synchronously). */
interface EngineProfileState {
  profiling: boolean;
  activeProfile: { kernels: { name: string }[] };
}

export interface ExecutionTracer {
  /** Runs one node's lowering (`run`), then writes its trace line. */
  node(node: Node, inputs: tf.Tensor[], run: () => tf.Tensor): tf.Tensor;
}

const shapeText = (shape: number[]) => shape.join('x');

/** The tracer when NETC_DEBUG is 3 or more, else undefined. */
export function executionTracer(write: (line: string) => void = (line) => console.error(line)): ExecutionTracer | undefined {
  const level = Number((globalThis as { process?: { env: Record<string, string | undefined> } }).process?.env.NETC_DEBUG ?? 0);
  if (!(level >= 3)) return undefined;
  return {
    node(node, inputs, run) {
      const backend = tf.getBackend();
      const started = performance.now();
      const { result, kernels } = kernelsDuring(run);
      // WebGL queues its work: wait for this node's result so the time is the node's own.
      if (backend === 'webgl') result.dataSync();
      const ms = performance.now() - started;
      const shapes = `${inputs.map((t) => shapeText(t.shape)).join(', ')} -> ${shapeText(result.shape)}`;
      write(`${TRACE_PREFIX} ${node.op} ${node.id} ${shapes} ${backend}: ${kernels.join(' ') || '(no kernel)'} ${ms.toFixed(2)} ms (${node.scope})`);
      return result;
    },
  };
}

/** The names of the kernels `run` executed, in order. */
function kernelsDuring<T>(run: () => T): { result: T; kernels: string[] } {
  const state = (tf.engine() as unknown as { state: EngineProfileState }).state;
  const saved = { profiling: state.profiling, kernels: state.activeProfile.kernels };
  state.profiling = true;
  state.activeProfile.kernels = [];
  try {
    const result = run();
    return { result, kernels: state.activeProfile.kernels.map((k) => k.name) };
  } finally {
    state.profiling = saved.profiling;
    state.activeProfile.kernels = saved.kernels;
  }
}
