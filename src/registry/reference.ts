import { isIP } from 'node:net';

/**
 * OCI references as they appear in a claim's `sub` and on the CLI. A claim is linked into a registry
 * only when its subject names the registry host explicitly and pins a digest; nothing here resolves
 * defaults (no implicit docker.io), so a parsed host is always a host someone wrote down.
 */
export interface SubjectReference {
  host: string;
  repository: string;
  digest: string;
}

export interface ImageReference {
  host: string;
  repository: string;
  tag?: string;
  digest?: string;
}

/** distribution-spec repository name: lowercase path components, separators `.`, `_`, `__`, `-+`. */
const REPOSITORY = /^[a-z0-9]+(?:(?:\.|_|__|-+)[a-z0-9]+)*(?:\/[a-z0-9]+(?:(?:\.|_|__|-+)[a-z0-9]+)*)*$/;
const TAG = /^[A-Za-z0-9_][A-Za-z0-9._-]{0,127}$/;
const SHA256 = /^sha256:[0-9a-f]{64}$/;
const DOMAIN_COMPONENT = /^(?:[A-Za-z0-9]|[A-Za-z0-9][A-Za-z0-9-]*[A-Za-z0-9])$/;

export function isRepositoryName(s: string): boolean {
  return s.length < 256 && REPOSITORY.test(s);
}

/**
 * `host[:port]` with host a DNS name, IPv4 address or bracketed IPv6 address; returned lowercased
 * (hosts are case-insensitive, and locks and configuration lookups key on this string), or null.
 */
export function normalizeHost(s: string): string | null {
  let host = s;
  let port: string | undefined;
  if (s.startsWith('[')) {
    const end = s.indexOf(']');
    if (end < 0) return null;
    host = s.slice(0, end + 1);
    const rest = s.slice(end + 1);
    if (rest !== '') {
      if (!rest.startsWith(':')) return null;
      port = rest.slice(1);
    }
    if (isIP(host.slice(1, -1)) !== 6) return null;
  } else {
    const colon = s.lastIndexOf(':');
    if (colon >= 0) {
      host = s.slice(0, colon);
      port = s.slice(colon + 1);
    }
    if (host.length === 0 || host.length > 253) return null;
    if (!host.split('.').every((c) => DOMAIN_COMPONENT.test(c))) return null;
  }
  if (port !== undefined) {
    if (!/^[0-9]{1,5}$/.test(port)) return null;
    const n = Number(port);
    if (n < 1 || n > 65535) return null;
  }
  return host.toLowerCase() + (port !== undefined ? `:${Number(port)}` : '');
}

/** A first path component names a registry only when it cannot be a repository component. */
function looksLikeHost(component: string): boolean {
  return component.includes('.') || component.includes(':') || component === 'localhost' || component.startsWith('[');
}

/** Splits `[oci://]host/rest` into a normalised host and the remainder, or null. */
function splitHost(ref: string): { host: string; rest: string } | null {
  if (typeof ref !== 'string' || ref.length > 1024) return null;
  const s = ref.startsWith('oci://') ? ref.slice('oci://'.length) : ref;
  const slash = s.indexOf('/');
  if (slash <= 0) return null;
  const first = s.slice(0, slash);
  if (!looksLikeHost(first)) return null;
  const host = normalizeHost(first);
  return host ? { host, rest: s.slice(slash + 1) } : null;
}

/**
 * A digest-pinned OCI reference `[oci://]<host[:port]>/<repository>@sha256:<64 lowercase hex>`,
 * or null when `sub` is anything else (a tag, no explicit host, another digest algorithm).
 */
export function parseSubjectReference(sub: string): SubjectReference | null {
  const split = splitHost(sub);
  if (!split) return null;
  const at = split.rest.indexOf('@');
  if (at < 0) return null;
  const repository = split.rest.slice(0, at);
  const digest = split.rest.slice(at + 1);
  if (!isRepositoryName(repository) || !SHA256.test(digest)) return null;
  return { host: split.host, repository, digest };
}

/**
 * An image reference for the CLI: `[oci://]host/repo:tag`, `host/repo@sha256:<hex>`, or both
 * (the digest wins when fetching). A reference with neither means the `latest` tag, as docker does.
 */
export function parseImageReference(ref: string): ImageReference | null {
  const split = splitHost(ref);
  if (!split) return null;
  let rest = split.rest;
  let digest: string | undefined;
  const at = rest.indexOf('@');
  if (at >= 0) {
    digest = rest.slice(at + 1);
    rest = rest.slice(0, at);
    if (!SHA256.test(digest)) return null;
  }
  let tag: string | undefined;
  const colon = rest.lastIndexOf(':');
  if (colon >= 0) {
    tag = rest.slice(colon + 1);
    rest = rest.slice(0, colon);
    if (!TAG.test(tag)) return null;
  }
  if (!isRepositoryName(rest)) return null;
  if (tag === undefined && digest === undefined) tag = 'latest';
  const out: ImageReference = { host: split.host, repository: rest };
  if (tag !== undefined) out.tag = tag;
  if (digest !== undefined) out.digest = digest;
  return out;
}

/** The printable form `host/repo@digest` (no scheme), used as the lock key and in messages. */
export function formatSubject(s: SubjectReference): string {
  return `${s.host}/${s.repository}@${s.digest}`;
}
