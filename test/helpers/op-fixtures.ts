// The PyTorch reference values of upsample and avg_pool (test/fixtures/ops, made by make.py
// there with Debian's torch) and the updown.net network they come with.
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { fromTorchValues, torchLayout } from '../../src/compiler/emit/torch-layout.js';
import type { Graph } from '../../src/compiler/ir.js';
import { listParams } from '../../src/compiler/walk.js';
import type { HostArray } from '../../src/runtime/params.js';
import { ROOT } from './spawn-cli.js';

export const OPS_FIXTURES = path.join(ROOT, 'test/fixtures/ops');
export const UPDOWN_MODEL = path.join(OPS_FIXTURES, 'updown.net');

interface Manifest {
  cases: { name: string; layer: string }[];
  arrays: { name: string; shape: number[]; offset: number }[];
}

const manifest = JSON.parse(readFileSync(path.join(OPS_FIXTURES, 'ops.json'), 'utf8')) as Manifest;
const bytes = readFileSync(path.join(OPS_FIXTURES, 'ops.bin'));
const values = new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));

/** One array of the fixture: NHWC images, OIHW conv weights (PyTorch's layout). */
export function opArray(name: string): HostArray {
  const entry = manifest.arrays.find((a) => a.name === name);
  if (!entry) throw new Error(`no array '${name}' in ops.json`);
  const size = entry.shape.reduce((a, b) => a * b, 1);
  return { shape: entry.shape, data: values.slice(entry.offset, entry.offset + size) };
}

/** The op cases: a layer in netc's syntax and its name (arrays `${name}.x|w|y|dx`). */
export const OP_CASES = manifest.cases;

/** updown.net's conv weights from the fixture as PyTorch has them (OIHW), by netc parameter
 *  name (the fixture lists them in execution order: conv0, conv1, conv2). */
export function updownTorchWeights(graph: Graph): Map<string, HostArray> {
  const layout = new Map(torchLayout(graph).params.map((p) => [p.name, p]));
  return new Map(listParams(graph).map((param, i) => {
    const torch = opArray(`updown.conv${Math.floor(i / 2)}.${i % 2 === 0 ? 'weight' : 'bias'}`);
    const expected = layout.get(param.name)!.torchShape;
    if (torch.shape.join() !== expected.join()) throw new Error(`${param.name}: fixture ${torch.shape} vs ${expected}`);
    return [param.name, torch];
  }));
}

/** The same weights in netc's layout (HWIO). */
export function updownWeights(graph: Graph): Map<string, HostArray> {
  const layout = new Map(torchLayout(graph).params.map((p) => [p.name, p]));
  const params = new Map(listParams(graph).map((p) => [p.name, p]));
  return new Map([...updownTorchWeights(graph)].map(([name, torch]) => [name, { shape: params.get(name)!.shape, data: fromTorchValues(layout.get(name)!, torch.data) }]));
}
