import { encodeJson, parseImageIndex, type Descriptor, type ImageIndex } from './descriptor';
import { registryError } from './errors';
import { OCI_INDEX } from './media-types';
import type { OciClient } from './oci-client';

/**
 * The referrers tag schema (distribution-spec v1.1): on a registry without the referrers API the
 * referrers of `<alg>:<hex>` are listed by an image index tagged `<alg>-<hex truncated to 64>`.
 * Other tools (cosign, notation, oras) maintain the same index, so it is only ever extended.
 */
export function fallbackTag(digest: string): string {
  const [alg, hex] = digest.split(':');
  return `${alg}-${hex.slice(0, 64)}`;
}

/**
 * The fallback index of `subjectDigest`, or null when the tag does not exist. Only a 404 means
 * "absent": the client always asks for OCI media types, and any other failure throws, so a caller
 * never mistakes an unreadable index for an empty one and overwrites it.
 */
export async function readFallbackIndex(client: OciClient, repository: string, subjectDigest: string): Promise<ImageIndex | null> {
  const tag = fallbackTag(subjectDigest);
  const found = await client.getManifest(repository, tag);
  if (!found) return null;
  if (found.descriptor.mediaType !== OCI_INDEX) {
    throw registryError(
      'REGISTRY_ERROR',
      `${repository}:${tag} holds ${found.descriptor.mediaType}, not an OCI image index; refusing to treat it as the referrers list`,
      false,
    );
  }
  return parseImageIndex(found.bytes, `${repository}:${tag}`, OCI_INDEX);
}

/**
 * Adds `descriptors` to the fallback index (creating it when absent), keeping every entry already
 * there and listing each digest once. Must run under the subject's lock. Returns whether it wrote.
 */
export async function addToFallbackIndex(
  client: OciClient,
  repository: string,
  subjectDigest: string,
  descriptors: readonly Descriptor[],
): Promise<{ written: boolean; digest?: string }> {
  const existing = await readFallbackIndex(client, repository, subjectDigest);
  const manifests: Descriptor[] = [];
  const seen = new Set<string>();
  const before = existing?.manifests ?? [];
  for (const d of before) {
    if (!seen.has(d.digest)) manifests.push(d);
    seen.add(d.digest);
  }
  const kept = manifests.length;
  for (const d of descriptors) {
    if (!seen.has(d.digest)) manifests.push(d);
    seen.add(d.digest);
  }
  // Rewrite only to add something, to create the tag, or to drop a duplicate someone else listed.
  if (existing !== null && manifests.length === kept && kept === before.length) return { written: false };
  // Unknown top-level fields another tool wrote (annotations, extensions) are carried over.
  const index: ImageIndex = existing
    ? { ...existing, schemaVersion: 2, mediaType: OCI_INDEX, manifests }
    : { schemaVersion: 2, mediaType: OCI_INDEX, manifests };
  const digest = await client.putManifest(repository, fallbackTag(subjectDigest), encodeJson(index), OCI_INDEX);
  return { written: true, digest };
}
