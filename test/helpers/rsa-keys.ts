import { generateKeyPairSync, type KeyObject } from 'node:crypto';

type Pair = { privateKey: KeyObject; publicKey: KeyObject };

const POOL = 3;
const pools = new Map<string, { keys: Pair[]; next: number }>();

/**
 * RSA key pairs for tests, from a small per-process pool (consecutive calls return different keys).
 * RSA generation is slow, and Node 20's synchronous RSA key generation was seen to deadlock when a
 * finished generation job is collected during GC (main thread stuck in ~KeyGenJob on a mutex), so
 * tests generate a handful and reuse them.
 */
export function rsaKeyPair(type: 'rsa' | 'rsa-pss', options: Record<string, unknown> = { modulusLength: 2048 }): Pair {
  const id = `${type}:${JSON.stringify(options)}`;
  let pool = pools.get(id);
  if (!pool) pools.set(id, (pool = { keys: [], next: 0 }));
  if (pool.keys.length < POOL) {
    const kp = (generateKeyPairSync as (t: string, o: Record<string, unknown>) => Pair)(type, options);
    pool.keys.push(kp);
    return kp;
  }
  return pool.keys[pool.next++ % POOL];
}
