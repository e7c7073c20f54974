import { readFileSync, statSync } from 'node:fs';
import { BlockList, isIP } from 'node:net';
import { isLedgerError } from '../core/errors';
import { registryError } from './errors';
import { normalizeHost } from './reference';

/**
 * One entry of the REGISTRIES variable. Only configured hosts are ever contacted, so this list is
 * also the allow-list that keeps a claim's `sub` from steering the service at arbitrary hosts.
 */
export interface RegistryConfig {
  /** `host[:port]`, normalised (lowercase host, port without leading zeros). */
  host: string;
  username?: string;
  password?: string;
  /** A static bearer token sent as is (no token exchange). */
  token?: string;
  /** http instead of https; only for loopback hosts, so credentials never cross a network in clear. */
  plainHttp?: boolean;
}

const KEYS = new Set(['host', 'username', 'password', 'token', 'plainHttp']);
const MAX_FILE_BYTES = 1024 * 1024;

const loopback = new BlockList();
loopback.addSubnet('127.0.0.0', 8, 'ipv4');
loopback.addAddress('::1', 'ipv6');

/** 127.0.0.0/8, [::1] and localhost (with or without a port). */
export function isLoopbackHost(host: string): boolean {
  const n = normalizeHost(host);
  if (!n) return false;
  let name = n;
  if (n.startsWith('[')) name = n.slice(1, n.indexOf(']'));
  else if (n.includes(':')) name = n.slice(0, n.lastIndexOf(':'));
  if (name === 'localhost') return true;
  const family = isIP(name);
  return family !== 0 && loopback.check(name, family === 6 ? 'ipv6' : 'ipv4');
}

function fail(message: string): never {
  throw registryError('BAD_REGISTRY_CONFIG', `REGISTRIES: ${message}`, false);
}

function readSource(value: string): string {
  const trimmed = value.trim();
  if (trimmed.startsWith('[') || trimmed.startsWith('{')) return trimmed;
  // Anything else is a path; its content is never echoed back because it may hold passwords.
  try {
    if (statSync(trimmed).size > MAX_FILE_BYTES) fail(`file ${trimmed} is larger than ${MAX_FILE_BYTES} bytes`);
    return readFileSync(trimmed, 'utf8');
  } catch (e) {
    if (isLedgerError(e)) throw e;
    return fail(`not a JSON array and not a readable file (${trimmed}): ${(e as NodeJS.ErrnoException).code ?? 'unreadable'}`);
  }
}

function optionalString(o: Record<string, unknown>, key: string, where: string): string | undefined {
  const v = o[key];
  if (v === undefined) return undefined;
  if (typeof v !== 'string' || v.length === 0) fail(`${where}.${key} must be a non-empty string`);
  if (/[\r\n]/.test(v)) fail(`${where}.${key} must not contain line breaks`);
  return v;
}

function parseEntry(v: unknown, i: number): RegistryConfig {
  const where = `[${i}]`;
  if (v === null || typeof v !== 'object' || Array.isArray(v)) fail(`${where} must be an object`);
  const o = v as Record<string, unknown>;
  for (const k of Object.keys(o)) if (!KEYS.has(k)) fail(`${where} has unknown key "${k}" (allowed: ${[...KEYS].join(', ')})`);
  if (typeof o.host !== 'string') fail(`${where}.host is required (host[:port], no scheme or path)`);
  const host = normalizeHost(o.host);
  if (!host) fail(`${where}.host ${JSON.stringify(o.host)} is not host[:port] (no scheme, path or credentials)`);
  const out: RegistryConfig = { host };
  const username = optionalString(o, 'username', where);
  const password = optionalString(o, 'password', where);
  const token = optionalString(o, 'token', where);
  if ((username === undefined) !== (password === undefined)) fail(`${where} needs both username and password, or neither`);
  if (username !== undefined && token !== undefined) fail(`${where} has both username/password and token; choose one`);
  if (username !== undefined && username.includes(':')) fail(`${where}.username must not contain ':'`);
  if (username !== undefined) Object.assign(out, { username, password });
  if (token !== undefined) out.token = token;
  if (o.plainHttp !== undefined) {
    if (typeof o.plainHttp !== 'boolean') fail(`${where}.plainHttp must be true or false`);
    if (o.plainHttp && !isLoopbackHost(host)) fail(`${where}.plainHttp is allowed only for loopback hosts (127.0.0.0/8, [::1], localhost), not ${host}`);
    if (o.plainHttp) out.plainHttp = true;
  }
  return out;
}

/**
 * Parses REGISTRIES: a JSON array given inline, or the path of a file holding one. Unset or empty
 * means no registry is configured (claims are registered but never linked).
 */
export function parseRegistriesConfig(value: string | undefined): RegistryConfig[] {
  if (value === undefined || value.trim() === '') return [];
  const source = readSource(value);
  let parsed: unknown;
  try {
    parsed = JSON.parse(source);
  } catch (e) {
    fail(`not valid JSON (${(e as Error).message})`);
  }
  if (!Array.isArray(parsed)) fail('must be a JSON array of {"host": ...} objects');
  const configs = parsed.map(parseEntry);
  const seen = new Set<string>();
  for (const c of configs) {
    if (seen.has(c.host)) fail(`host ${c.host} is listed twice`);
    seen.add(c.host);
  }
  return configs;
}

/** The configuration for `host`, compared after normalisation; undefined when not configured. */
export function findRegistry(configs: readonly RegistryConfig[], host: string): RegistryConfig | undefined {
  const n = normalizeHost(host);
  return n === null ? undefined : configs.find((c) => c.host === n);
}
