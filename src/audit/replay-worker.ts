/**
 * Worker thread of the auditor: re-derives registration decisions (signature verification is
 * most of the cost of a replay) for batches the main thread sends in log order. Trust changes
 * arrive on the same channel between batches, so this worker's trust state is always the state
 * of the log just before the batch it is checking.
 */
import { parentPort, workerData } from 'node:worker_threads';
import type { TrustChange } from '../core/policy';
import { checkBatch, type Batch } from './replay-check';
import { applyTrustChange, restoreTrust, type SerialTrust } from './replay-trust';

type Message = { type: 'batch'; batch: Batch } | { type: 'trust'; change: TrustChange };

const port = parentPort;
if (!port) throw new Error('replay-worker must run as a worker thread');
const trust = restoreTrust((workerData as { trust: SerialTrust }).trust);

port.on('message', (m: Message) => {
  if (m.type === 'trust') {
    applyTrustChange(trust, m.change);
    return;
  }
  try {
    const r = checkBatch(m.batch, trust);
    port.postMessage({ ok: true, result: r }, [r.hashes.buffer as ArrayBuffer]);
  } catch (e: any) {
    port.postMessage({ ok: false, seq: m.batch.seq, error: String(e?.stack ?? e) });
  }
});
