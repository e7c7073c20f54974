import { digestOf, encodeJson, type Descriptor } from './descriptor';
import { registryError } from './errors';
import { addToFallbackIndex } from './fallback-index';
import {
  ANNOTATION_CREATED,
  EMPTY_CONFIG_BYTES,
  EMPTY_CONFIG_DIGEST,
  EMPTY_CONFIG_MEDIA_TYPE,
  OCI_MANIFEST,
  SCITT_STATEMENT,
} from './media-types';
import type { ClientResolver } from './client-resolver';
import type { OciClient } from './oci-client';
import { isRepositoryName, normalizeHost, type SubjectReference } from './reference';
import { inProcessSubjectLock, subjectLockKey, type WithSubjectLock } from './subject-lock';

export { createInProcessSubjectLock, inProcessSubjectLock, type WithSubjectLock } from './subject-lock';

export interface LinkRequest {
  subject: SubjectReference;
  /** The statement with its receipt (label 394): what a consumer needs to verify offline. */
  transparentStatement: Uint8Array;
  annotations: Record<string, string>;
  /** RFC 3339; given by the caller so that the same claim always yields the same manifest. */
  created: string;
}

export interface LinkResult {
  manifestDigest: string;
  via: 'referrers-api' | 'tag-fallback';
}

const RFC3339 = /^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(?:\.\d{1,9})?(?:[Zz]|[+-]\d{2}:\d{2})$/;
const SHA256 = /^sha256:[0-9a-f]{64}$/;

/**
 * The claim's artifact manifest (image-spec v1.1 artifact guidance). Byte-for-byte deterministic:
 * fixed key order and sorted annotations, so a retried link pushes the same digest and the index
 * never gains a second entry for one claim.
 */
export function buildClaimManifest(
  subject: Descriptor,
  layer: { digest: string; size: number },
  annotations: Record<string, string>,
  created: string,
): { bytes: Uint8Array; descriptor: Descriptor } {
  const merged: Record<string, string> = { ...annotations, [ANNOTATION_CREATED]: created };
  const sorted = Object.fromEntries(Object.keys(merged).sort().map((k) => [k, merged[k]]));
  const manifest = {
    schemaVersion: 2,
    mediaType: OCI_MANIFEST,
    artifactType: SCITT_STATEMENT,
    config: { mediaType: EMPTY_CONFIG_MEDIA_TYPE, digest: EMPTY_CONFIG_DIGEST, size: EMPTY_CONFIG_BYTES.byteLength },
    layers: [{ mediaType: SCITT_STATEMENT, digest: layer.digest, size: layer.size }],
    subject: { mediaType: subject.mediaType, digest: subject.digest, size: subject.size },
    annotations: sorted,
  };
  const bytes = encodeJson(manifest);
  return {
    bytes,
    descriptor: { mediaType: OCI_MANIFEST, digest: digestOf(bytes), size: bytes.byteLength, artifactType: SCITT_STATEMENT, annotations: sorted },
  };
}

function invalid(message: string): Error {
  return registryError('NOT_OCI_REFERENCE', message, false);
}

function checkRequest(req: LinkRequest): void {
  const s = req.subject;
  if (!s || typeof s.host !== 'string' || normalizeHost(s.host) === null) throw invalid('link: subject host is not host[:port]');
  if (typeof s.repository !== 'string' || !isRepositoryName(s.repository)) throw invalid('link: subject repository is not a repository name');
  if (typeof s.digest !== 'string' || !SHA256.test(s.digest)) throw invalid('link: subject digest is not sha256:<64 lowercase hex>');
  if (!(req.transparentStatement instanceof Uint8Array) || req.transparentStatement.byteLength === 0) {
    throw registryError('REGISTRY_ERROR', 'link: the transparent statement is empty', false);
  }
  if (typeof req.created !== 'string' || !RFC3339.test(req.created)) throw registryError('REGISTRY_ERROR', 'link: created is not an RFC 3339 timestamp', false);
  for (const [k, v] of Object.entries(req.annotations ?? {})) {
    if (k.length === 0 || typeof v !== 'string') throw registryError('REGISTRY_ERROR', `link: annotation ${JSON.stringify(k)} must have a string value`, false);
  }
}

/**
 * Links a transparent statement to the artifact it is about, as an OCI referrer. Idempotent: the
 * same request pushes the same blobs and manifest again (the registry already has them) and the
 * fallback index is left alone when it already lists the manifest.
 */
export class ReferrerLinker {
  private readonly clientFor: ClientResolver;
  private readonly withSubjectLock: WithSubjectLock;

  constructor(
    clientFor: ClientResolver | { resolveClient: ClientResolver; withSubjectLock?: WithSubjectLock },
    withSubjectLock: WithSubjectLock = inProcessSubjectLock,
  ) {
    if (typeof clientFor === 'function') {
      this.clientFor = clientFor;
      this.withSubjectLock = withSubjectLock;
    } else {
      this.clientFor = clientFor.resolveClient;
      this.withSubjectLock = clientFor.withSubjectLock ?? withSubjectLock;
    }
  }

  private client(host: string): OciClient {
    // The resolver refuses unconfigured hosts; this also refuses a resolver that answers for another one.
    const client = this.clientFor(host);
    if (!client || client.host !== normalizeHost(host)) {
      throw registryError('REGISTRY_NOT_CONFIGURED', `registry ${host} is not configured`, false, { host });
    }
    return client;
  }

  async link(req: LinkRequest): Promise<LinkResult> {
    checkRequest(req);
    const { repository, digest } = req.subject;
    const client = this.client(req.subject.host);
    const found = await client.getManifest(repository, digest);
    if (!found) {
      // Claims may be registered before the image is pushed; a later attempt can succeed.
      throw registryError('SUBJECT_NOT_FOUND', `${client.host}/${repository}@${digest} is not in the registry`, true, {
        host: client.host,
        repository,
        digest,
      });
    }
    await client.uploadBlob(repository, EMPTY_CONFIG_BYTES, EMPTY_CONFIG_DIGEST);
    const layer = await client.uploadBlob(repository, req.transparentStatement);
    const { bytes, descriptor } = buildClaimManifest(found.descriptor, layer, req.annotations ?? {}, req.created);
    const manifestDigest = await client.putManifest(repository, descriptor.digest, bytes, OCI_MANIFEST);
    // The probe is made once per client; with the API the registry indexes `subject` itself.
    let api = client.servesReferrersApi;
    if (api === undefined) api = (await client.getReferrers(repository, digest, SCITT_STATEMENT)) !== null;
    if (api) return { manifestDigest, via: 'referrers-api' };
    await this.withSubjectLock(subjectLockKey(client.host, repository, digest), () =>
      addToFallbackIndex(client, repository, digest, [descriptor]),
    );
    return { manifestDigest, via: 'tag-fallback' };
  }
}
