// `npm run bench`: the reference set, measured in one run on this machine, netc next to the
// PyTorch peer (../shared/peer/bench.py), as ratios. Prints one JSON object on stdout
// (progress on stderr) and writes it to bench/latest.json.
//   npm run bench                 # everything (about 15 minutes on 2 cores)
//   npm run bench -- --quick      # compile, conv, 256x256 forward, 128x128 train step only
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

const netcBench = (extra: string[], timeoutMs = 1_800_000) =>
  run(path.join(ROOT, 'bin/netc.js'), ['bench', MODEL, '--json', ...extra], timeoutMs) as Record<string, number>;

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
report.conv = await benchConv({ runs: 5, plainRuns: quick ? 0 : 1 });

const netc: Record<string, unknown> = {};
netc.cpuForward256 = netcBench(['--backend', 'cpu', '--input', '256x256', '--runs', '3']);
netc.cpuTrain128 = netcBench(['--backend', 'cpu', '--input', '128x128', '--train', '--runs', '5']);
if (!quick) {
  netc.cpuForward720p = netcBench(['--backend', 'cpu', '--input', '720x1280', '--runs', '3']);
  // WebGL on Mesa llvmpipe (~1.5 GFLOP/s) and plain tfjs CPU are far too slow for the full
  // model at 256x256 and 720p within a benchmark run: their forward is timed at 64x64.
  netc.webglForward64 = netcBench(['--backend', 'webgl', '--input', '64x64', '--runs', '3']);
  // One training step of the full model at 128x128 on WebGL takes minutes: one timed run,
  // after the forward warm-up inside `netc bench` has compiled the shaders.
  netc.webglTrain128 = netcBench(['--backend', 'webgl', '--input', '128x128', '--train', '--runs', '1', '--warmup', '0']);
  netc.tfjsCpuForward64 = netcBench(['--backend', 'tfjs-cpu', '--input', '64x64', '--runs', '3']);
}
// The bundled model (models/deblur-lite.net): a 1280x720 photo through `netc deblur`, wall
// time of the whole command (start, decode, deblur, PNG), and its forward pass.
const BUNDLED = 'models/deblur-lite.net';
netc.bundledForward720p = run(path.join(ROOT, 'bin/netc.js'), ['bench', BUNDLED, '--json', '--backend', 'cpu', '--input', '720x1280', '--runs', '3'], 600_000);
netc.bundledDeblur720p = deblurPhotoWallTime();
// Small variants, what people explore on a CPU: one training step at 128x128. A step is
// 50-600 ms, so 15 runs each (the median is steadier on a shared VM), and each row runs
// right before its PyTorch twin (below), so both see the same machine state. Both sides
// get 5 untimed steps first: training runs thousands of steps, and netc's first ~5 are
// slower (V8 compiles tfjs's JavaScript, the layout tuner times its first calls).
const SMALL_RUNS = '15';
const SMALL_WARMUP = '5';
const smallNetc = (v: (typeof SMALL_VARIANTS)[number]) =>
  (netc[v.key] = netcBench(['--backend', 'cpu', '--input', '128x128', '--train', '--runs', SMALL_RUNS, '--warmup', SMALL_WARMUP, '--batch', String(v.batch), ...v.set.flatMap((s) => ['--set', s])]));
if (args.has('--no-peer')) SMALL_VARIANTS.forEach(smallNetc);
report.netc = netc;

if (!args.has('--no-peer')) {
  if (spawnSync('/usr/bin/python3', ['-c', 'import torch'], { encoding: 'utf8' }).status !== 0) spawnSync('bash', [path.join(PEER, 'setup.sh')], { stdio: ['ignore', 2, 2] });
  const peer = run('/usr/bin/python3', [path.join(PEER, 'bench.py'), ...(quick ? [] : ['--full'])], 3_600_000) as Record<string, number>;
  report.pytorch = peer;
  // The same module exported to PyTorch (bench/torch_bench.py), for the rows the peer lacks.
  const exported = (file: string, set: string[], torchArgs: string[]) => {
    const dir = path.join(mkdtempSync(path.join(os.tmpdir(), 'netc-export-')), 'x');
    spawnSync(path.join(ROOT, 'bin/netc.js'), ['export', file, '--to', 'pytorch', '--out', dir, ...set.flatMap((s) => ['--set', s])], { cwd: ROOT });
    return run('/usr/bin/python3', [path.join(ROOT, 'bench/torch_bench.py'), dir, ...torchArgs], 600_000) as Record<string, number>;
  };
  const bundledPeer = exported(BUNDLED, [], ['720x1280', '3']);
  report.pytorchBundled = bundledPeer;
  const smallPeer: Record<string, Record<string, number>> = {};
  for (const v of SMALL_VARIANTS) {
    smallNetc(v);
    smallPeer[v.key] = exported(MODEL, v.set, ['128x128', SMALL_RUNS, '--train', '--batch', String(v.batch), '--warmup', SMALL_WARMUP]);
  }
  report.pytorchSmall = smallPeer;
  /** ours[ourKey] / theirs[theirKey], rounded; null when either did not run. */
  const ratioOf = (ours: unknown, theirs: Record<string, number> | undefined, ourKey: string, theirKey = ourKey) => {
    const a = (ours as Record<string, unknown> | undefined)?.[ourKey];
    const b = theirs?.[theirKey];
    return typeof a === 'number' && typeof b === 'number' ? Math.round((a / b) * 1000) / 1000 : null;
  };
  const ratio = (ours: unknown, key: string, theirs: string) => ratioOf(ours, peer, key, theirs);
  // Ratios netc / PyTorch (<= 1.0: netc is at least as fast). netc's forward includes the
  // Gaussian pyramid, so it is compared with PyTorch's forward including the pyramid.
  const onednn = (report.conv as Awaited<ReturnType<typeof benchConv>>).onednn;
  report.ratios = {
    forward256: ratio(netc.cpuForward256, 'forwardMs', 'msresnet_fwd_256_incl_pyramid_ms'),
    trainStep128: ratio(netc.cpuTrain128, 'trainStepMs', 'msresnet_train_step_128_ms'),
    forward720p: ratio(netc.cpuForward720p, 'forwardMs', 'msresnet_fwd_720p_ms'),
    convForward: ratio(onednn, 'forwardMs', 'conv5x5_64_fwd_ms'),
    convForwardBackward: ratio(onednn, 'forwardBackwardMs', 'conv5x5_64_fwdbwd_ms'),
    bundledForward720p: ratioOf(netc.bundledForward720p, bundledPeer, 'forwardMs'),
    ...Object.fromEntries(SMALL_VARIANTS.map((v) => [v.key, ratioOf(netc[v.key], smallPeer[v.key], 'trainStepMs')])),
  };
}

const json = JSON.stringify(report, null, 2);
writeFileSync(path.join(ROOT, 'bench/latest.json'), json + '\n');
console.log(json);
