// conv's `init = zeros`: the mistakes one can make with it (exact message, line, column); a
// residual block whose last conv starts at zero is the identity (a fact of arithmetic, not
// of netc's code); the PyTorch export starts the same layers at zero in torch itself.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { emitPytorchModels } from '../../src/compiler/emit/pytorch.js';
import { torchLayout } from '../../src/compiler/emit/torch-layout.js';
import { compileSource } from '../../src/compiler/index.js';
import { initBackend } from '../../src/runtime/backends/index.js';
import { runGraph } from '../../src/runtime/execute.js';
import { createParams, disposeParams } from '../../src/runtime/params.js';
import { tf } from '../../src/runtime/tf.js';
import { expectDiagnostics, inModel, type Expected } from '../helpers/diagnostics.js';

const cases: { name: string; line: string; expected: Expected[] }[] = [
  { name: 'init misspelt', line: 'output blur -> conv(3, 3, init = zero)', expected: [{ message: "unknown name 'zero' (did you mean 'zeros'?)", line: 2, column: 36 }] },
  { name: 'init not a choice', line: 'output blur -> conv(3, 3, init = 0)', expected: [{ message: "conv: 'init' must be kaiming or zeros, not the number 0", line: 2, column: 36 }] },
];

// A residual block: `body` is a conv, relu, conv whose last conv starts at zero.
const RESIDUAL = `model G(blur: rgb) {
  output L = blur -> conv(8, 3) -> relu -> conv(3, 3, init = zeros) + blur
}`;

describe('conv init = zeros', () => {
  it.each(cases)('$name', ({ line, expected }) => expectDiagnostics(inModel(line), expected, { input: [4, 4] }));

  it('starts the conv at zero, so a residual block starts as the identity; other convs keep the default init', async () => {
    await initBackend('tfjs-cpu');
    const { program } = compileSource(RESIDUAL, 'zero.net', { input: [6, 5] });
    const graph = program.models[program.generator];
    const params = createParams(graph, 3);
    const values = [...params].map(([name, v]) => ({ name, largest: Math.max(...Array.from(v.dataSync()).map(Math.abs)) }));
    expect(values.filter((v) => v.largest === 0).map((v) => v.name).sort()).toEqual(['conv1.bias', 'conv1.weight']);
    expect(values.find((v) => v.name === 'conv0.weight')!.largest).toBeGreaterThan(0.01);
    const blur = tf.randomUniform([1, 6, 5, 3], 0, 1, 'float32', 5);
    const numTensors = tf.memory().numTensors;
    const [out] = runGraph(graph, [blur], params);
    expect(Array.from(out.dataSync())).toEqual(Array.from(blur.dataSync()));
    out.dispose();
    expect(tf.memory().numTensors).toBe(numTensors);
    blur.dispose();
    disposeParams(params);
  });

  it('the PyTorch export starts the same layers at zero in torch', () => {
    const { program } = compileSource(RESIDUAL, 'zero.net', { input: [6, 5] });
    const dir = mkdtempSync(path.join(tmpdir(), 'netc-zero-init-'));
    writeFileSync(path.join(dir, 'model.py'), emitPytorchModels(program));
    const script = `import sys, json; sys.path.insert(0, sys.argv[1]); import torch; import model
m = model.G()
print(json.dumps({k: float(v.abs().max()) for k, v in m.state_dict().items()}))`;
    const run = spawnSync('/usr/bin/python3', ['-c', script, dir], { encoding: 'utf8' });
    expect(run.status, run.stderr).toBe(0);
    const largest = JSON.parse(run.stdout) as Record<string, number>;
    const keys = torchLayout(program.models[program.generator]).params;
    const key = (name: string) => keys.find((p) => p.name === name)!.key;
    expect(largest[key('conv1.weight')]).toBe(0);
    expect(largest[key('conv1.bias')]).toBe(0);
    expect(largest[key('conv0.weight')]).toBeGreaterThan(0.01);
  });
});
