/** Exit codes scripts can rely on. */
export const EXIT = {
  OK: 0,
  /** Verification failed, registration rejected, gate denied, audit found a divergence. */
  FAILED: 1,
  /** Bad usage or unreadable input files. */
  USAGE: 2,
  /** The service or registry could not be reached or answered unexpectedly. */
  UNAVAILABLE: 3,
} as const;

export class CliError extends Error {
  constructor(message: string, readonly exitCode: number) {
    super(message);
  }
}
