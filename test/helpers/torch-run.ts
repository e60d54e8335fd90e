// Running a netc PyTorch export (model.py) in Debian's torch on given weights and input
// (test/pytorch/run_module.py), for tests that compare it with PyTorch's or netc's numbers.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { expect } from 'vitest';
import { torchLayout, type TorchParam } from '../../src/compiler/emit/torch-layout.js';
import type { Graph } from '../../src/compiler/ir.js';
import type { HostArray } from '../../src/runtime/params.js';
import { ROOT } from './spawn-cli.js';

const tmp = () => mkdtempSync(path.join(tmpdir(), 'netc-torch-run-'));

/** Runs class `cls` of the export in `dir` with each parameter's PyTorch-layout values from
 *  `torchValues`, on an NHWC input; returns every output, NHWC, concatenated. */
export function runExport(dir: string, cls: string, graph: Graph, torchValues: (param: TorchParam) => Float32Array, input: HostArray): Float32Array {
  const work = tmp();
  const manifest: { key: string; shape: number[]; offset: number }[] = [];
  const chunks: Buffer[] = [];
  let offset = 0;
  for (const p of torchLayout(graph).params) {
    const values = torchValues(p);
    expect(values.length, p.key).toBe(p.torchShape.reduce((a, b) => a * b, 1));
    manifest.push({ key: p.key, shape: p.torchShape, offset });
    chunks.push(Buffer.from(values.buffer, values.byteOffset, values.byteLength));
    offset += values.length;
  }
  writeFileSync(path.join(work, 'weights.json'), JSON.stringify(manifest));
  writeFileSync(path.join(work, 'weights.bin'), Buffer.concat(chunks));
  writeFileSync(path.join(work, 'in.bin'), input.data);
  const args = [path.join(ROOT, 'test/pytorch/run_module.py'), dir, cls, path.join(work, 'weights.json'), path.join(work, 'in.bin'), input.shape.join(','), path.join(work, 'out.bin')];
  const run = spawnSync('/usr/bin/python3', args, { encoding: 'utf8' });
  expect(run.status, run.stderr).toBe(0);
  const bytes = readFileSync(path.join(work, 'out.bin'));
  return new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
}
