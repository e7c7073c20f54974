import { parseImageManifest, type Descriptor } from './descriptor';
import { registryError } from './errors';
import { readFallbackIndex } from './fallback-index';
import { OCI_MANIFEST, SCITT_STATEMENT } from './media-types';
import type { OciClient } from './oci-client';

export interface ListReferrersOptions {
  artifactType?: string;
}

/** The referrers of `digest`: through the referrers API when served, else the fallback tag. */
export async function listReferrers(
  client: OciClient,
  repository: string,
  digest: string,
  options: ListReferrersOptions = {},
): Promise<Descriptor[]> {
  const api = await client.getReferrers(repository, digest, options.artifactType);
  if (api) return api.manifests;
  const index = await readFallbackIndex(client, repository, digest);
  if (!index) return [];
  const { artifactType } = options;
  return artifactType === undefined ? index.manifests : index.manifests.filter((m) => m.artifactType === artifactType);
}

export interface Claim {
  /** The referrer as listed (artifactType, annotations such as the entry id and tree size). */
  descriptor: Descriptor;
  manifestDigest: string;
  /** The layer: a transparent statement, digest-checked; verify it before trusting it. */
  statement: Uint8Array;
}

export interface FetchClaimsOptions {
  /** Largest statement downloaded (default 4 MiB). */
  maxStatementBytes?: number;
}

const PARALLEL = 8;

/**
 * The SCITT claims attached to `digest`. A listed referrer counts only when its manifest, read by
 * digest, is a SCITT statement artifact whose `subject` really is `digest`: an index anyone can
 * write (or a registry's summary) is a list of candidates, not of facts. Listed manifests that are
 * gone (garbage-collected) are skipped.
 */
export async function fetchClaims(client: OciClient, repository: string, digest: string, options: FetchClaimsOptions = {}): Promise<Claim[]> {
  const max = options.maxStatementBytes ?? 4 * 1024 * 1024;
  const candidates = (await listReferrers(client, repository, digest)).filter(
    (d) => d.mediaType === OCI_MANIFEST && (d.artifactType === undefined || d.artifactType === SCITT_STATEMENT),
  );
  const results: (Claim | undefined)[] = new Array(candidates.length);
  let next = 0;
  const worker = async () => {
    while (next < candidates.length) {
      const i = next++;
      results[i] = await fetchClaim(client, repository, digest, candidates[i], max);
    }
  };
  await Promise.all(Array.from({ length: Math.min(PARALLEL, candidates.length) }, worker));
  return results.filter((c): c is Claim => c !== undefined);
}

async function fetchClaim(client: OciClient, repository: string, subject: string, d: Descriptor, max: number): Promise<Claim | undefined> {
  const fetched = await client.getManifest(repository, d.digest);
  if (!fetched) return undefined;
  const what = `referrer ${repository}@${d.digest}`;
  const manifest = parseImageManifest(fetched.bytes, what, fetched.descriptor.mediaType);
  if ((manifest.artifactType ?? manifest.config.mediaType) !== SCITT_STATEMENT) return undefined;
  if (manifest.subject?.digest !== subject) return undefined;
  const layer = manifest.layers.find((l) => l.mediaType === SCITT_STATEMENT);
  if (!layer) return undefined;
  if (layer.size > max) throw registryError('REGISTRY_ERROR', `${what}: statement of ${layer.size} bytes exceeds ${max}`, false);
  const statement = await client.getBlob(repository, layer.digest, max);
  if (statement.byteLength !== layer.size) {
    throw registryError('REGISTRY_ERROR', `${what}: statement is ${statement.byteLength} bytes, manifest says ${layer.size}`, false);
  }
  return { descriptor: d, manifestDigest: d.digest, statement };
}
