// Two benchmark processes timed run by run in turns (`netc bench --paced` and
// `bench/torch_bench.py --paced`): each warms up alone, then they take turns, one run each,
// the order swapped every pair (netc-PyTorch, PyTorch-netc, ...). The process waiting for its
// turn is blocked on stdin, so each run has the machine to itself, and the two runs of a
// pair are at most a second or so apart: on a VM whose speed jumps between phases lasting
// seconds (one PyTorch round ran 130 ms per step, then 220 ms from its seventh step on), each
// pair sees the same phase, where whole rounds of runs minutes apart did not. Each process
// exits only when both are done (its teardown would otherwise overlap the other's last run).
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { median } from '../src/runtime/bench.js';

type Json = Record<string, unknown>;

/** A pause before each run: PyTorch's OpenMP threads spin a while after each parallel
 *  region before they sleep (libgomp's default), which would take a core from the next run. */
const SETTLE_MS = 100;
const settle = () => new Promise((resolve) => setTimeout(resolve, SETTLE_MS));

/** One paced benchmark process. */
class Paced {
  private readonly lines: AsyncIterator<string>;
  private stderr = '';

  private constructor(
    readonly label: string,
    private readonly child: ReturnType<typeof spawn>,
  ) {
    this.lines = createInterface({ input: child.stdout! })[Symbol.asyncIterator]();
    child.stderr!.on('data', (chunk: Buffer) => {
      this.stderr = (this.stderr + chunk.toString()).slice(-4000);
    });
  }

  /** Starts `cmd argv` and waits for its warm-up to end. */
  static async start(cmd: string, argv: string[], cwd: string): Promise<Paced> {
    const paced = new Paced(`${cmd} ${argv.join(' ')}`, spawn(cmd, argv, { cwd, stdio: ['pipe', 'pipe', 'pipe'] }));
    const line = await paced.next();
    if (line !== 'ready') throw new Error(`expected 'ready', got '${line}'`);
    return paced;
  }

  /** One timed run; its milliseconds as the process measured them. */
  async run(): Promise<number> {
    this.child.stdin!.write('go\n');
    const ms = Number(await this.next());
    if (!Number.isFinite(ms)) throw new Error('a run did not report its time');
    return ms;
  }

  /** The process's result (its last line of JSON) once it exits. */
  async finish(): Promise<Json> {
    this.child.stdin!.end();
    let last = '';
    for (let r = await this.lines.next(); !r.done; r = await this.lines.next()) last = r.value;
    return JSON.parse(last) as Json;
  }

  kill(): void {
    this.child.kill();
  }

  private async next(): Promise<string> {
    const r = await this.lines.next();
    if (r.done) throw new Error(`${this.label} ended: ${this.stderr.trim().split('\n').slice(-3).join(' | ')}`);
    return r.value.trim();
  }
}

export interface PacedPair {
  ours: Json;
  theirs: Json;
  /** Per pair: netc's run / PyTorch's run. */
  pairRatios: number[];
  /** Their median: the row's ratio. */
  ratio: number;
}

/** `runs` pairs of runs of the two commands in turns (see above). */
export async function pacedPair(ours: [string, string[]], theirs: [string, string[]], runs: number, cwd: string): Promise<PacedPair> {
  const started: Paced[] = [];
  try {
    const a = await Paced.start(...ours, cwd);
    started.push(a);
    const b = await Paced.start(...theirs, cwd); // a waits, blocked, while b warms up
    started.push(b);
    const pairRatios: number[] = [];
    for (let i = 0; i < runs; i++) {
      const ms = new Map<Paced, number>();
      for (const p of i % 2 === 0 ? [a, b] : [b, a]) {
        await settle();
        ms.set(p, await p.run());
      }
      pairRatios.push(Math.round((ms.get(a)! / ms.get(b)!) * 1000) / 1000);
    }
    const [oursResult, theirsResult] = [await a.finish(), await b.finish()];
    return { ours: oursResult, theirs: theirsResult, pairRatios, ratio: Math.round(median(pairRatios) * 1000) / 1000 };
  } finally {
    for (const p of started) p.kill();
  }
}
