import { encodeCbor } from '../core/cbor';
import { isLedgerError } from '../core/errors';

/** One problem, before it is rendered as RFC 9290 CBOR or RFC 9457 JSON. */
export interface Problem {
  status: number;
  title: string;
  detail?: string;
  code: string;
  headers?: Record<string, string>;
}

/** Titles are SCRAPI's (draft-ietf-scitt-scrapi-11 §2) where SCRAPI names one. */
const BY_CODE: Record<string, [number, string]> = {
  MALFORMED_CBOR: [400, 'Malformed request'],
  NOT_COSE_SIGN1: [400, 'Malformed request'],
  BAD_HEADER: [400, 'Malformed request'],
  MISSING_CWT_CLAIMS: [400, 'Malformed request'],
  MISSING_ISSUER: [400, 'Malformed request'],
  MISSING_SUBJECT: [400, 'Malformed request'],
  MALFORMED_REQUEST: [400, 'Malformed request'],
  UNSUPPORTED_ALGORITHM: [400, 'Bad Signature Algorithm'],
  ALG_NOT_ALLOWED: [400, 'Bad Signature Algorithm'],
  CONFIRMATION_MISSING: [400, 'Confirmation Missing'],
  PAYLOAD_MISSING: [400, 'Payload Missing'],
  BAD_STATEMENT_SIGNATURE: [400, 'Rejected'],
  UNKNOWN_ISSUER: [400, 'Rejected'],
  UNTRUSTED_CHAIN: [400, 'Rejected'],
  CONTENT_TYPE_NOT_ALLOWED: [400, 'Rejected'],
  SUBJECT_NOT_ALLOWED: [400, 'Rejected'],
  BAD_SIGNATURE: [400, 'Rejected'],
  KEY_ALG_MISMATCH: [400, 'Rejected'],
  X5CHAIN_INVALID: [400, 'Rejected'],
  X5CHAIN_UNTRUSTED: [400, 'Rejected'],
  X5CHAIN_EXPIRED: [400, 'Rejected'],
  UNKNOWN_ISSUER_KEY: [400, 'Rejected'],
  TOO_LARGE: [413, 'Payload Too Large'],
  INVALID_LOCATOR: [400, 'Invalid locator'],
  BAD_POLICY: [400, 'Malformed request'],
  BAD_RANGE: [400, 'Malformed request'],
  UNKNOWN_SIZE: [404, 'Not Found'],
  NOT_FOUND: [404, 'Not Found'],
  NO_SUCH_KEY: [404, 'No such key'],
  UNSUPPORTED_MEDIA_TYPE: [415, 'Unsupported Media Type'],
  NOT_ACCEPTABLE: [406, 'Not Acceptable'],
  UNAUTHORIZED: [401, 'Unauthorized'],
  RATE_LIMITED: [429, 'Too Many Requests'],
  BACK_PRESSURE: [503, 'Service Unavailable'],
  NO_CHECKPOINT: [503, 'Service Unavailable'],
  TIMEOUT: [503, 'Service Unavailable'],
  // Storage that does not hold what the log says it should: the service's fault, never the client's.
  STORAGE_INCOMPLETE: [500, 'Internal Server Error'],
  MISSING_TILE: [500, 'Internal Server Error'],
  BAD_TILE: [500, 'Internal Server Error'],
};

const HTTP_TITLES: Record<number, string> = {
  400: 'Malformed request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  406: 'Not Acceptable',
  408: 'Request Timeout',
  413: 'Payload Too Large',
  415: 'Unsupported Media Type',
  429: 'Too Many Requests',
  500: 'Internal Server Error',
  503: 'Service Unavailable',
};

/** Maps anything thrown to a problem. Unknown errors become a 500 that reveals nothing. */
export function toProblem(err: unknown): Problem {
  if (isLedgerError(err)) {
    const [status, title] = BY_CODE[err.code] ?? [400, 'Malformed request'];
    const retry = (err.details?.retryAfter as number | undefined) ?? (status === 503 ? 1 : undefined);
    return { status, title, detail: err.message, code: err.code, headers: retry !== undefined ? { 'retry-after': String(retry) } : undefined };
  }
  const e = err as { statusCode?: number; status?: number; code?: string; message?: string; getStatus?: () => number; getResponse?: () => unknown };
  let status = typeof e?.getStatus === 'function' ? e.getStatus() : (e?.statusCode ?? e?.status);
  if (e?.code === 'FST_ERR_CTP_BODY_TOO_LARGE') status = 413;
  if (e?.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE') status = 415;
  if (e?.code === 'FST_ERR_CTP_EMPTY_JSON_BODY' || e?.code === 'FST_ERR_CTP_INVALID_JSON_BODY') status = 400;
  if (typeof status === 'number' && status >= 400 && status < 500) {
    let detail = e.message;
    const resp = typeof e.getResponse === 'function' ? (e.getResponse() as any) : undefined;
    if (resp && Array.isArray(resp.message)) detail = resp.message.join('; ');
    const code = status === 413 ? 'TOO_LARGE' : status === 415 ? 'UNSUPPORTED_MEDIA_TYPE' : status === 404 ? 'NOT_FOUND' : status === 429 ? 'RATE_LIMITED' : status === 401 ? 'UNAUTHORIZED' : 'MALFORMED_REQUEST';
    const headers: Record<string, string> = {};
    if (status === 429) headers['retry-after'] = String((e as any).retryAfter ?? 1);
    if (status === 401) headers['www-authenticate'] = 'Bearer';
    return { status, title: HTTP_TITLES[status] ?? 'Client Error', detail, code, headers };
  }
  if (status === 503) return { status, title: 'Service Unavailable', detail: e.message, code: 'UNAVAILABLE', headers: { 'retry-after': '1' } };
  return { status: 500, title: 'Internal Server Error', code: 'INTERNAL' };
}

export const CONCISE_PROBLEM = 'application/concise-problem-details+cbor';
const CODE_KEY = 'tag:scitt-ledger,2026:code';

/** RFC 9457 JSON when the client prefers JSON, RFC 9290 CBOR otherwise. */
export function renderProblem(p: Problem, accept: string | undefined): { type: string; body: Buffer | string } {
  if (accept && /application\/(problem\+)?json/.test(accept) && !/cbor/.test(accept)) {
    return {
      type: 'application/problem+json',
      body: JSON.stringify({ type: 'about:blank', title: p.title, status: p.status, detail: p.detail, code: p.code }),
    };
  }
  const m = new Map<number | string, unknown>([[-1, p.title]]);
  if (p.detail) m.set(-2, p.detail);
  m.set(CODE_KEY, p.code);
  // The core encoder: with cbor2's writer a rejected registration cost ~250 µs of event loop (~100 now).
  return { type: CONCISE_PROBLEM, body: encodeCbor(m) };
}

export interface ReplyLike {
  code(status: number): ReplyLike;
  header(name: string, value: string): ReplyLike;
  send(body?: unknown): unknown;
}

export function sendProblem(reply: ReplyLike, accept: string | undefined, err: unknown): Problem {
  const p = toProblem(err);
  const { type, body } = renderProblem(p, accept);
  reply.code(p.status);
  for (const [k, v] of Object.entries(p.headers ?? {})) reply.header(k, v);
  reply.header('content-type', type);
  reply.header('cache-control', 'no-store');
  reply.send(body);
  return p;
}
