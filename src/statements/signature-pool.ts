import type { KeyObject } from 'node:crypto';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { runSignatureJob, type SignatureJob } from '../core/cose';

export interface PoolRequest {
  batch: number;
  /** Forget every key before taking newKeys (keeps a thread's key table bounded). */
  reset: boolean;
  newKeys: [number, KeyObject][];
  jobs: { alg: number; keyIds: number[]; parts: Uint8Array[]; signature: Uint8Array }[];
}

export interface PoolResponse {
  batch: number;
  results: boolean[];
}

const MAX_KEYS_PER_THREAD = 4096;

interface Queued {
  job: SignatureJob;
  done: (ok: boolean) => void;
}

interface Thread {
  worker: Worker;
  sentKeys: Set<number>;
  inFlight: number;
  batches: Map<number, Queued[]>;
}

/**
 * Statement signatures are the largest single cost of a registration (about 80 µs for ES256), and
 * the event loop that parses HTTP and talks to PostgreSQL is one thread. This pool runs them on
 * worker threads: checks queued in the same turn of the event loop travel in messages of up to
 * `chunk` checks, each to the least busy thread; keys are sent to each thread once. With no threads
 * it verifies inline.
 */
export class SignaturePool {
  private readonly threads: Thread[] = [];
  private readonly keyIds = new WeakMap<KeyObject, number>();
  private nextKeyId = 1;
  private nextBatch = 1;
  private queue: Queued[] = [];
  private flushScheduled = false;
  private closed = false;

  constructor(
    threads: number,
    private readonly maxKeysPerThread = MAX_KEYS_PER_THREAD,
    private readonly chunk = 16,
  ) {
    for (let i = 0; i < threads; i++) this.threads.push(this.spawn());
  }

  get size(): number {
    return this.threads.length;
  }

  private spawn(): Thread {
    const worker = new Worker(join(__dirname, 'signature-worker.js'));
    const t: Thread = { worker, sentKeys: new Set(), inFlight: 0, batches: new Map() };
    worker.unref();
    worker.on('message', (m: PoolResponse) => {
      const waiting = t.batches.get(m.batch);
      t.batches.delete(m.batch);
      // Only a thread with checks in flight keeps the process alive.
      if (--t.inFlight === 0) worker.unref();
      waiting?.forEach((q, i) => q.done(m.results[i]));
    });
    let dead = false;
    const fail = () => {
      if (dead) return;
      dead = true;
      // A thread that dies must not turn its checks into rejections: run them here, replace the thread.
      const idx = this.threads.indexOf(t);
      if (idx >= 0) this.threads.splice(idx, 1);
      runInline(t);
      if (!this.closed) this.threads.push(this.spawn());
    };
    worker.on('error', fail);
    worker.on('exit', () => !this.closed && fail());
    return t;
  }

  /** True when any of the job's keys verifies its signature. */
  verify(job: SignatureJob): Promise<boolean> {
    if (this.threads.length === 0) return Promise.resolve(runSignatureJob(job));
    return new Promise((done) => {
      this.queue.push({ job, done });
      if (!this.flushScheduled) {
        this.flushScheduled = true;
        setImmediate(() => this.flush());
      }
    });
  }

  private keyId(k: KeyObject): number {
    let id = this.keyIds.get(k);
    if (id === undefined) this.keyIds.set(k, (id = this.nextKeyId++));
    return id;
  }

  private flush(): void {
    this.flushScheduled = false;
    const queue = this.queue;
    this.queue = [];
    if (queue.length === 0) return;
    if (this.threads.length === 0) {
      for (const q of queue) q.done(runSignatureJob(q.job));
      return;
    }
    // Checks travel in messages of at most `chunk`: a thread answers each message when it has run
    // all of it, so smaller messages let the first requests of a large turn go on sooner.
    for (let i = 0; i < queue.length; i += this.chunk) this.send(queue.slice(i, i + this.chunk));
  }

  private send(queue: Queued[]): void {
    const t = this.threads.reduce((a, b) => (b.inFlight < a.inFlight ? b : a));
    // Issuer keys repeat; x5chain leaf keys are new with every statement. Bound the table.
    const reset = t.sentKeys.size > this.maxKeysPerThread;
    if (reset) t.sentKeys.clear();
    const req: PoolRequest = { batch: this.nextBatch++, reset, newKeys: [], jobs: [] };
    for (const { job } of queue) {
      const keyIds = job.keys.map((k) => {
        const id = this.keyId(k);
        if (!t.sentKeys.has(id)) {
          t.sentKeys.add(id);
          req.newKeys.push([id, k]);
        }
        return id;
      });
      req.jobs.push({ alg: job.alg, keyIds, parts: job.parts, signature: job.signature });
    }
    if (t.inFlight++ === 0) t.worker.ref();
    t.batches.set(req.batch, queue);
    t.worker.postMessage(req);
  }

  async close(): Promise<void> {
    this.closed = true;
    const threads = this.threads.splice(0);
    await Promise.all(threads.map((t) => t.worker.terminate()));
    threads.forEach(runInline);
  }
}

function runInline(t: Thread): void {
  const batches = [...t.batches.values()];
  t.batches.clear();
  for (const waiting of batches) for (const q of waiting) q.done(runSignatureJob(q.job));
}
