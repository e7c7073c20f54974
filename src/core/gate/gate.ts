import { SEVERITIES, type ConsumerPolicy, type Severity } from './consumer-policy';

/** A claim the gate may count: already verified (registered in the ledger, receipt checked). */
export interface GateClaim {
  entryId: string;
  issuer: string;
  contentType?: string;
  registeredAt: Date;
  /** The statement payload, for rules that read it (severity). Absent for hash envelopes. */
  payload?: Uint8Array;
  /** Evidence handed back to the caller (e.g. the receipt, base64). */
  receipt?: string;
}

export interface GateEvidence {
  rule: string;
  kind: 'required' | 'forbidden';
  entryId: string;
  issuer: string;
  contentType?: string;
  registeredAt: string;
  receipt?: string;
}

export interface GateDecision {
  decision: 'allow' | 'deny';
  /** Every reason, for allow as well as deny. */
  reasons: string[];
  evidence: GateEvidence[];
}

const rank = (s: Severity) => SEVERITIES.indexOf(s);

/**
 * The highest severity a vulnerability report states: a top-level `severity`, or the highest of
 * `vulnerabilities[].severity` / `vulnerabilities[].ratings[].severity` (CycloneDX). Undefined when
 * the payload says nothing readable — the gate then fails closed.
 */
export function reportSeverity(payload: Uint8Array | undefined): Severity | undefined {
  if (!payload) return undefined;
  let doc: any;
  try {
    doc = JSON.parse(Buffer.from(payload).toString('utf8'));
  } catch {
    return undefined;
  }
  const found: Severity[] = [];
  const take = (v: unknown) => {
    const s = typeof v === 'string' ? v.toLowerCase() : undefined;
    if (s && SEVERITIES.includes(s as Severity)) found.push(s as Severity);
  };
  take(doc?.severity);
  if (Array.isArray(doc?.vulnerabilities)) {
    for (const v of doc.vulnerabilities) {
      take(v?.severity);
      if (Array.isArray(v?.ratings)) for (const r of v.ratings) take(r?.severity);
    }
    if (found.length === 0 && doc.vulnerabilities.length === 0) return 'none';
  }
  return found.length ? found.reduce((a, b) => (rank(a) >= rank(b) ? a : b)) : undefined;
}

const ev = (rule: string, kind: GateEvidence['kind'], c: GateClaim): GateEvidence => ({
  rule,
  kind,
  entryId: c.entryId,
  issuer: c.issuer,
  contentType: c.contentType,
  registeredAt: c.registeredAt.toISOString(),
  receipt: c.receipt,
});

/** Allow only when every required claim is present (fresh enough, from a trusted issuer) and no forbidden one is. */
export function evaluateGate(policy: ConsumerPolicy, claims: GateClaim[], now = new Date()): GateDecision {
  const reasons: string[] = [];
  const evidence: GateEvidence[] = [];
  let deny = false;
  for (const r of policy.require) {
    const matching = claims.filter((c) => c.contentType === r.contentType && r.issuers.includes(c.issuer));
    const fresh = policy.maxAgeSeconds === undefined ? matching : matching.filter((c) => (now.getTime() - c.registeredAt.getTime()) / 1000 <= policy.maxAgeSeconds!);
    if (fresh.length === 0) {
      deny = true;
      reasons.push(
        matching.length > 0
          ? `required ${r.name}: ${matching.length} claim(s) from ${r.issuers.join(', ')} but all older than ${policy.maxAgeSeconds} s`
          : `required ${r.name}: no ${r.contentType} claim from ${r.issuers.join(', ')}`,
      );
    } else {
      const newest = fresh.reduce((a, b) => (a.registeredAt >= b.registeredAt ? a : b));
      reasons.push(`required ${r.name}: present (${fresh.length}), newest ${newest.entryId} from ${newest.issuer}`);
      evidence.push(ev(r.name, 'required', newest));
    }
  }
  for (const f of policy.forbid) {
    for (const c of claims.filter((x) => x.contentType === f.contentType && f.issuers.includes(x.issuer))) {
      if (f.minSeverity !== undefined) {
        const sev = reportSeverity(c.payload);
        if (sev !== undefined && rank(sev) < rank(f.minSeverity)) {
          reasons.push(`forbidden ${f.name}: ${c.entryId} has severity ${sev}, below ${f.minSeverity}`);
          continue;
        }
        reasons.push(`forbidden ${f.name}: ${c.entryId} from ${c.issuer} has severity ${sev ?? 'unreadable (failing closed)'}, at least ${f.minSeverity}`);
      } else {
        reasons.push(`forbidden ${f.name}: ${c.entryId} from ${c.issuer}`);
      }
      deny = true;
      evidence.push(ev(f.name, 'forbidden', c));
    }
  }
  return { decision: deny ? 'deny' : 'allow', reasons, evidence };
}
