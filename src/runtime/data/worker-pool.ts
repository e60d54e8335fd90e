// Worker threads that assemble planned batches (assemble-worker.ts) off the main thread, so
// a batch is decoded and cropped while a synchronous training step blocks the main event
// loop. Requests go round-robin; each worker opens the dataset from its spec and keeps its
// own decoded-pair cache. Batches come back as transferred Float32Array buffers (no copies).
// A worker holds the process open only while it has requests in flight (ref/unref), so a
// forgotten close() never keeps a finished run alive.
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import * as path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import { UserError } from '../../errors.js';
import type { Batch, SamplePlan } from './batches.js';
import type { PairDatasetSpec } from './dataset.js';

export interface AssembleRequest {
  id: number;
  plans: SamplePlan[];
  patch: number;
}

export type AssembleReply = { id: number; batch: Batch } | { id: number; error: { message: string; userError: boolean } };

interface Pending {
  resolve: (batch: Batch) => void;
  reject: (error: Error) => void;
}

interface Slot {
  worker: Worker;
  pending: Map<number, Pending>;
  /** Set once the worker died; later requests fail with it. */
  failure?: Error;
}

/** Starts the worker entry: the compiled .js sibling (dist/), else the TypeScript source
 *  through tsx (tests run the sources; Node 20 workers ignore `--import tsx` in execArgv, so
 *  tsx's loader is registered inside the worker before the entry is imported). */
function startWorker(spec: PairDatasetSpec): Worker {
  const compiled = new URL('./assemble-worker.js', import.meta.url);
  if (existsSync(fileURLToPath(compiled))) return new Worker(compiled, { workerData: spec });
  const source = new URL('./assemble-worker.ts', import.meta.url);
  const require = createRequire(import.meta.url);
  const tsxPackage = require.resolve('tsx/package.json');
  const tsxApi = JSON.parse(readFileSync(tsxPackage, 'utf8')).exports['./esm/api'].import.default as string;
  const tsxApiUrl = pathToFileURL(path.join(path.dirname(tsxPackage), tsxApi)).href;
  const boot = `import(${JSON.stringify(tsxApiUrl)}).then((tsx) => { tsx.register(); return import(${JSON.stringify(source.href)}); });`;
  return new Worker(boot, { eval: true, workerData: spec });
}

export class AssembleWorkers {
  private readonly slots: Slot[] = [];
  private nextId = 0;
  private closed?: Promise<void>;

  constructor(private readonly spec: PairDatasetSpec, private readonly count: number) {
    if (!Number.isInteger(count) || count < 1) throw new Error(`worker count must be a positive integer, got ${count}`);
  }

  /** Assembles the planned samples in a worker; rejects with a UserError naming the file for data problems. */
  assemble(plans: SamplePlan[], patch: number): Promise<Batch> {
    if (this.closed) return Promise.reject(new Error('the batch loader is closed'));
    const id = this.nextId++;
    const slot = this.slot(id % this.count);
    if (slot.failure) return Promise.reject(slot.failure);
    return new Promise<Batch>((resolve, reject) => {
      slot.pending.set(id, { resolve, reject });
      slot.worker.ref(); // a request in flight keeps the process alive until it is answered
      slot.worker.postMessage({ id, plans, patch } satisfies AssembleRequest);
    });
  }

  /** Stops the workers; requests in flight reject. Idempotent: later calls return the same promise. */
  close(): Promise<void> {
    this.closed ??= Promise.all(
      this.slots.map((slot) => {
        this.fail(slot, new Error('the batch loader is closed'));
        return slot.worker.terminate();
      }),
    ).then(() => undefined);
    return this.closed;
  }

  private slot(index: number): Slot {
    let slot = this.slots[index];
    if (slot) return slot;
    const worker = startWorker(this.spec);
    worker.unref();
    slot = { worker, pending: new Map() };
    const started = slot;
    worker.on('message', (reply: AssembleReply) => this.answer(started, reply));
    worker.on('error', (error) => this.fail(started, new Error(`batch worker failed: ${error.message}`)));
    worker.on('exit', (code) => this.fail(started, new Error(`batch worker exited (code ${code})`)));
    this.slots[index] = slot;
    return slot;
  }

  private answer(slot: Slot, reply: AssembleReply): void {
    const pending = slot.pending.get(reply.id);
    if (!pending) return;
    slot.pending.delete(reply.id);
    if (slot.pending.size === 0) slot.worker.unref();
    if ('batch' in reply) pending.resolve(reply.batch);
    else pending.reject(reply.error.userError ? new UserError(reply.error.message) : new Error(reply.error.message));
  }

  private fail(slot: Slot, error: Error): void {
    slot.failure ??= error;
    for (const pending of slot.pending.values()) pending.reject(slot.failure);
    slot.pending.clear();
    slot.worker.unref();
  }
}
