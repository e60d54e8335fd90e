// Parameter names and layouts of a model in PyTorch: the one place that says which
// state-dict key holds which netc parameter. The PyTorch exporter (emit/pytorch.ts) builds its
// modules at these keys and `netc import` reads them back.
//
// Two layouts:
// - 'deepdeblur': the official DeepDeblur-PyTorch keys, for generators with the MSResNet
//   structure (per scale: first conv, 2B ResBlock convs, last conv to 3 channels; an up-conv
//   to 12 channels between scales):
//     body_models.{s}.body.0 / .body.{b}.body.{0,2} / .body.{B+1}, conv_end_models.{s}.uppath.0
//   (s = 0 is the finest scale), so checkpoints trained from an export load in the authors'
//   code and the authors' checkpoints load in the export.
// - 'general', for every other model: the netc parameter name with '/' replaced by '.',
//   e.g. 'scale2/ScaleNet/ResBlock.0/ResBlock/conv0.weight' ->
//   'scale2.ScaleNet.ResBlock.0.ResBlock.conv0.weight'.
// Either way a conv weight is OIHW (netc: HWIO) and a dense weight is [out, in] (netc: [in, out]);
// biases are the same in both.
import type { Graph, Node, ParamSpec } from '../ir.js';
import { walkNodes } from '../walk.js';

export type TorchLayoutName = 'deepdeblur' | 'general';

export interface TorchParam {
  /** netc's full parameter name. */
  name: string;
  /** The state-dict key. */
  key: string;
  /** netc's shape. */
  shape: number[];
  /** The shape in PyTorch. */
  torchShape: number[];
  /** How the values are rearranged between the two: HWIO <-> OIHW, [in, out] <-> [out, in]. */
  transform: 'hwio' | 'matrix' | 'none';
}

export interface TorchLayout {
  layout: TorchLayoutName;
  /** Every parameter of the graph, in execution order. */
  params: TorchParam[];
}

interface Layer {
  node: Node;
  /** Full names of the node's parameters, by spec. */
  full: (spec: ParamSpec) => string;
}

function layersOf(graph: Graph): Layer[] {
  return [...walkNodes(graph)].filter(({ node }) => node.params.length > 0).map(({ node, scope }) => ({ node, full: (spec) => scope(spec.name) }));
}

/** [kh, kw, in, out] of a conv node's weight. */
const convShape = (node: Node) => node.params[0].shape;

/** The module path of each layer in the official MSResNet layout, or undefined when the
 *  generator does not have that structure. */
function deepdeblurPaths(graph: Graph, layers: Layer[]): string[] | undefined {
  const scales = graph.outputs.length;
  if (scales < 1 || layers.some(({ node }) => node.op !== 'conv2d' || node.params.length !== 2)) return undefined;
  const perScale = (layers.length - (scales - 1)) / scales;
  if (!Number.isInteger(perScale) || perScale < 2 || perScale % 2 !== 0) return undefined;
  const blocks = (perScale - 2) / 2;
  const paths: string[] = [];
  let i = 0;
  for (let s = scales - 1; s >= 0; s--) {
    const first = convShape(layers[i].node);
    const feats = first[3];
    if (first[2] !== (s === scales - 1 ? 3 : 6)) return undefined;
    paths.push(`body_models.${s}.body.0`);
    i++;
    for (let b = 1; b <= blocks; b++) {
      for (const half of [0, 2]) {
        const [, , cin, cout] = convShape(layers[i].node);
        if (cin !== feats || cout !== feats) return undefined;
        paths.push(`body_models.${s}.body.${b}.body.${half}`);
        i++;
      }
    }
    const last = convShape(layers[i].node);
    if (last[2] !== feats || last[3] !== 3) return undefined;
    paths.push(`body_models.${s}.body.${blocks + 1}`);
    i++;
    if (s > 0) {
      const up = convShape(layers[i].node);
      if (up[2] !== 3 || up[3] !== 12) return undefined;
      paths.push(`conv_end_models.${s}.uppath.0`);
      i++;
    }
  }
  return paths;
}

function torchParam(node: Node, spec: ParamSpec, name: string, key: string): TorchParam {
  const s = spec.shape;
  if (node.op === 'conv2d' && s.length === 4) return { name, key, shape: s, torchShape: [s[3], s[2], s[0], s[1]], transform: 'hwio' };
  if (node.op === 'dense' && s.length === 2) return { name, key, shape: s, torchShape: [s[1], s[0]], transform: 'matrix' };
  return { name, key, shape: s, torchShape: s, transform: 'none' };
}

/** The state-dict layout of a graph's parameters. */
export function torchLayout(graph: Graph): TorchLayout {
  const layers = layersOf(graph);
  const official = deepdeblurPaths(graph, layers);
  const params: TorchParam[] = [];
  layers.forEach(({ node, full }, i) => {
    for (const spec of node.params) {
      const name = full(spec);
      const leaf = name.slice(name.lastIndexOf('.') + 1); // 'weight' or 'bias'
      const key = official ? `${official[i]}.${leaf}` : name.replaceAll('/', '.');
      params.push(torchParam(node, spec, name, key));
    }
  });
  return { layout: official ? 'deepdeblur' : 'general', params };
}

/** netc layout -> PyTorch layout of one parameter's values. */
export function toTorchValues(param: TorchParam, data: Float32Array): Float32Array {
  if (param.transform === 'none') return data;
  const out = new Float32Array(data.length);
  if (param.transform === 'matrix') {
    const [inF, outF] = param.shape;
    for (let i = 0; i < inF; i++) for (let o = 0; o < outF; o++) out[o * inF + i] = data[i * outF + o];
    return out;
  }
  const [kh, kw, ci, co] = param.shape;
  for (let y = 0; y < kh; y++) for (let x = 0; x < kw; x++) for (let i = 0; i < ci; i++) for (let o = 0; o < co; o++) {
    out[((o * ci + i) * kh + y) * kw + x] = data[((y * kw + x) * ci + i) * co + o];
  }
  return out;
}

/** PyTorch layout -> netc layout of one parameter's values. */
export function fromTorchValues(param: TorchParam, data: Float32Array): Float32Array {
  if (param.transform === 'none') return data;
  const out = new Float32Array(data.length);
  if (param.transform === 'matrix') {
    const [inF, outF] = param.shape;
    for (let i = 0; i < inF; i++) for (let o = 0; o < outF; o++) out[i * outF + o] = data[o * inF + i];
    return out;
  }
  const [kh, kw, ci, co] = param.shape;
  for (let y = 0; y < kh; y++) for (let x = 0; x < kw; x++) for (let i = 0; i < ci; i++) for (let o = 0; o < co; o++) {
    out[((y * kw + x) * ci + i) * co + o] = data[((o * ci + i) * kh + y) * kw + x];
  }
  return out;
}
