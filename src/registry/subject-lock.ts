/**
 * Serialises work per key. The tag-fallback index is read-modify-written and registries ignore
 * If-Match, so two writers for one subject must never overlap; the service passes a lock that
 * spans processes (a database advisory lock), tests and the CLI pass this in-process one.
 */
export type WithSubjectLock = <T>(key: string, fn: () => Promise<T>) => Promise<T>;

/** A fresh in-process mutex per key: callers for the same key run one at a time, in arrival order. */
export function createInProcessSubjectLock(): WithSubjectLock {
  const tails = new Map<string, Promise<void>>();
  return async <T>(key: string, fn: () => Promise<T>): Promise<T> => {
    const previous = tails.get(key) ?? Promise.resolve();
    let release!: () => void;
    const mine = new Promise<void>((resolve) => (release = resolve));
    const tail = previous.then(() => mine);
    tails.set(key, tail);
    await previous;
    try {
      return await fn();
    } finally {
      release();
      // The last holder removes the entry so the map does not grow with every subject ever linked.
      if (tails.get(key) === tail) tails.delete(key);
    }
  };
}

/** One process-wide instance, for callers that do not need their own. */
export const inProcessSubjectLock: WithSubjectLock = createInProcessSubjectLock();

/** The key every writer of one subject's fallback index locks on: `host/repository@digest`. */
export function subjectLockKey(host: string, repository: string, digest: string): string {
  return `${host}/${repository}@${digest}`;
}
