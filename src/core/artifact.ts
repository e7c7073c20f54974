/**
 * The artifact a claim is about, from its `sub`: the digest of a digest-pinned reference
 * (`[oci://]host/repo@sha256:<hex>`) or a bare `sha256:<hex>` / `sha512:<hex>`. Lowercase hex only,
 * as the OCI image spec requires.
 */
const DIGEST = /(?:^|@)((?:sha256:[0-9a-f]{64})|(?:sha512:[0-9a-f]{128}))$/;

export function artifactDigestOf(sub: string | undefined): string | undefined {
  if (!sub) return undefined;
  return DIGEST.exec(sub)?.[1];
}

export function isDigest(s: string): boolean {
  return /^(sha256:[0-9a-f]{64}|sha512:[0-9a-f]{128})$/.test(s);
}
