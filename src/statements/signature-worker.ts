/**
 * A signature verification thread of the service (see SignaturePool). Receives batches of prepared
 * checks, answers one boolean per check. Keys arrive once per thread and are kept by id.
 */
import type { KeyObject } from 'node:crypto';
import { parentPort } from 'node:worker_threads';
import { runSignatureJob } from '../core/cose';
import type { PoolRequest, PoolResponse } from './signature-pool';

const keys = new Map<number, KeyObject>();

parentPort!.on('message', (m: PoolRequest) => {
  if (m.reset) keys.clear();
  for (const [id, k] of m.newKeys) keys.set(id, k);
  const results = m.jobs.map((j) => {
    try {
      return runSignatureJob({ alg: j.alg, keys: j.keyIds.map((id) => keys.get(id)!), parts: j.parts, signature: j.signature });
    } catch {
      return false;
    }
  });
  parentPort!.postMessage({ batch: m.batch, results } satisfies PoolResponse);
});
