// `netc compile` on the DeepDeblur models and their variants: parameter and FLOP counts
// against the PyTorch peer's own counters, the JSON report, exports, and errors as a user
// sees them.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { compileFile } from '../../src/compiler/index.js';
import { graphCost } from '../../src/compiler/cost.js';
import { netc } from '../helpers/spawn-cli.js';

const PYTORCH = 'models/deepdeblur-pytorch.net';
const PAPER = 'models/deepdeblur.net';

// Reference values printed by the PyTorch peer (../shared/peer/msresnet.py):
//   /usr/bin/python3 -c "import msresnet as M; m = M.MSResNet(n_resblocks=r, n_feats=f, n_scales=s);
//     print(sum(p.numel() for p in m.parameters()), M.msresnet_forward_flops(h, w, n_resblocks=r, n_feats=f, n_scales=s))"
const variants: { set: Record<string, number>; input: [number, number]; params: number; flops: number; convs: number }[] = [
  { set: {}, input: [256, 256], params: 11_721_321, flops: 671_885_721_600, convs: 122 },
  { set: {}, input: [720, 1280], params: 11_721_321, flops: 9_448_392_960_000, convs: 122 },
  { set: { blocks: 9 }, input: [256, 256], params: 5_573_481, flops: 319_564_185_600, convs: 62 },
  { set: { scales: 2 }, input: [128, 128], params: 7_812_310, flops: 159_941_427_200, convs: 81 },
  { set: { blocks: 2, feats: 8 }, input: [64, 64], params: 25_953, flops: 90_163_200, convs: 20 },
  { set: { feats: 32 }, input: [256, 256], params: 2_943_177, flops: 168_608_563_200, convs: 122 },
];

describe('parameter and FLOP counts match the PyTorch reference', () => {
  for (const model of [PYTORCH, PAPER]) {
    it.each(variants)(`${model} --set $set at $input`, ({ set, input, params, flops, convs }) => {
      const { program } = compileFile(model, { set, input });
      const cost = graphCost(program.models[program.generator]);
      expect(cost.params).toBe(params);
      expect(cost.flops).toBe(flops);
      expect(cost.convs).toBe(convs);
    });
  }

  it('a single-scale variant (scales = 1) has no up-convolution', () => {
    const { program } = compileFile(PYTORCH, { set: { scales: 1, blocks: 4, feats: 16 }, input: [32, 32] });
    expect(graphCost(program.models.Generator).params).toBe(53_747); // MSResNet(4, 16, n_scales=1)
  });

  it('the paper discriminator holds Table 1: 26,165,600 conv weights plus the dense layers', () => {
    const { program } = compileFile(PAPER);
    const d = program.models[program.discriminator!];
    const convWeights = d.nodes.filter((n) => n.op === 'conv2d').flatMap((n) => n.params).reduce((s, p) => s + p.shape.reduce((a, b) => a * b, 1), 0);
    expect(convWeights).toBe(26_165_600);
    // fc 1024x1024 + bias, then the projection to one logit + bias
    expect(graphCost(d).params).toBe(26_165_600 + 1024 * 1024 + 1024 + 1024 + 1);
    expect(d.outputs[0].shape).toEqual([1, 1]);
  });
});

describe('netc compile --json', () => {
  it('reports the official generator as the issue asks', () => {
    const r = netc(['compile', PYTORCH, '--input', '256x256', '--json']);
    expect(r.status).toBe(0);
    const j = JSON.parse(r.stdout);
    expect(j.model).toBe('Generator');
    expect(j.input).toEqual([1, 256, 256, 3]);
    expect(j.params).toBe(11_721_321);
    expect(j.convs).toBe(122);
    expect(j.scales).toBe(3);
    expect(j.outputs.map((o: { shape: number[] }) => o.shape)).toEqual([[1, 256, 256, 3], [1, 128, 128, 3], [1, 64, 64, 3]]);
    expect(Math.abs(j.flops - 672e9) / 672e9).toBeLessThan(0.01);
    expect(j.peakActivationBytes).toBeGreaterThan(4 * 256 * 256 * 64 * 2); // at least two 64-channel maps live
    // The finest output sees 40 convs of 5x5 at full resolution plus the coarser paths.
    expect(j.receptiveField['L[0]']).toBeGreaterThan(161);
    expect(j.discriminator).toBeUndefined();
  });

  it('the paper model has the same generator and a discriminator', () => {
    const j = JSON.parse(netc(['compile', PAPER, '--json']).stdout);
    expect(j.params).toBe(11_721_321);
    expect(j.discriminator.params).toBe(27_216_225);
    expect(j.discriminator.flops).toBeGreaterThan(0);
    expect(j.train).toMatchObject({ patch: 256, batch: 4, iterations: 450_000, optimizer: { lr: 5e-5 }, schedule: { at: [150_000], factor: 0.1 } });
  });

  it('--set gan_weight=0 turns the adversarial term and the discriminator off', () => {
    const off = compileFile(PAPER, { set: { gan_weight: 0 } }).program;
    expect(off.discriminator).toBeUndefined();
    expect(off.loss!.terms.map((t) => t.name)).toEqual(['content', 'total']);
    expect(off.loss!.terms[1].expr).toEqual({ kind: 'term', name: 'content' });
    const on = compileFile(PAPER).program;
    expect(on.discriminator).toBe('Discriminator');
    expect(on.loss!.terms.map((t) => t.name)).toEqual(['content', 'adversarial', 'total']);
  });

  it('--set changes the variant without editing the file', () => {
    const j = JSON.parse(netc(['compile', PAPER, '--set', 'blocks=9', '--set', 'patch=64', '--json']).stdout);
    expect(j.params).toBe(5_573_481);
    expect(j.train.patch).toBe(64);
  });

  it('prints a readable table by default', () => {
    const r = netc(['compile', PYTORCH]);
    expect(r.stdout).toMatch(/total\s+11,721,321\s+671\.89\s+122/);
    expect(r.stdout).toMatch(/ResBlock x 19/);
  });
});

describe('errors as a user sees them', () => {
  it('prints file:line:col, the line and a caret, and exits 1', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'netc-'));
    const file = path.join(dir, 'bad.net');
    writeFileSync(file, 'kernel = 5\nmodel G(blur: rgb) {\n  output blur -> conv(3, kernal)\n}\n');
    const r = netc(['compile', file]);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain(`${file}:3:26: error: unknown name 'kernal' (did you mean 'kernel'?)`);
    expect(r.stderr).toContain('3 |   output blur -> conv(3, kernal)');
    expect(r.stderr).toContain('  |                          ^^^^^^');
    expect(r.stderr).not.toMatch(/at .*\.js:\d+/); // no stack trace
  });

  it('reports every error of a file in one run', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'netc-'));
    const file = path.join(dir, 'bad.net');
    writeFileSync(file, 'block R {\n  conv(8, 3) -> relu\n}\nmodel G(blur: rgb) {\n  a = blur -> cnov(3, 3)\n  b = blur -> R x 0\n  output concat(blur, blur -> conv(4, 3, stride = 2))\n}\n');
    const r = netc(['compile', file]);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/:5:15: error: unknown layer, block or function 'cnov'/);
    expect(r.stderr).toMatch(/:6:19: error: a repeat count must be at least 1, got 0/);
    expect(r.stderr).toMatch(/:7:10: error: concat needs equal spatial sizes, got 256x256 and 128x128/);
  });

  it('a missing file, an unknown --set name and a bad --input are clear errors', () => {
    expect(netc(['compile', 'models/nope.net']).stderr).toContain('models/nope.net: no such file');
    const set = netc(['compile', PAPER, '--set', 'block=9']);
    expect(set.status).toBe(1);
    expect(set.stderr).toContain("--set block=9: models/deepdeblur.net has no top-level constant 'block'");
    expect(netc(['compile', PAPER, '--input', '256']).stderr).toContain('--input 256: expected HEIGHTxWIDTH');
    const odd = netc(['compile', PAPER, '--input', '255x255']);
    expect(odd.status).toBe(1);
    expect(odd.stderr).toContain('cannot be halved exactly');
  });
});

describe('exports', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'netc-export-'));

  it('DOT renders with Graphviz, repeated blocks as clusters', () => {
    const dot = path.join(dir, 'g.dot');
    expect(netc(['compile', PAPER, '--dot', dot]).status).toBe(0);
    const text = readFileSync(dot, 'utf8');
    expect(text).toContain('subgraph cluster_');
    expect(text).toContain('ResBlock x 19');
    const r = spawnSync('dot', ['-Tsvg', dot], { encoding: 'utf8' });
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('<svg');
  });

  it('ONNX passes the ONNX checker with an initializer for every weight', () => {
    const onnx = path.join(dir, 'g.onnx');
    expect(netc(['compile', PYTORCH, '--set', 'blocks=2', '--set', 'feats=8', '--input', '32x32', '--onnx', onnx]).status).toBe(0);
    const check = spawnSync('/usr/bin/python3', ['-c', [
      'import onnx, sys',
      'm = onnx.load(sys.argv[1])',
      'onnx.checker.check_model(m, full_check=True)',
      'import numpy as np',
      'from onnx import numpy_helper',
      'n = sum(int(np.prod(t.dims)) for t in m.graph.initializer if not t.name.startswith(("scale_", "shift_", "starts_", "ends_", "axes_", "steps_", "gaussian_")))',
      'print(n, [o.name for o in m.graph.output])',
    ].join('\n'), onnx], { encoding: 'utf8' });
    expect(check.stderr).toBe('');
    expect(check.stdout.trim()).toBe("25953 ['L[0]', 'L[1]', 'L[2]']");
  });

  it('onnxruntime runs the exported model with the shapes netc inferred', async () => {
    const onnx = path.join(dir, 'g2.onnx');
    expect(netc(['compile', PAPER, '--set', 'blocks=1', '--set', 'feats=4', '--input', '16x24', '--onnx', onnx]).status).toBe(0);
    const ort = await import('onnxruntime-node');
    const session = await ort.InferenceSession.create(onnx);
    const x = new ort.Tensor('float32', new Float32Array(3 * 16 * 24).fill(0.5), [1, 3, 16, 24]);
    const out = await session.run({ blur: x });
    expect(out['L[0]'].dims).toEqual([1, 3, 16, 24]);
    expect(out['L[2]'].dims).toEqual([1, 3, 4, 6]);
  });
});
