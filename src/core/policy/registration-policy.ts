import type { KeyObject, X509Certificate } from 'node:crypto';
import { LedgerError } from '../errors';
import { importPublicKey, validateX5Chain, verifyStatementSignature, type ParsedStatement } from '../cose';

export type PolicyErrorCode =
  | 'TOO_LARGE'
  | 'ALG_NOT_ALLOWED'
  | 'CONTENT_TYPE_NOT_ALLOWED'
  | 'SUBJECT_NOT_ALLOWED'
  | 'UNKNOWN_ISSUER'
  | 'UNTRUSTED_CHAIN'
  | 'BAD_POLICY';

export const ALG_NAMES: Record<number, string> = { [-7]: 'ES256', [-35]: 'ES384', [-36]: 'ES512', [-8]: 'EdDSA', [-37]: 'PS256' };

/** The registration policy, exactly as it is recorded in the log (JSON). */
export interface RegistrationPolicy {
  allowedAlgorithms: string[];
  /** null: any content type. For hash envelopes the preimage content type (259) is checked. */
  allowedContentTypes: string[] | null;
  maxStatementBytes: number;
  /** A regular expression the whole `sub` must match; null: any subject. */
  subjectPattern: string | null;
  /** PEM certificates that x5chain issuers must chain to. */
  trustAnchors: string[];
}

export const DEFAULT_POLICY: RegistrationPolicy = {
  allowedAlgorithms: ['ES256', 'ES384', 'ES512', 'EdDSA', 'PS256'],
  allowedContentTypes: null,
  maxStatementBytes: 1024 * 1024,
  subjectPattern: null,
  trustAnchors: [],
};

/** Validates a policy document from an admin or from the log; returns a normalised copy. */
export function normalisePolicy(doc: unknown): RegistrationPolicy {
  const bad = (m: string) => new LedgerError<PolicyErrorCode>('BAD_POLICY', m);
  if (!doc || typeof doc !== 'object' || Array.isArray(doc)) throw bad('policy must be a JSON object');
  const d = { ...DEFAULT_POLICY, ...(doc as Record<string, unknown>) } as Record<string, unknown>;
  const known = new Set(Object.keys(DEFAULT_POLICY));
  for (const k of Object.keys(doc)) if (!known.has(k)) throw bad(`unknown policy field "${k}"`);
  const algs = d.allowedAlgorithms;
  if (!Array.isArray(algs) || algs.length === 0 || !algs.every((a) => Object.values(ALG_NAMES).includes(a as string))) {
    throw bad(`allowedAlgorithms must be a non-empty subset of ${Object.values(ALG_NAMES).join(', ')}`);
  }
  const cts = d.allowedContentTypes;
  if (cts !== null && !(Array.isArray(cts) && cts.every((c) => typeof c === 'string' && c.length > 0))) {
    throw bad('allowedContentTypes must be null or an array of media types');
  }
  const max = d.maxStatementBytes;
  if (typeof max !== 'number' || !Number.isInteger(max) || max < 64 || max > 64 * 1024 * 1024) {
    throw bad('maxStatementBytes must be an integer between 64 and 67108864');
  }
  const pat = d.subjectPattern;
  if (pat !== null) {
    if (typeof pat !== 'string' || pat.length > 1024) throw bad('subjectPattern must be null or a regular expression');
    try {
      new RegExp(pat, 'u');
    } catch (e: any) {
      throw bad(`subjectPattern does not compile: ${e.message}`);
    }
  }
  const anchors = d.trustAnchors;
  if (!Array.isArray(anchors) || !anchors.every((a) => typeof a === 'string' && a.includes('BEGIN CERTIFICATE'))) {
    throw bad('trustAnchors must be an array of PEM certificates');
  }
  return {
    allowedAlgorithms: [...(algs as string[])],
    allowedContentTypes: cts === null ? null : [...(cts as string[])],
    maxStatementBytes: max,
    subjectPattern: pat as string | null,
    trustAnchors: [...(anchors as string[])],
  };
}

export interface IssuerKeys {
  iss: string;
  /** As registered (JWK or COSE_Key JSON), kept to be recorded in the log verbatim. */
  keys: Record<string, unknown>[];
  imported: KeyObject[];
}

/**
 * Everything a registration decision depends on. The service keeps one built from its tables;
 * the auditor rebuilds one from the issuer and policy entries of the log, in log order.
 */
export class TrustState {
  readonly issuers = new Map<string, IssuerKeys>();
  private compiledPattern?: RegExp;
  private anchorCerts?: X509Certificate[];

  constructor(public policy: RegistrationPolicy = DEFAULT_POLICY) {}

  setPolicy(p: RegistrationPolicy): void {
    this.policy = p;
    this.compiledPattern = undefined;
    this.anchorCerts = undefined;
  }

  setIssuer(iss: string, keys: Record<string, unknown>[]): void {
    this.issuers.set(iss, { iss, keys, imported: keys.map((k) => importPublicKey(k)) });
  }

  removeIssuer(iss: string): void {
    this.issuers.delete(iss);
  }

  private pattern(): RegExp | undefined {
    if (this.policy.subjectPattern === null) return undefined;
    return (this.compiledPattern ??= new RegExp(`^(?:${this.policy.subjectPattern})$`, 'u'));
  }

  private anchors(): X509Certificate[] {
    if (!this.anchorCerts) {
      const { X509Certificate } = require('node:crypto') as typeof import('node:crypto');
      this.anchorCerts = this.policy.trustAnchors.map((p) => new X509Certificate(p));
    }
    return this.anchorCerts;
  }

  /**
   * The registration decision for a parsed Signed Statement: throws a coded LedgerError naming the
   * first rule it breaks, returns normally when it may enter the log. `size` is the submitted length.
   */
  evaluate(st: ParsedStatement, size: number): void {
    verifyStatementSignature(st, this.admissible(st, size));
  }

  /**
   * evaluate() up to the signature: every rule checked, the issuer's candidate keys returned for the
   * caller to verify with (the service does that on a worker thread).
   */
  admissible(st: ParsedStatement, size: number): KeyObject | KeyObject[] {
    const p = this.policy;
    if (size > p.maxStatementBytes) {
      throw new LedgerError<PolicyErrorCode>('TOO_LARGE', `statement is ${size} bytes; the policy allows ${p.maxStatementBytes}`);
    }
    const alg = ALG_NAMES[st.alg];
    if (!alg || !p.allowedAlgorithms.includes(alg)) {
      throw new LedgerError<PolicyErrorCode>('ALG_NOT_ALLOWED', `algorithm ${alg ?? st.alg} is not allowed by the registration policy`);
    }
    if (p.allowedContentTypes !== null) {
      const ct = st.hashEnvelope ? st.hashEnvelope.preimageContentType : st.contentType;
      if (ct === undefined || !p.allowedContentTypes.includes(String(ct))) {
        throw new LedgerError<PolicyErrorCode>('CONTENT_TYPE_NOT_ALLOWED', `content type ${ct ?? '(none)'} is not allowed by the registration policy`);
      }
    }
    const re = this.pattern();
    if (re && !(st.sub !== undefined && re.test(st.sub))) {
      throw new LedgerError<PolicyErrorCode>('SUBJECT_NOT_ALLOWED', `subject ${JSON.stringify(st.sub)} does not match the policy's subject pattern`);
    }
    return this.keyFor(st);
  }

  private keyFor(st: ParsedStatement): KeyObject | KeyObject[] {
    if (st.x5chain && st.x5chain.length > 0) {
      const anchors = this.anchors();
      if (anchors.length === 0) throw new LedgerError<PolicyErrorCode>('UNTRUSTED_CHAIN', 'no trust anchors are configured for x5chain issuers');
      const iat = st.cwtClaims.get(6);
      const at = typeof iat === 'number' ? new Date(iat * 1000) : new Date();
      try {
        return validateX5Chain(st.x5chain, anchors, at);
      } catch (e: any) {
        throw new LedgerError<PolicyErrorCode>('UNTRUSTED_CHAIN', `x5chain does not validate: ${e.message}`);
      }
    }
    const issuer = this.issuers.get(st.iss);
    if (!issuer || issuer.imported.length === 0) {
      throw new LedgerError<PolicyErrorCode>('UNKNOWN_ISSUER', `issuer ${JSON.stringify(st.iss)} is not registered with this service`);
    }
    return issuer.imported;
  }
}
