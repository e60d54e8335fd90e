// `netc compile` and `netc diff`: check a model file, infer shapes, print what it costs,
// export DOT / ONNX.
import type { Command } from 'commander';
import { emitDot } from '../compiler/emit/dot.js';
import { emitOnnx, type WeightSource } from '../compiler/emit/onnx.js';
import { UserError } from '../errors.js';
import type { Program } from '../compiler/ir.js';
import { gflop, int, mb, shape, summarize, type Summary } from '../compiler/summary.js';
import { writeFileAtomic } from '../runtime/fsutil.js';
import { collectSet, compileForCli, parseSize } from './options.js';

interface CompileFlags { input: string; set?: Record<string, number>; json?: boolean; dot?: string; onnx?: string; weights?: string; print?: string }

export function registerCompile(program: Command): void {
  program
    .command('compile')
    .description('check a model file, infer every shape and print what it costs')
    .argument('<file>', 'the .net model file')
    .option('--input <HxW>', 'generator input size', '256x256')
    .option('--set <name=value>', 'override a top-level constant (repeatable)', collectSet)
    .option('--json', 'print one JSON object')
    .option('--dot <out.dot>', 'write the graph for Graphviz')
    .option('--onnx <out.onnx>', 'write the generator as ONNX (initial weights, or those of --weights)')
    .option('--weights <dir>', 'checkpoint or run directory whose weights the ONNX file carries')
    .option('--print <stage>', "print a compiler stage: 'ast' or 'ir'")
    .action(async (file: string, flags: CompileFlags) => {
      if (flags.print && !['ast', 'ir'].includes(flags.print)) throw new UserError(`--print ${flags.print}: expected 'ast' or 'ir'`);
      if (flags.weights !== undefined && flags.onnx === undefined) throw new UserError(`--weights ${flags.weights}: only used with --onnx (the weights the ONNX file carries)`);
      let ast: unknown;
      const { program: prog } = compileForCli(file, {
        input: parseSize(flags.input),
        set: flags.set,
        debug: flags.print === 'ast' ? (stage, value) => { if (stage === 'ast') ast = value; } : undefined,
      });
      if (flags.print) {
        console.log(JSON.stringify(flags.print === 'ast' ? ast : prog, (k, v) => (k === 'loc' ? undefined : v), 2));
        return;
      }
      if (flags.dot) await writeFileAtomic(flags.dot, emitDot(Object.values(prog.models)));
      if (flags.onnx) await writeFileAtomic(flags.onnx, emitOnnx(prog.models[prog.generator], flags.weights ? await checkpointWeights(prog, flags.weights) : undefined));
      const summary = summarize(prog);
      console.log(flags.json ? JSON.stringify(summary, null, 2) : formatSummary(summary, prog));
      if (!flags.json) {
        if (flags.dot) console.log(`wrote ${flags.dot}`);
        if (flags.onnx) console.log(`wrote ${flags.onnx}`);
      }
    });

  program
    .command('diff')
    .description('compare the cost of two model files side by side')
    .argument('<a>', 'first .net file')
    .argument('<b>', 'second .net file')
    .option('--input <HxW>', 'generator input size', '256x256')
    .option('--set <name=value>', 'override a top-level constant of both files (repeatable)', collectSet)
    .option('--json', 'print one JSON object')
    .action((a: string, b: string, flags: { input: string; set?: Record<string, number>; json?: boolean }) => {
      const input = parseSize(flags.input);
      const left = summarize(compileForCli(a, { input, set: flags.set }).program);
      const right = summarize(compileForCli(b, { input, set: flags.set }).program);
      console.log(flags.json ? JSON.stringify(diffSummaries(left, right), null, 2) : formatDiff(a, b, left, right));
    });
}

/** Weights of a checkpoint checked against the program. The runtime (and tfjs) loads only
 *  when asked for, so plain `netc compile` stays fast. */
export async function checkpointWeights(prog: Program, dir: string): Promise<WeightSource> {
  const { readCheckpoint, listLines } = await import('../runtime/checkpoint.js');
  const { listParams } = await import('../runtime/params.js');
  const checkpoint = await readCheckpoint(dir, {
    expect: { params: listParams(prog.models[prog.generator]), describe: (mismatches, _meta, at) => `${at}: does not fit ${prog.file}:\n  ${listLines(mismatches)}` },
  });
  return (spec) => checkpoint.params.get(spec.name)?.data;
}


function formatSummary(s: Summary, prog: Program): string {
  const lines: string[] = [];
  lines.push(`${s.file}: ${s.model}, input ${shape(s.input)}`);
  lines.push('');
  lines.push(`  ${'scope'.padEnd(44)} ${'params'.padStart(12)} ${'GFLOP'.padStart(10)} ${'convs'.padStart(6)}`);
  for (const r of s.rows) {
    lines.push(`  ${('  '.repeat(r.depth - 1) + r.scope.split(' / ').pop()).padEnd(44)} ${int(r.params).padStart(12)} ${gflop(r.flops).padStart(10)} ${String(r.convs).padStart(6)}`);
  }
  lines.push(`  ${'total'.padEnd(44)} ${int(s.params).padStart(12)} ${gflop(s.flops).padStart(10)} ${String(s.convs).padStart(6)}`);
  lines.push('');
  lines.push(`  outputs:   ${s.outputs.map((o) => `${o.name} ${shape(o.shape)} (receptive field ${s.receptiveField[o.name] ?? 'whole image'} px)`).join(', ')}`);
  lines.push(`  memory:    peak activations ${mb(s.peakActivationBytes)} (float32, batch 1, inference); weights ${mb(s.params * 4)}`);
  if (s.discriminator) lines.push(`  ${s.discriminator.model}: ${int(s.discriminator.params)} params, ${gflop(s.discriminator.flops)} GFLOP, ${s.discriminator.convs} convs`);
  if (prog.loss) lines.push(`  loss:      ${prog.loss.terms.map((t) => t.name).join(', ')} (objective '${prog.loss.objective}')`);
  const t = s.train;
  if (t) {
    const schedule = t.schedule.kind === 'step' ? `, lr x${t.schedule.factor} at ${t.schedule.at.map(int).join(', ')}`
      : t.schedule.kind === 'cosine' ? `, cosine to ${t.schedule.min}` : '';
    const average = t.average ? `; weights averaged (ema ${t.average.decay})` : '';
    lines.push(`  train:     adam lr ${t.optimizer.lr}${schedule}; batch ${t.batch}, patch ${t.patch}, ${int(t.iterations)} iterations; augment ${t.augment.map((a) => a.kind).join(', ') || 'none'}${average}`);
  }
  return lines.join('\n');
}

interface SummaryDiff { a: Summary; b: Summary; delta: { params: number; flops: number; convs: number; peakActivationBytes: number } }

function diffSummaries(a: Summary, b: Summary): SummaryDiff {
  return { a, b, delta: { params: b.params - a.params, flops: b.flops - a.flops, convs: b.convs - a.convs, peakActivationBytes: b.peakActivationBytes - a.peakActivationBytes } };
}

function formatDiff(fa: string, fb: string, a: Summary, b: Summary): string {
  const rows: [string, string, string, string][] = [];
  const signed = (n: number, f: (x: number) => string) => (n > 0 ? `+${f(n)}` : n < 0 ? `-${f(-n)}` : '=');
  const pct = (x: number, y: number) => (x ? ` (${((100 * (y - x)) / x).toFixed(1)}%)` : '');
  rows.push(['params', int(a.params), int(b.params), signed(b.params - a.params, int) + pct(a.params, b.params)]);
  rows.push(['GFLOP', gflop(a.flops), gflop(b.flops), signed(b.flops - a.flops, gflop) + pct(a.flops, b.flops)]);
  rows.push(['convs', String(a.convs), String(b.convs), signed(b.convs - a.convs, String)]);
  rows.push(['scales', String(a.scales), String(b.scales), signed(b.scales - a.scales, String)]);
  rows.push(['peak activations', mb(a.peakActivationBytes), mb(b.peakActivationBytes), signed(b.peakActivationBytes - a.peakActivationBytes, mb)]);
  const scopes = [...new Set([...a.rows, ...b.rows].filter((r) => r.depth <= 2).map((r) => r.scope))];
  for (const scope of scopes) {
    const ra = a.rows.find((r) => r.scope === scope);
    const rb = b.rows.find((r) => r.scope === scope);
    rows.push([`  ${scope} params`, ra ? int(ra.params) : '-', rb ? int(rb.params) : '-', signed((rb?.params ?? 0) - (ra?.params ?? 0), int)]);
  }
  const constants = [...new Set([...Object.keys(a.constants), ...Object.keys(b.constants)])].filter((k) => a.constants[k] !== b.constants[k]);
  for (const k of constants) rows.push([`  constant ${k}`, String(a.constants[k] ?? '-'), String(b.constants[k] ?? '-'), 'changed']);
  const w = [Math.max(...rows.map((r) => r[0].length)), Math.max(fa.length, ...rows.map((r) => r[1].length)), Math.max(fb.length, ...rows.map((r) => r[2].length))];
  const line = (r: string[]) => `${r[0].padEnd(w[0])}  ${r[1].padStart(w[1])}  ${r[2].padStart(w[2])}  ${r[3]}`;
  return [line(['', fa, fb, 'difference']), ...rows.map(line)].join('\n');
}
