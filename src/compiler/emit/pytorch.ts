// PyTorch export of the models (model.py): one torch.nn.Module per model of the program,
// generated from the IR. Tensors are NCHW as PyTorch's convs expect; images are 0..1 RGB in,
// as netc feeds them. Every op of the IR has a case in EMITTERS (a Record over OpName, so a
// new op is a type error here until it is exported). Repeats are unrolled; each layer lives at
// its state-dict key (torch-layout.ts), so state dicts use the official DeepDeblur-PyTorch
// names for DeepDeblur generators and netc's names otherwise.
import type { AffineAttrs, AvgPoolAttrs, ConcatAttrs, Conv2dAttrs, DenseAttrs, Graph, LeakyReluAttrs, Node, PixelShuffleAttrs, PrimitiveOp, Program, PyramidDownAttrs, UpsampleAttrs } from '../ir.js';
import { PYRAMID_FACTOR, gaussianTaps, sizeMultiple } from '../ops.js';
import { expandGraph } from '../walk.js';
import { torchLayout } from './torch-layout.js';

interface EmitContext {
  node: Node;
  /** Python expressions of the inputs. */
  args: string[];
  /** Python expression of the node's layer (conv2d, dense). */
  layer?: string;
}

type Emitter = (c: EmitContext) => string;

const py = (x: number) => (Number.isInteger(x) ? `${x}.0` : String(x));

const EMITTERS: Record<PrimitiveOp, Emitter> = {
  conv2d: ({ node, args, layer }) => {
    const a = node.attrs as unknown as Conv2dAttrs;
    const [t, b, l, r] = a.pad;
    const input = t === b && l === r ? args[0] : `F.pad(${args[0]}, (${l}, ${r}, ${t}, ${b}))`;
    let y = `${layer}(${input})`;
    if (a.residual !== undefined) y = `${y} + ${args[args.length - 1]}`;
    if (a.activation === 'relu') y = `F.relu(${y})`;
    if (a.activation === 'leaky_relu') y = `F.leaky_relu(${y}, ${py(a.alpha ?? 0.01)})`;
    if (a.activation === 'sigmoid') y = `torch.sigmoid(${y})`;
    return y;
  },
  dense: ({ args, layer }) => `${layer}(${args[0]})`,
  relu: ({ args }) => `F.relu(${args[0]})`,
  leaky_relu: ({ node, args }) => `F.leaky_relu(${args[0]}, ${py((node.attrs as unknown as LeakyReluAttrs).alpha)})`,
  sigmoid: ({ args }) => `torch.sigmoid(${args[0]})`,
  add: ({ args }) => args.join(' + '),
  concat: ({ node, args }) => {
    const axis = (node.attrs as unknown as ConcatAttrs).axis;
    if (axis !== 3) throw new Error(`PyTorch export: concat on NHWC axis ${axis}; only channels (3) exist`);
    return `torch.cat([${args.join(', ')}], dim=1)`;
  },
  pixel_shuffle: ({ node, args }) => `F.pixel_shuffle(${args[0]}, ${(node.attrs as unknown as PixelShuffleAttrs).factor})`,
  pyramid_down: ({ node, args }) => {
    const { sigma, radius } = node.attrs as unknown as PyramidDownAttrs;
    return `pyramid_down(${args[0]}, ${JSON.stringify(gaussianTaps(sigma, radius))})`;
  },
  upsample: ({ node, args }) => {
    const { factor, mode } = node.attrs as unknown as UpsampleAttrs;
    return mode === 'nearest'
      ? `F.interpolate(${args[0]}, scale_factor=${factor}, mode='nearest')`
      : `F.interpolate(${args[0]}, scale_factor=${factor}, mode='bilinear', align_corners=False)`;
  },
  avg_pool: ({ node, args }) => {
    const { kernel, stride } = node.attrs as unknown as AvgPoolAttrs;
    return `F.avg_pool2d(${args[0]}, ${kernel}, ${stride})`;
  },
  // netc flattens channels-last; NCHW is put back in that order first.
  flatten: ({ args }) => `${args[0]}.permute(0, 2, 3, 1).flatten(1)`,
  affine: ({ node, args }) => {
    const { scale, shift } = node.attrs as unknown as AffineAttrs;
    return `${args[0]} * ${py(scale)} + ${py(shift)}`;
  },
};

/** A Python identifier for a model or input name. */
const identifier = (name: string) => name.replace(/[^A-Za-z0-9_]/g, '_').replace(/^(\d)/, '_$1');

function constructor(node: Node): string {
  if (node.op === 'conv2d') {
    const a = node.attrs as unknown as Conv2dAttrs;
    const [kh, kw, cin, cout] = node.params[0].shape;
    const [t, b, l, r] = a.pad;
    const padding = t === b && l === r ? `(${t}, ${l})` : '0';
    const conv = `nn.Conv2d(${cin}, ${cout}, (${kh}, ${kw}), stride=(${a.stride[0]}, ${a.stride[1]}), padding=${padding}, bias=${a.bias ? 'True' : 'False'})`;
    return a.zeroInit ? `_zeroed(${conv})` : conv;
  }
  const a = node.attrs as unknown as DenseAttrs;
  const [inF, units] = node.params[0].shape;
  return `nn.Linear(${inF}, ${units}, bias=${a.bias ? 'True' : 'False'})`;
}

/** The Python class of one model. */
export function emitModule(graph: Graph): string {
  const { nodes, outputs } = expandGraph(graph);
  const layout = torchLayout(graph);
  const keyOf = new Map(layout.params.map((p) => [p.name, p.key]));
  const names = new Map(graph.inputs.map((i) => [i.id, identifier(i.name)]));
  const layers: string[] = [];
  const body: string[] = [];
  let counter = 0;
  let comment = '';
  for (const { node, inputs, output, params } of nodes) {
    let layer: string | undefined;
    if (params.length > 0) {
      const key = keyOf.get(params[0].name)!;
      const path = key.slice(0, key.lastIndexOf('.'));
      layer = `layers[${layers.length}]`;
      layers.push(`_place(self, '${path}', ${constructor(node)})`);
    }
    const value = `x${counter++}`;
    names.set(output, value);
    if (node.scope !== comment) {
      comment = node.scope;
      body.push(`        # ${comment}`);
    }
    body.push(`        ${value} = ${EMITTERS[node.op as PrimitiveOp]({ node, args: inputs.map((i) => names.get(i)!), layer })}`);
  }
  const result = outputs.map((o) => names.get(o)!);
  const last = nodes.find((n) => n.output === outputs[outputs.length - 1])?.node;
  const params = graph.inputs.map((i) => identifier(i.name)).join(', ');
  const lines = [
    `class ${identifier(graph.name)}(nn.Module):`,
    `    """${graph.name}: inputs ${graph.inputs.map((i) => `${i.name} (N, ${i.shape[3]}, H, W)`).join(', ')}; returns the list of outputs ${graph.outputs.map((o) => o.name).join(', ')}."""`,
    '',
    '    def __init__(self):',
    '        super().__init__()',
    '        # Layers live at their state-dict keys; forward reads them from this tuple.',
    `        object.__setattr__(self, 'layers', (`,
    ...layers.map((l) => `            ${l},`),
    '        ))',
    '',
  ];
  if (graph.outputs.length === 1 && last?.op === 'sigmoid') {
    // A discriminator's logit: BCE with logits is computed before its final sigmoid.
    const pre = body.pop()!.replace(/^(\s+)(x\d+) = torch\.sigmoid\((.*)\)$/, '$1logit = $3');
    lines.push(`    def forward(self, ${params}, logits=False):`, '        layers = self.layers', ...body, pre, `        return [logit if logits else torch.sigmoid(logit)]`);
  } else {
    lines.push(`    def forward(self, ${params}):`, '        layers = self.layers', ...body, `        return [${result.join(', ')}]`);
  }
  return lines.join('\n');
}

const PRELUDE = `import torch
import torch.nn as nn
import torch.nn.functional as F


def _place(root, path, module):
    """Registers module under root at a dotted path (the state-dict key of its parameters)."""
    *parents, leaf = path.split('.')
    for part in parents:
        if part not in root._modules:
            root.add_module(part, nn.Module())
        root = root._modules[part]
    root.add_module(leaf, module)
    return module


def _zeroed(module):
    """A layer declared with init = zeros: its parameters start at 0."""
    for p in module.parameters():
        nn.init.zeros_(p)
    return module


def _reflect_indices(n, radius, device):
    """Indices of scipy.ndimage's 'reflect' border (d c b a | a b c d | d c b a) for any n."""
    i = torch.arange(-radius, n + radius, device=device)
    period = 2 * n
    k = torch.remainder(i, period)
    return torch.where(k < n, k, period - 1 - k)


def pyramid_down(x, taps):
    """skimage pyramid_reduce(downscale=2) on even sizes: separable Gaussian blur with scipy
    'reflect' borders, then the mean of each 2x2 block (as netc's pyramid_down)."""
    r = (len(taps) - 1) // 2
    c = x.shape[1]
    k = torch.tensor(taps, dtype=x.dtype, device=x.device)
    x = x.index_select(2, _reflect_indices(x.shape[2], r, x.device))
    x = F.conv2d(x, k.view(1, 1, -1, 1).expand(c, 1, -1, 1), groups=c)
    x = x.index_select(3, _reflect_indices(x.shape[3], r, x.device))
    x = F.conv2d(x, k.view(1, 1, 1, -1).expand(c, 1, 1, -1), groups=c)
    return F.avg_pool2d(x, ${PYRAMID_FACTOR})
`;

/** model.py: every model of the program, the generator first. */
export function emitPytorchModels(program: Program): string {
  const models = [program.generator, ...Object.keys(program.models).filter((m) => m !== program.generator)];
  const generator = program.models[program.generator];
  const header = [
    `"""PyTorch modules of ${program.file}, exported by netc (edit the .net file and export again`,
    'rather than this file).',
    '',
    `Source sha256 ${program.sourceHash}; --set ${JSON.stringify(program.overrides)}.`,
    'Images are NCHW float tensors, RGB in 0..1. State-dict layout: see LAYOUT and netc\'s README',
    '("Training at scale"); conv weights are OIHW, linear weights [out, in]."""',
  ].join('\n');
  const constants = [
    `LAYOUT = '${torchLayout(generator).layout}'`,
    `GENERATOR = '${identifier(program.generator)}'`,
    `DISCRIMINATOR = ${program.discriminator ? `'${identifier(program.discriminator)}'` : 'None'}`,
    `# The input's sides must be divisible by this (the pyramid halves exactly; strides divide).`,
    `SIZE_MULTIPLE = ${sizeMultiple(generator)}`,
  ].join('\n');
  return [header, PRELUDE, constants, '', ...models.map((m) => `\n${emitModule(program.models[m])}\n`)].join('\n');
}
