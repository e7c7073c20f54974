import { createHash } from 'node:crypto';
import { isDigest } from '../core/artifact';
import { registryError } from './errors';
import { INDEX_TYPES, IMAGE_MANIFEST_TYPES, OCI_INDEX } from './media-types';

/**
 * Shapes of the OCI documents we read and write, and their validation. Everything parsed here came
 * from a registry (or from another tool through one), so it is checked field by field; unknown fields
 * are kept untouched so that rewriting a fallback index never drops what other tools wrote.
 */
export interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
  artifactType?: string;
  annotations?: Record<string, string>;
  [other: string]: unknown;
}

export interface ImageIndex {
  schemaVersion: 2;
  mediaType?: string;
  artifactType?: string;
  manifests: Descriptor[];
  annotations?: Record<string, string>;
  [other: string]: unknown;
}

export interface ImageManifest {
  schemaVersion: 2;
  mediaType?: string;
  artifactType?: string;
  config: Descriptor;
  layers: Descriptor[];
  subject?: Descriptor;
  annotations?: Record<string, string>;
  [other: string]: unknown;
}

const MEDIA_TYPE = /^[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]{0,126}\/[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]{0,126}$/;
/** Enough for any real index; a registry answering more is refused rather than trusted. */
const MAX_DESCRIPTORS = 10_000;

function bad(what: string, why: string): Error {
  return registryError('REGISTRY_ERROR', `${what}: ${why}`, false);
}

export function isMediaType(s: unknown): s is string {
  return typeof s === 'string' && MEDIA_TYPE.test(s);
}

/** `sha256:<hex>` or `sha512:<hex>` of the bytes. */
export function digestOf(bytes: Uint8Array, algorithm: 'sha256' | 'sha512' = 'sha256'): string {
  return `${algorithm}:${createHash(algorithm).update(bytes).digest('hex')}`;
}

/** Throws unless `bytes` hash to `expected` (with the algorithm `expected` names). */
export function verifyDigest(bytes: Uint8Array, expected: string, what: string): void {
  if (!isDigest(expected)) throw bad(what, `unsupported digest ${JSON.stringify(expected.slice(0, 80))}`);
  const actual = digestOf(bytes, expected.startsWith('sha512:') ? 'sha512' : 'sha256');
  if (actual !== expected) throw bad(what, `content digest ${actual} does not match ${expected}`);
}

export function parseJsonObject(bytes: Uint8Array, what: string): Record<string, unknown> {
  let v: unknown;
  try {
    v = JSON.parse(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8'));
  } catch {
    throw bad(what, 'not JSON');
  }
  if (v === null || typeof v !== 'object' || Array.isArray(v)) throw bad(what, 'not a JSON object');
  return v as Record<string, unknown>;
}

function checkAnnotations(v: unknown, what: string): void {
  if (v === undefined) return;
  if (v === null || typeof v !== 'object' || Array.isArray(v)) throw bad(what, 'annotations must be an object');
  for (const x of Object.values(v)) if (typeof x !== 'string') throw bad(what, 'annotation values must be strings');
}

export function parseDescriptor(v: unknown, what: string): Descriptor {
  if (v === null || typeof v !== 'object' || Array.isArray(v)) throw bad(what, 'descriptor is not an object');
  const d = v as Record<string, unknown>;
  if (!isMediaType(d.mediaType)) throw bad(what, 'descriptor mediaType missing or malformed');
  if (typeof d.digest !== 'string' || !isDigest(d.digest)) throw bad(what, 'descriptor digest missing or unsupported');
  if (typeof d.size !== 'number' || !Number.isSafeInteger(d.size) || d.size < 0) throw bad(what, 'descriptor size invalid');
  if (d.artifactType !== undefined && !isMediaType(d.artifactType)) throw bad(what, 'descriptor artifactType malformed');
  checkAnnotations(d.annotations, what);
  return d as Descriptor;
}

function checkTop(o: Record<string, unknown>, what: string): void {
  if (o.schemaVersion !== 2) throw bad(what, 'schemaVersion must be 2');
  if (o.mediaType !== undefined && !isMediaType(o.mediaType)) throw bad(what, 'mediaType malformed');
  if (o.artifactType !== undefined && !isMediaType(o.artifactType)) throw bad(what, 'artifactType malformed');
  checkAnnotations(o.annotations, what);
}

/** An image index (OCI or Docker manifest list); `contentType` is what the registry said it is. */
export function parseImageIndex(bytes: Uint8Array, what: string, contentType?: string): ImageIndex {
  const o = parseJsonObject(bytes, what);
  checkTop(o, what);
  const declared = (o.mediaType as string | undefined) ?? contentType ?? OCI_INDEX;
  if (!INDEX_TYPES.has(declared)) throw bad(what, `not an image index (${declared})`);
  if (contentType && o.mediaType !== undefined && contentType !== o.mediaType) {
    throw bad(what, `Content-Type ${contentType} contradicts mediaType ${String(o.mediaType)}`);
  }
  if (!Array.isArray(o.manifests)) throw bad(what, 'manifests must be an array');
  if (o.manifests.length > MAX_DESCRIPTORS) throw bad(what, 'too many descriptors');
  o.manifests = o.manifests.map((m, i) => parseDescriptor(m, `${what}, manifests[${i}]`));
  return o as unknown as ImageIndex;
}

export function parseImageManifest(bytes: Uint8Array, what: string, contentType?: string): ImageManifest {
  const o = parseJsonObject(bytes, what);
  checkTop(o, what);
  const declared = (o.mediaType as string | undefined) ?? contentType;
  if (declared !== undefined && !IMAGE_MANIFEST_TYPES.has(declared)) throw bad(what, `not an image manifest (${declared})`);
  if (contentType && o.mediaType !== undefined && contentType !== o.mediaType) {
    throw bad(what, `Content-Type ${contentType} contradicts mediaType ${String(o.mediaType)}`);
  }
  o.config = parseDescriptor(o.config, `${what}, config`);
  if (!Array.isArray(o.layers)) throw bad(what, 'layers must be an array');
  if (o.layers.length > MAX_DESCRIPTORS) throw bad(what, 'too many layers');
  o.layers = o.layers.map((l, i) => parseDescriptor(l, `${what}, layers[${i}]`));
  if (o.subject !== undefined) o.subject = parseDescriptor(o.subject, `${what}, subject`);
  return o as unknown as ImageManifest;
}

/** The JSON serialisation we push: compact, stable key order as built by the caller. */
export function encodeJson(v: unknown): Uint8Array {
  return new TextEncoder().encode(JSON.stringify(v));
}
