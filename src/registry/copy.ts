import { parseImageIndex, parseImageManifest, type Descriptor } from './descriptor';
import { listReferrers } from './discover';
import { registryError } from './errors';
import { addToFallbackIndex } from './fallback-index';
import { IMAGE_MANIFEST_TYPES, INDEX_TYPES, MANIFEST_TYPES } from './media-types';
import type { FetchedManifest, OciClient } from './oci-client';
import { inProcessSubjectLock, subjectLockKey, type WithSubjectLock } from './subject-lock';

export interface CopySource {
  client: OciClient;
  repository: string;
  /** A tag or a digest. */
  reference: string;
}

export interface CopyDestination {
  client: OciClient;
  repository: string;
  /** Also tag the copied image; without it the image is reachable by digest only. */
  tag?: string;
}

export interface CopyOptions {
  /** Serialises fallback-index writers at the destination (default: in-process). */
  withSubjectLock?: WithSubjectLock;
}

export interface CopyResult {
  /** The image as copied: same digest at the destination. */
  descriptor: Descriptor;
  /** Every manifest pushed (children first, then the image, then referrers). */
  manifests: string[];
  /** Blobs uploaded; those the destination already had are not listed. */
  blobs: string[];
  referrers: Descriptor[];
  /** Referrers left behind: gone at the source, or of a manifest type this copier does not know. */
  skipped: { digest: string; reason: string }[];
  /** How the destination lists the referrers (`none` when there were none to list). */
  via: 'referrers-api' | 'tag-fallback' | 'none';
}

/** An index nested deeper than this is not an image anyone pushed on purpose. */
const MAX_DEPTH = 4;

class Copier {
  readonly manifests: string[] = [];
  readonly blobs: string[] = [];
  private readonly done = new Set<string>();

  constructor(
    private readonly src: CopySource,
    private readonly dst: CopyDestination,
  ) {}

  async blob(d: Descriptor): Promise<void> {
    if (this.done.has(d.digest)) return;
    this.done.add(d.digest);
    // Foreign (non-distributable) layers live at their `urls`, not in the source registry.
    if (Array.isArray(d.urls) && d.urls.length > 0) return;
    if (await this.dst.client.blobExists(this.dst.repository, d.digest)) return;
    const bytes = await this.src.client.getBlob(this.src.repository, d.digest);
    if (bytes.byteLength !== d.size) {
      throw registryError('REGISTRY_ERROR', `blob ${d.digest} is ${bytes.byteLength} bytes, its descriptor says ${d.size}`, false);
    }
    await this.dst.client.uploadBlob(this.dst.repository, bytes, d.digest);
    this.blobs.push(d.digest);
  }

  /** Copies a manifest and everything it references, pushing the manifest last (registries check). */
  async manifest(m: FetchedManifest, depth = 0): Promise<void> {
    const { mediaType, digest } = m.descriptor;
    if (this.done.has(digest)) return;
    const what = `${this.src.repository}@${digest}`;
    if (INDEX_TYPES.has(mediaType)) {
      if (depth >= MAX_DEPTH) throw registryError('REGISTRY_ERROR', `${what}: indexes nested too deep`, false);
      for (const child of parseImageIndex(m.bytes, what, mediaType).manifests) {
        const fetched = await this.src.client.getManifest(this.src.repository, child.digest);
        if (!fetched) throw registryError('REGISTRY_ERROR', `${what}: lists ${child.digest}, which the source does not have`, false);
        await this.manifest(fetched, depth + 1);
      }
    } else if (IMAGE_MANIFEST_TYPES.has(mediaType)) {
      const manifest = parseImageManifest(m.bytes, what, mediaType);
      await this.blob(manifest.config);
      for (const layer of manifest.layers) await this.blob(layer);
    } else {
      throw registryError('REGISTRY_ERROR', `${what}: cannot copy a manifest of type ${mediaType}`, false);
    }
    await this.dst.client.putManifest(this.dst.repository, digest, m.bytes, mediaType);
    this.done.add(digest);
    this.manifests.push(digest);
  }
}

/**
 * Copies an image (an index with its child manifests, or one image manifest) with its blobs, then
 * its referrers (claims, signatures, SBOMs: manifests and blobs), and lists those referrers at the
 * destination: by the registry itself when it serves the referrers API, else in the fallback index,
 * extended under the subject lock so that referrers already at the destination are kept.
 */
export async function copyImageWithReferrers(src: CopySource, dst: CopyDestination, options: CopyOptions = {}): Promise<CopyResult> {
  const root = await src.client.getManifest(src.repository, src.reference);
  if (!root) {
    throw registryError('SUBJECT_NOT_FOUND', `${src.client.host}/${src.repository}:${src.reference} is not in the registry`, true);
  }
  const copier = new Copier(src, dst);
  await copier.manifest(root);
  if (dst.tag !== undefined) await dst.client.putManifest(dst.repository, dst.tag, root.bytes, root.descriptor.mediaType);

  const digest = root.descriptor.digest;
  const referrers: Descriptor[] = [];
  const skipped: CopyResult['skipped'] = [];
  for (const r of await listReferrers(src.client, src.repository, digest)) {
    const fetched = await src.client.getManifest(src.repository, r.digest);
    if (!fetched) {
      skipped.push({ digest: r.digest, reason: 'listed but not in the source registry' });
      continue;
    }
    // One referrer of an exotic type should not stop the image and the others from arriving.
    if (!MANIFEST_TYPES.has(fetched.descriptor.mediaType)) {
      skipped.push({ digest: r.digest, reason: `manifest type ${fetched.descriptor.mediaType} not supported` });
      continue;
    }
    await copier.manifest(fetched);
    referrers.push(r);
  }
  let via: CopyResult['via'] = 'none';
  if (referrers.length > 0) {
    let api = dst.client.servesReferrersApi;
    if (api === undefined) api = (await dst.client.getReferrers(dst.repository, digest)) !== null;
    if (api) via = 'referrers-api';
    else {
      const lock = options.withSubjectLock ?? inProcessSubjectLock;
      await lock(subjectLockKey(dst.client.host, dst.repository, digest), () => addToFallbackIndex(dst.client, dst.repository, digest, referrers));
      via = 'tag-fallback';
    }
  }
  return { descriptor: root.descriptor, manifests: copier.manifests, blobs: copier.blobs, referrers, skipped, via };
}
