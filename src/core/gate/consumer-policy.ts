import { LedgerError } from '../errors';

export const SEVERITIES = ['none', 'low', 'medium', 'high', 'critical'] as const;
export type Severity = (typeof SEVERITIES)[number];

export interface RequiredClaim {
  /** A label for reports, e.g. "provenance". */
  name: string;
  contentType: string;
  /** Issuers whose claim counts (the consumer's trust, independent of the ledger's). */
  issuers: string[];
}

export interface ForbiddenClaim {
  name: string;
  contentType: string;
  issuers: string[];
  /** For vulnerability reports: forbid only when the report's severity is at least this. */
  minSeverity?: Severity;
}

/** What a consumer requires before deploying an artifact. */
export interface ConsumerPolicy {
  require: RequiredClaim[];
  forbid: ForbiddenClaim[];
  /** Required claims older than this (by registration time) do not count. */
  maxAgeSeconds?: number;
}

const bad = (m: string) => new LedgerError('BAD_POLICY', m);

function strings(v: unknown, what: string): string[] {
  if (!Array.isArray(v) || v.length === 0 || !v.every((s) => typeof s === 'string' && s.length > 0)) throw bad(`${what} must be a non-empty array of strings`);
  return v as string[];
}

/** Validates a consumer policy (JSON from an HTTP body or a file); the one parser for service and CLI. */
export function parseConsumerPolicy(doc: unknown): ConsumerPolicy {
  if (!doc || typeof doc !== 'object' || Array.isArray(doc)) throw bad('the policy must be a JSON object');
  const d = doc as Record<string, unknown>;
  for (const k of Object.keys(d)) if (!['require', 'forbid', 'maxAgeSeconds'].includes(k)) throw bad(`unknown policy field "${k}"`);
  const rule = (r: unknown, i: number, kind: string) => {
    if (!r || typeof r !== 'object') throw bad(`${kind}[${i}] must be an object`);
    const o = r as Record<string, unknown>;
    if (typeof o.contentType !== 'string' || !o.contentType) throw bad(`${kind}[${i}].contentType is required`);
    return { name: typeof o.name === 'string' && o.name ? o.name : `${kind}[${i}] ${o.contentType}`, contentType: o.contentType, issuers: strings(o.issuers, `${kind}[${i}].issuers`), o };
  };
  const req = d.require === undefined ? [] : d.require;
  const forb = d.forbid === undefined ? [] : d.forbid;
  if (!Array.isArray(req) || !Array.isArray(forb)) throw bad('require and forbid must be arrays');
  const require = req.map((r, i) => {
    const { name, contentType, issuers } = rule(r, i, 'require');
    return { name, contentType, issuers };
  });
  const forbid = forb.map((r, i) => {
    const { name, contentType, issuers, o } = rule(r, i, 'forbid');
    const min = o.minSeverity;
    if (min !== undefined && !SEVERITIES.includes(min as Severity)) throw bad(`forbid[${i}].minSeverity must be one of ${SEVERITIES.join(', ')}`);
    return { name, contentType, issuers, ...(min !== undefined ? { minSeverity: min as Severity } : {}) };
  });
  const age = d.maxAgeSeconds;
  if (age !== undefined && !(typeof age === 'number' && Number.isInteger(age) && age > 0)) throw bad('maxAgeSeconds must be a positive integer');
  if (require.length === 0 && forbid.length === 0) throw bad('the policy requires or forbids nothing');
  return { require, forbid, ...(age !== undefined ? { maxAgeSeconds: age } : {}) };
}
