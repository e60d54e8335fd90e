// NETC_DEBUG=3: every IR node a graph runs is traced with its op, its shapes (those the
// compiler inferred), the backend and the kernels the lowering ran there, and milliseconds;
// on each backend the fused conv is the one that backend has (oneDNN's NetcConv2D, tfjs's
// FusedConv2D). Tracing leaves the outputs as they are; without NETC_DEBUG=3 nothing is traced.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { walkNodes } from '../src/compiler/walk.js';
import { initBackend, type BackendName } from '../src/runtime/backends/index.js';
import { runGraph } from '../src/runtime/execute.js';
import { createParams, disposeParams } from '../src/runtime/params.js';
import { tf } from '../src/runtime/tf.js';
import { TRACE_PREFIX } from '../src/runtime/trace.js';
import { TFJS_BACKEND } from './helpers/backends.js';
import { maxAbsDiff } from './helpers/fixtures.js';
import { OFFICIAL_MODEL, compileModel } from './helpers/models.js';
import { netc } from './helpers/spawn-cli.js';

const TRACE_LINE = /^\[netc trace\] (\w+) (\S+) ([\dx, ]+) -> ([\dx]+) (\w+): ([\w ()]+) (\d+\.\d\d) ms \((.*)\)$/;

/** Runs the graph with NETC_DEBUG as given; returns the outputs and the trace lines. */
function traced(level: string | undefined, run: () => tf.Tensor[]): { outputs: Float32Array[]; lines: string[] } {
  const lines: string[] = [];
  const spy = vi.spyOn(console, 'error').mockImplementation((line: unknown) => void lines.push(String(line)));
  const previous = process.env.NETC_DEBUG;
  if (level === undefined) delete process.env.NETC_DEBUG;
  else process.env.NETC_DEBUG = level;
  try {
    const tensors = run();
    const outputs = tensors.map((t) => t.dataSync().slice() as Float32Array);
    tf.dispose(tensors);
    return { outputs, lines: lines.filter((l) => l.startsWith(TRACE_PREFIX)) };
  } finally {
    if (previous === undefined) delete process.env.NETC_DEBUG;
    else process.env.NETC_DEBUG = previous;
    spy.mockRestore();
  }
}

afterEach(() => vi.restoreAllMocks());

const FUSED_CONV_KERNEL: Record<BackendName, string> = { cpu: 'NetcConv2D', 'tfjs-cpu': 'FusedConv2D', webgl: 'FusedConv2D' };

describe.each(['tfjs-cpu', 'cpu', 'webgl'] as BackendName[])('NETC_DEBUG=3 on %s', (backend) => {
  it('traces every node with its inferred shapes, the backend\'s kernels and its time', async () => {
    await initBackend(backend);
    const program = compileModel(OFFICIAL_MODEL, { blocks: 2, feats: 8 }, [32, 24]);
    const graph = program.models[program.generator];
    const params = createParams(graph, 3);
    const input = tf.randomUniform([1, 32, 24, 3], 0, 1, 'float32', 5);
    try {
      const plain = traced(undefined, () => runGraph(graph, [input], params));
      expect(plain.lines).toEqual([]);
      expect(traced('2', () => runGraph(graph, [input], params)).lines).toEqual([]);
      const { outputs, lines } = traced('3', () => runGraph(graph, [input], params));
      outputs.forEach((o, i) => expect(maxAbsDiff(o, plain.outputs[i]), `output ${i}`).toBe(0));

      const expected = [...walkNodes(graph)].map(({ node }) => node);
      expect(lines).toHaveLength(expected.length);
      lines.forEach((line, i) => {
        const m = TRACE_LINE.exec(line);
        expect(m, line).not.toBeNull();
        const [, op, id, , outShape, tfjsBackend, kernels, ms, scope] = m!;
        const node = expected[i];
        expect([op, id, outShape, scope]).toEqual([node.op, node.id, node.shape.join('x'), node.scope]);
        expect(tfjsBackend).toBe(TFJS_BACKEND[backend]);
        expect(Number(ms)).toBeGreaterThanOrEqual(0);
        if (op === 'conv2d') {
          expect(kernels.split(' '), line).toContain(FUSED_CONV_KERNEL[backend]);
          expect(kernels.split(' ').filter((k) => /Conv2D/.test(k)), line).toEqual([FUSED_CONV_KERNEL[backend]]);
        }
        if (op === 'pixel_shuffle') expect(kernels).toBe('Reshape Transpose Reshape');
      });
      // 2 ResBlocks x 3 scales, each 2 convs: the repeat bodies are traced per iteration.
      expect(lines.filter((l) => l.includes('(ResBlock x 2 / ResBlock)'))).toHaveLength(2 * 2 * 3);
    } finally {
      tf.dispose(input);
      disposeParams(params);
    }
  }, 120_000);
});

describe('NETC_DEBUG=3 on the command line', () => {
  it('netc bench prints the trace on stderr, after the compiler stages', () => {
    const r = netc(['bench', OFFICIAL_MODEL, '--set', 'blocks=1', '--set', 'feats=4', '--input', '16x16', '--backend', 'cpu', '--json'], { env: { NETC_DEBUG: '3' } });
    expect(r.status, r.stderr).toBe(0);
    const trace = r.stderr.split('\n').filter((l) => l.startsWith(TRACE_PREFIX));
    expect(trace.length).toBeGreaterThan(0);
    for (const line of trace) expect(line).toMatch(TRACE_LINE);
    expect(r.stderr.indexOf('[netc debug] fused ready')).toBeLessThan(r.stderr.indexOf(TRACE_PREFIX));
    expect(trace.some((l) => / onednn: Reshape NetcConv2D /.test(l))).toBe(true);
  }, 120_000);
});
