// `npm run fuzz -- [--cases N] [--format pt,png,...] [--seed S] [--only I] [--json]`: runs
// the mutation fuzzers of fuzz/targets.ts, each format in a child process watched from here.
// A finding is a case that throws anything but the expected refusal (a crash, an internal
// error), takes more than CASE_SECONDS, raises the process's peak memory past RSS_LIMIT_MIB,
// or stops reporting progress for HANG_SECONDS (a hang: the child is killed). Findings are
// printed with the case number (`--only I` reruns it) and the input kept in the work folder;
// the exit status is 1 when there is one. `npm test` runs a few hundred cases of each
// (test/fuzz.test.ts).
import { fork } from 'node:child_process';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { TARGETS, caseRandom, workDir } from './targets.js';

const CASE_SECONDS = 10;
const RSS_LIMIT_MIB = 1536;
const HANG_SECONDS = 60;

interface Summary { format: string; cases: number; accepted: number; refused: number; findings: string[]; seconds: number; slowestCase: number; peakRssMiB: number }
type Message = { progress: number } | { finding: string } | { summary: Summary };

async function child(format: string, first: number, count: number, seed: number): Promise<void> {
  const send = (m: Message) => new Promise<void>((resolve) => process.send!(m, () => resolve()));
  const work = await workDir();
  const started = performance.now();
  const run = await TARGETS[format].setup(work);
  const summary: Summary = { format, cases: 0, accepted: 0, refused: 0, findings: [], seconds: 0, slowestCase: 0, peakRssMiB: 0 };
  for (let i = first; i < first + count; i++) {
    await send({ progress: i });
    const caseDir = path.join(work, `case-${i}`);
    await fs.mkdir(caseDir);
    const t = performance.now();
    let finding: string | undefined;
    try {
      summary[await run(caseRandom(seed, i), caseDir)] += 1;
    } catch (err) {
      finding = `case ${i}: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`.split('\n').slice(0, 6).join('\n');
    }
    const seconds = (performance.now() - t) / 1000;
    const rss = process.resourceUsage().maxRSS / 1024;
    if (!finding && seconds > CASE_SECONDS) finding = `case ${i}: took ${seconds.toFixed(1)} s`;
    if (!finding && rss > RSS_LIMIT_MIB) finding = `case ${i}: peak memory reached ${rss.toFixed(0)} MiB`;
    summary.cases += 1;
    summary.slowestCase = Math.max(summary.slowestCase, seconds);
    summary.peakRssMiB = Math.max(summary.peakRssMiB, rss);
    if (finding) {
      summary.findings.push(`${finding}\n  input kept in ${caseDir}`);
      await send({ finding });
      if (rss > RSS_LIMIT_MIB) break; // every later case would be reported too
    } else await fs.rm(caseDir, { recursive: true, force: true });
  }
  summary.seconds = (performance.now() - started) / 1000;
  if (!summary.findings.length) await fs.rm(work, { recursive: true, force: true });
  await send({ summary });
}

function runFormat(format: string, first: number, count: number, seed: number): Promise<Summary> {
  return new Promise((resolve) => {
    const script = fileURLToPath(import.meta.url);
    const worker = fork(script, ['--child', format, '--first', String(first), '--cases', String(count), '--seed', String(seed)], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    let last = first - 1;
    let summary: Summary | undefined;
    let hung = false;
    const findings: string[] = [];
    let timer = setTimeout(() => {}, 0);
    const watch = () => {
      clearTimeout(timer);
      timer = setTimeout(() => {
        hung = true;
        worker.kill('SIGKILL');
      }, HANG_SECONDS * 1000);
    };
    watch();
    worker.on('message', (m: Message) => {
      watch();
      if ('progress' in m) last = m.progress;
      else if ('finding' in m) findings.push(m.finding);
      else summary = m.summary;
    });
    worker.on('exit', (code, signal) => {
      clearTimeout(timer);
      if (summary) return resolve(summary);
      const why = hung ? `case ${last}: no progress for ${HANG_SECONDS} s (a hang); killed` : `case ${last}: the process died (${signal ?? `exit ${code}`})`;
      resolve({ format, cases: last - first, accepted: 0, refused: 0, findings: [...findings, why], seconds: 0, slowestCase: 0, peakRssMiB: 0 });
    });
  });
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      cases: { type: 'string', default: '1000' }, format: { type: 'string', default: Object.keys(TARGETS).join(',') },
      seed: { type: 'string', default: '20171124' }, only: { type: 'string' }, json: { type: 'boolean', default: false },
      child: { type: 'string' }, first: { type: 'string', default: '0' },
    },
  });
  const whole = (flag: string, v: string) => {
    if (!/^\d+$/.test(v)) throw new Error(`--${flag} ${v}: expected a whole number`);
    return Number(v);
  };
  const seed = whole('seed', values.seed!);
  if (values.child) return child(values.child, whole('first', values.first!), whole('cases', values.cases!), seed);
  const formats = values.format!.split(',');
  for (const f of formats) if (!(f in TARGETS)) throw new Error(`--format ${f}: one of ${Object.keys(TARGETS).join(', ')}`);
  const [first, count] = values.only !== undefined ? [whole('only', values.only), 1] : [0, whole('cases', values.cases!)];
  const summaries: Summary[] = [];
  for (const format of formats) {
    const s = await runFormat(format, first, count, seed);
    summaries.push(s);
    if (!values.json) {
      console.log(`${format}: ${s.cases} cases (${s.refused} refused, ${s.accepted} accepted) in ${s.seconds.toFixed(0)} s; slowest case ${s.slowestCase.toFixed(2)} s; peak memory ${s.peakRssMiB.toFixed(0)} MiB; ${s.findings.length ? `${s.findings.length} FINDINGS` : 'no findings'}`);
      for (const f of s.findings) console.log(`  ${f.replace(/\n/g, '\n  ')}`);
    }
  }
  if (values.json) console.log(JSON.stringify(summaries));
  process.exitCode = summaries.some((s) => s.findings.length) ? 1 : 0;
}

await main();
