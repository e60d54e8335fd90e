// One CLI: `netc diff` (with --set), `compile --print ast|ir`, NETC_DEBUG, `--weights`
// only with `--onnx`, one whole-number parser for every command, the model file given the
// same way everywhere (first argument; --model kept as the older form), and a compile that
// starts without TensorFlow.js.
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from './helpers/cli.js';
import { OFFICIAL_MODEL, PAPER_MODEL } from './helpers/models.js';
import { netc } from './helpers/spawn-cli.js';

const tmp = () => mkdtempSync(path.join(tmpdir(), 'netc-cli-'));
// The PyTorch peer's counters (see test/language/compile.test.ts): MSResNet at 256x256.
const PEER = { full: { params: 11_721_321, flops: 671_885_721_600 }, blocks9: { params: 5_573_481, flops: 319_564_185_600 } };

describe('netc diff', () => {
  const nine = path.join(tmp(), 'nine.net');
  writeFileSync(nine, readFileSync(OFFICIAL_MODEL, 'utf8').replace('blocks = 19', 'blocks = 9'));

  it('puts two files side by side with the differences (the peer\'s counts)', () => {
    const r = netc(['diff', OFFICIAL_MODEL, nine, '--json']);
    expect(r.status, r.stderr).toBe(0);
    const j = JSON.parse(r.stdout);
    expect([j.a.params, j.b.params]).toEqual([PEER.full.params, PEER.blocks9.params]);
    expect(j.delta.params).toBe(PEER.blocks9.params - PEER.full.params);
    expect(j.delta.flops).toBe(PEER.blocks9.flops - PEER.full.flops);
    const table = netc(['diff', OFFICIAL_MODEL, nine]).stdout;
    expect(table).toMatch(/^params\s+11,721,321\s+5,573,481\s+-6,147,840 \(-52\.5%\)$/m);
    expect(table).toMatch(/^\s+constant blocks\s+19\s+9\s+changed$/m);
  });

  it('--set applies to both files', () => {
    const j = JSON.parse(netc(['diff', OFFICIAL_MODEL, PAPER_MODEL, '--set', 'blocks=9', '--json']).stdout);
    expect([j.a.params, j.b.params, j.a.flops]).toEqual([PEER.blocks9.params, PEER.blocks9.params, PEER.blocks9.flops]);
    const bad = netc(['diff', OFFICIAL_MODEL, PAPER_MODEL, '--set', 'gan_weight=0']);
    expect(bad.status).toBe(1);
    expect(bad.stderr).toContain(`--set gan_weight=0: ${OFFICIAL_MODEL} has no top-level constant 'gan_weight'`);
  });
});

describe('netc compile --print and NETC_DEBUG', () => {
  it('--print ast prints the declarations (it printed `undefined`)', () => {
    const r = netc(['compile', OFFICIAL_MODEL, '--print', 'ast']);
    expect(r.status, r.stderr).toBe(0);
    const ast = JSON.parse(r.stdout);
    expect(ast.filter((d: { kind: string }) => d.kind === 'block').map((d: { name: { name: string } }) => d.name.name)).toEqual(['ResBlock', 'ScaleNet', 'UpConv']);
    expect(ast.find((d: { kind: string; name?: { name: string } }) => d.kind === 'const' && d.name?.name === 'blocks').value).toEqual({ kind: 'number', value: 19 });
  });

  it('--print ir prints the program with inferred shapes', () => {
    const r = netc(['compile', OFFICIAL_MODEL, '--set', 'blocks=2', '--input', '64x64', '--print', 'ir']);
    expect(r.status, r.stderr).toBe(0);
    const ir = JSON.parse(r.stdout);
    expect(ir.generator).toBe('Generator');
    expect(ir.models.Generator.outputs.map((o: { shape: number[] }) => o.shape)).toEqual([[1, 64, 64, 3], [1, 32, 32, 3], [1, 16, 16, 3]]);
    expect(ir.models.Generator.nodes.filter((n: { op: string }) => n.op === 'repeat').map((n: { attrs: { count: number } }) => n.attrs.count)).toEqual([2, 2, 2]);
    expect(netc(['compile', OFFICIAL_MODEL, '--print', 'tokens']).stderr).toContain("--print tokens: expected 'ast' or 'ir'");
  });

  it('NETC_DEBUG=1 prints each stage\'s time, 2 also its value, on stderr', () => {
    const one = netc(['compile', OFFICIAL_MODEL, '--json'], { env: { NETC_DEBUG: '1' } });
    expect(one.status).toBe(0);
    expect(one.stderr).toMatch(/^\[netc debug\] ast ready after \d+\.\d ms\n\[netc debug\] ir ready after \d+\.\d ms\n\[netc debug\] fused ready after \d+\.\d ms\n$/);
    expect(JSON.parse(one.stdout).params).toBe(PEER.full.params); // stdout untouched
    const two = netc(['compile', OFFICIAL_MODEL, '--json'], { env: { NETC_DEBUG: '2' } });
    expect(two.stderr).toContain('"kind": "block"');
    expect(two.stderr.length).toBeGreaterThan(10 * one.stderr.length);
    expect(netc(['compile', OFFICIAL_MODEL, '--json']).stderr).toBe('');
  });

  it('--weights without --onnx is an error', () => {
    const r = netc(['compile', OFFICIAL_MODEL, '--weights', 'runs/x']);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('netc: error: --weights runs/x: only used with --onnx (the weights the ONNX file carries)');
  });
});

describe('start-up', () => {
  it('netc compile never loads TensorFlow.js (~0.25 s of every start; deblur does)', () => {
    // A require hook that names every @tensorflow package the process loads (tf.ts requires
    // tfjs as CommonJS, so each load passes Module._load).
    const hook = path.join(tmp(), 'hook.cjs');
    writeFileSync(hook, "const M = require('module'); const load = M._load;\n" +
      "M._load = function (request, ...rest) { if (request.startsWith('@tensorflow/')) process.stderr.write('loads ' + request + '\\n'); return load.call(this, request, ...rest); };\n");
    const env = { NODE_OPTIONS: `--require ${hook}` };
    const compile = netc(['compile', OFFICIAL_MODEL, '--json'], { env });
    expect(compile.status, compile.stderr).toBe(0);
    expect(compile.stderr).toBe('');
    const deblur = netc(['deblur', '--help'], { env });
    expect(deblur.status, deblur.stderr).toBe(0);
    expect(deblur.stderr).toContain('loads @tensorflow/tfjs');
  });
});

describe('one whole-number parser', () => {
  const data = tmp();
  it.each<[string[], string]>([
    [['train', OFFICIAL_MODEL, '--data', data, '--steps', '1.5'], '--steps 1.5: expected a whole number >= 1'],
    [['train', OFFICIAL_MODEL, '--data', data, '--keep', '0'], '--keep 0: expected a whole number >= 1'],
    [['train', OFFICIAL_MODEL, '--data', data, '--validate-every', '-1'], '--validate-every -1: expected a whole number >= 0'],
    [['bench', OFFICIAL_MODEL, '--runs', '1e3'], '--runs 1e3: expected a whole number >= 1'],
    [['bench', OFFICIAL_MODEL, '--warmup', '0x10'], '--warmup 0x10: expected a whole number >= 0'],
    [['deblur', OFFICIAL_MODEL, 'a.png', '--weights', data, '--out', 'o.png', '--tile', '-5'], '--tile -5: expected a whole number >= 0'],
    [['eval', OFFICIAL_MODEL, '--weights', data, '--data', data, '--limit', '0'], '--limit 0: expected a whole number >= 1'],
    [['deblur', 'a.png', '--out', 'o.png', '--ensemble', '3'], '--ensemble 3: expected one of 1, 2, 4'],
    [['eval', '--data', data, '--ensemble', '0'], '--ensemble 0: expected a whole number >= 1'],
    [['synth', '--frames', data, '--out', data, '--window', '3.5'], '--window 3.5: expected a whole number >= 1'],
    [['synth', '--frames', data, '--out', data, '--max-pixels', 'many'], '--max-pixels many: expected a whole number >= 1'],
  ])('%j', async (args, message) => {
    const r = await runCli(args);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(`netc: error: ${message}`);
  });
});

describe('the model file, given the same way in every command', () => {
  it('first, or with --model (the older form); anything else is explained', async () => {
    const noModel = await runCli(['deblur', 'photo.png', '--weights', 'w', '--out', 'o.png']);
    expect(noModel.code).toBe(1);
    // without FILE.net the bundled model applies, so weights alone are a mistake
    expect(noModel.stderr).toBe('netc: error: --weights w needs the model those weights are for: give FILE.net first (or --model FILE.net), or leave both out to use the bundled model');
    const importNoModel = await runCli(['import', 'model.pt', '--out', 'x']);
    expect(importNoModel.stderr).toContain('netc import: expected the model file first (netc import FILE.net MODEL.pt --out DIR)');
    const evalNoModel = await runCli(['eval', '--weights', 'w', '--data', 'd']);
    expect(evalNoModel.stderr).toBe('netc: error: --weights w needs the model those weights are for: give FILE.net first (or --model FILE.net), or leave both out to use the bundled model');
    const modelNoWeights = await runCli(['deblur', 'models/deblur-lite.net', 'photo.png', '--out', 'o.png']);
    expect(modelNoWeights.stderr).toBe('netc: error: --model models/deblur-lite.net needs --weights DIR (a checkpoint of that model); leave both out to use the bundled model');
  });
});
