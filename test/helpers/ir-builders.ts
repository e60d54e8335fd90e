// Hand-built IR mirroring what the compiler emits for the DeepDeblur generator, for runtime
// tests that must not depend on the compiler.
import type { Graph, Node, ParamSpec, Program, SourceSpan } from '../../src/compiler/ir.js';

export interface DeblurIrOptions {
  scales?: number;
  blocks: number;
  feats: number;
  kernel?: number;
  size: [number, number];
  /** 'official': 0..255 centred (scale 255, shift -127.5); 'paper': scale 1, shift -0.5. */
  range?: 'official' | 'paper';
  /** Fused convs (activation / residual attrs) or separate relu / add nodes. */
  fused?: boolean;
}

const loc: SourceSpan = { file: 'test.net', line: 1, column: 1, endLine: 1, endColumn: 1, offset: 0, length: 0 };

class GraphBuilder {
  nodes: Node[] = [];
  private count = 0;
  constructor(private readonly scope: string) {}

  add(op: Node['op'], inputs: string[], attrs: Record<string, unknown>, shape: number[], params: ParamSpec[] = []): string {
    const id = `${op}_${this.count++}`;
    this.nodes.push({ id, op, inputs, attrs, params, shape, scope: this.scope, loc });
    return id;
  }

  conv(input: string, inShape: number[], filters: number, k: number, prefix: string, extra: Record<string, unknown> = {}, residual?: string): string {
    const [n, h, w, cin] = inShape;
    const fanIn = cin * k * k;
    const params: ParamSpec[] = [
      { name: `${prefix}.weight`, shape: [k, k, cin, filters], init: { kind: 'kaiming_uniform', fanIn } },
      { name: `${prefix}.bias`, shape: [filters], init: { kind: 'bias_uniform', fanIn } },
    ];
    const p = (k - 1) / 2;
    const attrs: Record<string, unknown> = { filters, kernel: [k, k], stride: [1, 1], pad: [p, p, p, p], bias: true, ...extra };
    if (residual) attrs.residual = residual;
    return this.add('conv2d', residual ? [input, residual] : [input], attrs, [n, h, w, filters], params);
  }
}

function resBlockBody(shape: number[], k: number, fused: boolean): Graph {
  const g = new GraphBuilder('Generator / ResBlock');
  const input = 'x';
  const f = shape[3];
  let y: string;
  if (fused) {
    y = g.conv(input, shape, f, k, 'conv0', { activation: 'relu' });
    y = g.conv(y, shape, f, k, 'conv1', {}, input);
  } else {
    y = g.conv(input, shape, f, k, 'conv0');
    y = g.add('relu', [y], {}, shape);
    y = g.conv(y, shape, f, k, 'conv1');
    y = g.add('add', [y, input], {}, shape);
  }
  return { name: 'ResBlock', inputs: [{ name: 'input', id: input, shape }], nodes: g.nodes, outputs: [{ name: 'out', id: y, shape }] };
}

export function deblurGeneratorIr(opts: DeblurIrOptions): Graph {
  const scales = opts.scales ?? 3;
  const k = opts.kernel ?? 5;
  const fused = opts.fused ?? true;
  const [H, W] = opts.size;
  const [scale, shift] = (opts.range ?? 'official') === 'official' ? [255, -127.5] : [1, -0.5];
  const g = new GraphBuilder('Generator');
  const levelShape = (s: number) => [1, H >> s, W >> s, 3];

  const pyramid: string[] = [g.add('affine', ['blur'], { scale, shift }, levelShape(0))];
  for (let s = 1; s < scales; s++) pyramid.push(g.add('pyramid_down', [pyramid[s - 1]], { sigma: 2 / 3, radius: 3 }, levelShape(s)));

  const scaleNet = (input: string, inShape: number[], s: number): string => {
    const featShape = [1, inShape[1], inShape[2], opts.feats];
    const prefix = `L[${s}]/ScaleNet`;
    let y = g.conv(input, inShape, opts.feats, k, `${prefix}/conv0`);
    y = g.add('repeat', [y], {}, featShape);
    g.nodes[g.nodes.length - 1].repeat = { count: opts.blocks, body: resBlockBody(featShape, k, fused), paramPrefix: `${prefix}/ResBlock` };
    return g.conv(y, featShape, 3, k, `${prefix}/conv1`);
  };

  const out: string[] = new Array(scales);
  out[scales - 1] = scaleNet(pyramid[scales - 1], levelShape(scales - 1), scales - 1);
  for (let s = scales - 2; s >= 0; s--) {
    const coarse = levelShape(s + 1);
    let up = g.conv(out[s + 1], coarse, 12, k, `L[${s}]/conv0`);
    up = g.add('pixel_shuffle', [up], { factor: 2 }, levelShape(s));
    const [n, h, w] = levelShape(s);
    const cat = g.add('concat', [pyramid[s], up], { axis: 3 }, [n, h, w, 6]);
    out[s] = scaleNet(cat, [n, h, w, 6], s);
  }
  const outputs = out.map((id, s) => ({ name: `L[${s}]`, id: g.add('affine', [id], { scale: 1 / scale, shift: -shift / scale }, levelShape(s)), shape: levelShape(s) }));
  return { name: 'Generator', inputs: [{ name: 'blur', id: 'blur', shape: levelShape(0) }], nodes: g.nodes, outputs };
}

export function deblurProgramIr(opts: DeblurIrOptions): Program {
  const generator = deblurGeneratorIr(opts);
  return {
    file: 'test.net',
    sourceHash: 'test',
    constants: { scales: opts.scales ?? 3, blocks: opts.blocks, feats: opts.feats, kernel: opts.kernel ?? 5 },
    overrides: {},
    inputSize: opts.size,
    models: { Generator: generator },
    generator: 'Generator',
  };
}
