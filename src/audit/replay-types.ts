import { LedgerError } from '../core/errors';

/**
 * What the auditor checks. A finding names exactly one of these, plus the log index (entry
 * checks) or the tile path (tile checks) where the log diverged from what it should be.
 */
export type AuditCheck =
  /** The checkpoint does not verify against the pinned note verifier key (or does not parse). */
  | 'CHECKPOINT_SIGNATURE'
  /** The root recomputed from the statements differs from the checkpoint's root. */
  | 'ROOT_MISMATCH'
  /** A statement's entry hash differs from the one the entry bundle publishes for its index. */
  | 'ENTRY_BUNDLE_MISMATCH'
  /** A served hash tile differs from the one recomputed from the statements. */
  | 'TILE_MISMATCH'
  /** A tile or entry bundle the checkpoint covers is not served. */
  | 'MISSING_TILE'
  /** The log has no statement for an index its checkpoint covers. */
  | 'MISSING_ENTRY'
  /** A statement is not a well-formed Signed Statement in registered form. */
  | 'STATEMENT_FORMAT'
  /** A statement's signature does not verify with its issuer's key (or a trust change with the service key). */
  | 'STATEMENT_SIGNATURE'
  /** The registration policy in force at that index would have rejected the statement. */
  | 'REGISTRATION_DECISION'
  /** A service-signed issuer/policy change that cannot be applied. */
  | 'TRUST_CHANGE'
  /** The new checkpoint is not an append-only extension of the last verified one (fork or rollback). */
  | 'CONSISTENCY';

export interface Finding {
  /** Log index of the entry concerned (for tile findings: the first leaf under the first differing hash). */
  index?: number;
  check: AuditCheck;
  message: string;
  /** C2SP tile path, for tile and entry bundle findings. */
  path?: string;
  /** The coded error behind the finding (UNKNOWN_ISSUER, BAD_STATEMENT_SIGNATURE...). */
  code?: string;
  /** The statement's issuer, for statement findings. */
  issuer?: string;
}

/** Milliseconds per phase. Worker phases are CPU time summed over the workers (they overlap). */
export interface AuditTimings {
  checkpointMs: number;
  consistencyMs: number;
  /** Main thread waiting for and splitting the statement stream. */
  downloadMs: number;
  /** Worker time decoding statements and checking the profile. */
  parseMs: number;
  /** Worker time computing entry and leaf hashes. */
  hashMs: number;
  /** Worker time re-deriving decisions, dominated by signature verification. */
  verifyMs: number;
  /** Main thread appending leaves to the tree. */
  treeMs: number;
  /** Main thread waiting for tiles and entry bundles to compare. */
  tilesMs: number;
  /** Main thread waiting for workers to finish the batches ahead of it. */
  waitWorkersMs: number;
  totalMs: number;
}

export interface AuditReport {
  ok: boolean;
  url: string;
  origin: string;
  /** First index checked in this run (the size of the last verified checkpoint). */
  from: number;
  /** One past the last index checked: the new checkpoint's size. */
  to: number;
  treeSize: number;
  /** The checkpoint's root hash, base64 as in the checkpoint. */
  root: string;
  /** The last verified checkpoint this run started from, if any. */
  previous?: { treeSize: number; root: string };
  entriesChecked: number;
  trustChanges: number;
  entriesPerSecond: number;
  workers: number;
  timings: AuditTimings;
  findings: Finding[];
  /** Findings beyond the report limit, counted but not listed. */
  findingsOmitted: number;
  stateDir: string;
  /** True when the state directory now holds this checkpoint (only when ok). */
  stateSaved: boolean;
}

/** Failures that stop an audit before it can say anything about the log. */
export type AuditErrorCode =
  /** The service could not be reached or answered a request outside the protocol. */
  | 'UNREACHABLE'
  /** Bad input from the user: verifier key, pinned key file, options. */
  | 'BAD_USAGE'
  /** The state directory is unreadable, corrupt or belongs to another log. */
  | 'BAD_STATE'
  /** The audit was interrupted (SIGINT). */
  | 'ABORTED';

export function auditError(code: AuditErrorCode, message: string, details?: Record<string, unknown>): LedgerError<AuditErrorCode> {
  return new LedgerError<AuditErrorCode>(code, message, details);
}

export function emptyTimings(): AuditTimings {
  return { checkpointMs: 0, consistencyMs: 0, downloadMs: 0, parseMs: 0, hashMs: 0, verifyMs: 0, treeMs: 0, tilesMs: 0, waitWorkersMs: 0, totalMs: 0 };
}
