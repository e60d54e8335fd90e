// Worker-thread entry (started by worker-pool.ts): executes batch plans made on the main
// thread (decode, crop, augment) and sends the batch back with its buffers transferred.
// It draws no random numbers of its own, so its batches equal the in-thread ones bit for bit.
import { parentPort, workerData } from 'node:worker_threads';
import { UserError } from '../../errors.js';
import { assembleBatch } from './batches.js';
import { PairDataset, type PairDatasetSpec } from './dataset.js';
import type { AssembleReply, AssembleRequest } from './worker-pool.js';

const port = parentPort;
if (!port) throw new Error('assemble-worker.ts runs only as a worker thread');
const dataset = PairDataset.fromSpec(workerData as PairDatasetSpec);

port.on('message', async ({ id, plans, patch }: AssembleRequest) => {
  let reply: AssembleReply;
  try {
    reply = { id, batch: await assembleBatch(plans, patch, dataset) };
  } catch (err) {
    reply = { id, error: { message: (err as Error).message, userError: err instanceof UserError } };
  }
  port.postMessage(reply, 'batch' in reply ? [reply.batch.blur.buffer as ArrayBuffer, reply.batch.sharp.buffer as ArrayBuffer] : []);
});
