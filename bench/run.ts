// `npm run bench`: the reference set, measured in one run on this machine, netc next to the
// PyTorch peer (../shared/peer/bench.py, and bench/torch_bench.py on the same text exported
// to PyTorch), as ratios from alternating rounds (below). Prints one JSON object on stdout
// (progress on stderr) and writes it to bench/latest.json.
//   npm run bench                 # everything (35-50 minutes on 2 cores)
//   npm run bench -- --quick      # without the full model's 720p forward and the WebGL and
//                                 # tfjs-cpu rows (about 12 minutes)
//   npm run bench -- --no-peer    # without PyTorch
// Nothing else may run on the machine meanwhile: the numbers would be worthless.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { benchCompile } from './compile.js';
import { cpuPeak } from '../src/runtime/cpu-peak.js';
import { benchConv } from './conv.js';
import { pacedPair } from './paced.js';
import { median } from '../src/runtime/bench.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const PEER = path.resolve(ROOT, '../shared/peer');
const MODEL = 'models/deepdeblur-pytorch.net';
const args = new Set(process.argv.slice(2));
const quick = args.has('--quick');
const log = (...m: unknown[]) => console.error('[bench]', ...m);

/** The small-variant training rows (issue 13): blocks=4 feats=32 and blocks=2 feats=16 of
 *  deepdeblur-pytorch.net, batch 1 and 4, each next to the same text exported to PyTorch. */
const SMALL_VARIANTS = [[4, 32], [2, 16]].flatMap(([blocks, feats]) => [1, 4].map((batch) => ({
  key: `trainB${blocks}F${feats}Batch${batch}`, batch, set: [`blocks=${blocks}`, `feats=${feats}`],
})));

function run(cmd: string, argv: string[], timeoutMs: number): unknown {
  log(`${cmd} ${argv.join(' ')}`);
  const r = spawnSync(cmd, argv, { cwd: ROOT, encoding: 'utf8', timeout: timeoutMs, maxBuffer: 64 << 20 });
  if (r.status !== 0) {
    log(`failed (status ${r.status}): ${r.stderr.trim().split('\n').slice(-3).join(' | ')}`);
    return { error: r.stderr.trim().split('\n').slice(-3).join('\n') || `status ${r.status}` };
  }
  // netc prints one line of JSON; the peer prints it indented over many lines.
  const result = JSON.parse(r.stdout.trim());
  log('->', JSON.stringify(result).slice(0, 2000));
  return result;
}

const netcBench = (extra: string[], file = MODEL) =>
  run(path.join(ROOT, 'bin/netc.js'), ['bench', file, '--json', ...extra], 1_800_000) as Record<string, unknown>;

/** Seconds of `netc deblur` (bundled model, cpu backend) on a 1280x720 photo: the example
 *  photo scaled up by ffmpeg, so the content is a real picture. Median of 3. */
function deblurPhotoWallTime(): Record<string, unknown> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'netc-bench-'));
  const photo = path.join(dir, 'photo-1280x720.png');
  spawnSync('ffmpeg', ['-v', 'error', '-i', path.join(ROOT, 'examples/bedroom-shake-blurry.png'), '-vf', 'scale=1280:720', photo]);
  const seconds: number[] = [];
  for (let i = 0; i < 3; i++) {
    const started = performance.now();
    const r = spawnSync(path.join(ROOT, 'bin/netc.js'), ['deblur', photo, '--out', path.join(dir, `out${i}.png`)], { cwd: ROOT, encoding: 'utf8' });
    if (r.status !== 0) return { error: r.stderr.trim().split('\n').slice(-2).join('\n') };
    seconds.push((performance.now() - started) / 1000);
  }
  const sorted = [...seconds].sort((a, b) => a - b);
  log('bundled model, netc deblur 1280x720 (s):', seconds.map((s) => s.toFixed(2)).join(' '));
  return { input: [720, 1280], seconds: sorted[1], runsSeconds: seconds };
}

const report: Record<string, unknown> = {
  date: new Date().toISOString(),
  machine: { cpu: os.cpus()[0]?.model, cores: os.cpus().length, memoryGiB: Math.round(os.totalmem() / 2 ** 30), node: process.version, peak: cpuPeak() },
};

report.compile = ['models/deepdeblur.net', MODEL].map((f) => benchCompile(path.join(ROOT, f)));
log('compile', JSON.stringify(report.compile));

// This VM's speed drifts by up to a quarter within a minute (the same step measured 28 ms and
// 44 ms ten seconds apart), for netc and PyTorch alike, so a ratio of two measurements taken
// minutes apart says as much about the drift as about the code. The peer's rows (its script
// times a whole set at once) therefore come from alternating rounds, netc then PyTorch,
// repeated: each side's runs pooled over its rounds, the medians of the pools compared. The
// rows of exported .net text are timed closer still, in pairs of single runs (pacedRow).
const PEER_ROUNDS = 2;

type Json = Record<string, unknown>;
/** `rounds` pooled: each `<key>RunsMs` (netc) or `<key>_runs_ms` (the peer) concatenated and
 *  its median (and the peer's minimum) recomputed, GFLOP/s and fractions of peak from that
 *  median. The peer's other derived fields are those of its first round. */
function pooled(rounds: Json[]): Json {
  const first = rounds.find((r) => !('error' in r)) ?? rounds[0];
  const merged: Json = { ...first, rounds: rounds.length };
  for (const key of Object.keys(first)) {
    const runs = key.endsWith('RunsMs') ? key.slice(0, -'RunsMs'.length) : key.endsWith('_runs_ms') ? key.slice(0, -'_runs_ms'.length) : undefined;
    if (runs === undefined) continue;
    const all = rounds.flatMap((r) => (Array.isArray(r[key]) ? (r[key] as number[]) : []));
    merged[key] = all;
    const netcKey = key.endsWith('RunsMs');
    merged[netcKey ? `${runs}Ms` : `${runs}_ms`] = Math.round(median(all) * 1000) / 1000;
    if (!netcKey && `${runs}_min_ms` in first) merged[`${runs}_min_ms`] = Math.min(...all);
  }
  const peak = (first.cpuPeak as { gflopPerSecond?: number } | undefined)?.gflopPerSecond;
  for (const [gflop, ms, rate, fraction] of [['gflop', 'forwardMs', 'gflopPerSecond', 'forwardPeakFraction'], ['trainGflop', 'trainStepMs', 'trainGflopPerSecond', 'trainPeakFraction']]) {
    if (typeof merged[gflop] !== 'number' || typeof merged[ms] !== 'number') continue;
    merged[rate] = (merged[gflop] as number) / ((merged[ms] as number) / 1000);
    if (peak) merged[fraction] = Math.round(((merged[rate] as number) / peak) * 1000) / 1000;
  }
  return merged;
}

const netc: Record<string, unknown> = {};
const withPeer = !args.has('--no-peer');
if (withPeer && spawnSync('/usr/bin/python3', ['-c', 'import torch'], { encoding: 'utf8' }).status !== 0) spawnSync('bash', [path.join(PEER, 'setup.sh')], { stdio: ['ignore', 2, 2] });

// The rows against the PyTorch peer (../shared/peer/bench.py: one 64-channel conv, the full
// model's 256x256 forward and 128x128 training step, --full its 720p forward).
const convRounds: Json[] = [];
const peerRounds: Json[] = [];
const referenceRounds: Record<string, Json[]> = { cpuForward256: [], cpuTrain128: [], cpuForward720p: [] };
for (let round = 0; round < (withPeer ? PEER_ROUNDS : 1); round++) {
  const conv = await benchConv({ runs: 5, plainRuns: quick || round > 0 ? 0 : 1 });
  convRounds.push(conv as unknown as Json);
  referenceRounds.cpuForward256.push(netcBench(['--backend', 'cpu', '--input', '256x256', '--runs', '3']));
  referenceRounds.cpuTrain128.push(netcBench(['--backend', 'cpu', '--input', '128x128', '--train', '--runs', '5']));
  if (!quick) referenceRounds.cpuForward720p.push(netcBench(['--backend', 'cpu', '--input', '720x1280', '--runs', '3']));
  if (withPeer) peerRounds.push(run('/usr/bin/python3', [path.join(PEER, 'bench.py'), ...(quick ? [] : ['--full'])], 3_600_000) as Json);
}
report.conv = { ...convRounds[0], onednn: pooled(convRounds.map((c) => c.onednn as Json)) };
for (const [key, rounds] of Object.entries(referenceRounds)) if (rounds.length) netc[key] = pooled(rounds);
if (!quick) {
  // WebGL on Mesa llvmpipe (~1.5 GFLOP/s) and plain tfjs CPU are far too slow for the full
  // model at 256x256 and 720p within a benchmark run: their forward is timed at 64x64.
  netc.webglForward64 = netcBench(['--backend', 'webgl', '--input', '64x64', '--runs', '3']);
  // One training step of the full model at 128x128 on WebGL takes minutes: one timed run,
  // after the forward warm-up inside `netc bench` has compiled the shaders.
  netc.webglTrain128 = netcBench(['--backend', 'webgl', '--input', '128x128', '--train', '--runs', '1', '--warmup', '0']);
  netc.tfjsCpuForward64 = netcBench(['--backend', 'tfjs-cpu', '--input', '64x64', '--runs', '3']);
}
const peer = withPeer ? pooled(peerRounds) : undefined;
if (peer) report.pytorch = peer;

// The same module exported to PyTorch (bench/torch_bench.py), for the rows the peer lacks.
const exportedDir = (file: string, set: string[]) => {
  const dir = path.join(mkdtempSync(path.join(os.tmpdir(), 'netc-export-')), 'x');
  spawnSync(path.join(ROOT, 'bin/netc.js'), ['export', file, '--to', 'pytorch', '--out', dir, ...set.flatMap((s) => ['--set', s])], { cwd: ROOT });
  return dir;
};
/** A row of netc next to the same text exported to PyTorch, timed in paced pairs
 *  (bench/paced.ts): `warmup` untimed runs on each side, then `pairs` pairs of runs in turns.
 *  The row's ratio is the median of the pairs' ratios. Without the peer, netc alone. */
async function pacedRow(file: string, set: string[], input: string, train: boolean, batch: number, warmup: number, pairs: number) {
  const trainArgs = train ? ['--train'] : [];
  const netcArgv = ['--backend', 'cpu', '--input', input, ...trainArgs, '--batch', String(batch), '--runs', String(pairs), '--warmup', String(warmup), ...set.flatMap((s) => ['--set', s])];
  if (!withPeer) return { ours: pooled([netcBench(netcArgv, file)]) };
  const dir = exportedDir(file, set);
  const torchArgv = [path.join(ROOT, 'bench/torch_bench.py'), dir, input, String(pairs), ...trainArgs, '--batch', String(batch), '--warmup', String(warmup), '--paced'];
  log(`paced pairs: netc bench ${file} ${netcArgv.join(' ')} | torch_bench.py ${torchArgv.slice(1).join(' ')}`);
  try {
    const pair = await pacedPair([path.join(ROOT, 'bin/netc.js'), ['bench', file, '--json', '--paced', ...netcArgv]], ['/usr/bin/python3', torchArgv], pairs, ROOT);
    log('-> ratio', pair.ratio, 'pairs', pair.pairRatios.join(' '));
    return { ours: { ...pooled([pair.ours]), pairRatios: pair.pairRatios }, theirs: pair.theirs, ratio: pair.ratio };
  } catch (error) {
    log(`failed: ${(error as Error).message}`);
    return { ours: { error: (error as Error).message }, ratio: null };
  }
}

// The bundled model (models/deblur-lite.net): its forward at 1280x720 (5 pairs after one
// warm-up run each), and a 1280x720 photo through `netc deblur`, wall time of the whole
// command (start, decode, deblur, PNG).
const BUNDLED = 'models/deblur-lite.net';
const bundled = await pacedRow(BUNDLED, [], '720x1280', false, 1, 1, 5);
netc.bundledForward720p = bundled.ours;
if (bundled.theirs) report.pytorchBundled = bundled.theirs;
netc.bundledDeblur720p = deblurPhotoWallTime();

// Small variants, what people explore on a CPU: one training step at 128x128 (30-800 ms),
// in the steady state a training run of thousands of steps lives in: 20 untimed steps on
// each side, then 30 pairs. netc's first ~15 steps are slower (V8 compiles tfjs's
// JavaScript, the kernel tuners time their first calls): blocks=2 feats=16 ran 45-65 ms in
// steps 2-10 and ~40 ms from step 15 on, so 3 warm-up steps measured the warm-up.
const smallPeer: Record<string, Json> = {};
const smallRatios: Record<string, number | null> = {};
for (const v of SMALL_VARIANTS) {
  const row = await pacedRow(MODEL, v.set, '128x128', true, v.batch, 20, 30);
  netc[v.key] = row.ours;
  if (row.theirs) smallPeer[v.key] = row.theirs;
  smallRatios[v.key] = row.ratio ?? null;
}
report.netc = netc;

if (peer) {
  report.pytorchSmall = smallPeer;
  /** ours[key] / the peer's [theirs], rounded; null when either did not run. */
  const ratio = (ours: unknown, key: string, theirs: string) => {
    const a = (ours as Json | undefined)?.[key];
    const b = peer[theirs];
    return typeof a === 'number' && typeof b === 'number' ? Math.round((a / b) * 1000) / 1000 : null;
  };
  // Ratios netc / PyTorch (<= 1.0: netc is at least as fast). netc's forward includes the
  // Gaussian pyramid, so it is compared with PyTorch's forward including the pyramid.
  const onednn = (report.conv as Json).onednn;
  report.ratios = {
    forward256: ratio(netc.cpuForward256, 'forwardMs', 'msresnet_fwd_256_incl_pyramid_ms'),
    trainStep128: ratio(netc.cpuTrain128, 'trainStepMs', 'msresnet_train_step_128_ms'),
    forward720p: ratio(netc.cpuForward720p, 'forwardMs', 'msresnet_fwd_720p_ms'),
    convForward: ratio(onednn, 'forwardMs', 'conv5x5_64_fwd_ms'),
    convForwardBackward: ratio(onednn, 'forwardBackwardMs', 'conv5x5_64_fwdbwd_ms'),
    bundledForward720p: bundled.ratio ?? null,
    ...smallRatios,
  };
}

const json = JSON.stringify(report, null, 2);
writeFileSync(path.join(ROOT, 'bench/latest.json'), json + '\n');
console.log(json);
