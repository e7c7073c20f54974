/** Media types and fixed values from the OCI image-spec v1.1 and the Docker schema 2 formats. */
export const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
export const OCI_INDEX = 'application/vnd.oci.image.index.v1+json';
export const DOCKER_MANIFEST = 'application/vnd.docker.distribution.manifest.v2+json';
export const DOCKER_MANIFEST_LIST = 'application/vnd.docker.distribution.manifest.list.v2+json';

/**
 * Sent on every manifest read. Without the OCI types distribution answers 404 MANIFEST_UNKNOWN
 * for an OCI index, and a fallback writer that believed it would overwrite other tools' referrers.
 */
export const MANIFEST_ACCEPT = [OCI_MANIFEST, OCI_INDEX, DOCKER_MANIFEST, DOCKER_MANIFEST_LIST].join(', ');

export const INDEX_TYPES: ReadonlySet<string> = new Set([OCI_INDEX, DOCKER_MANIFEST_LIST]);
export const IMAGE_MANIFEST_TYPES: ReadonlySet<string> = new Set([OCI_MANIFEST, DOCKER_MANIFEST]);
export const MANIFEST_TYPES: ReadonlySet<string> = new Set([...INDEX_TYPES, ...IMAGE_MANIFEST_TYPES]);

/** IANA-registered type of a (transparent) SCITT statement; the claim layer and artifactType. */
export const SCITT_STATEMENT = 'application/scitt-statement+cose';

/** The empty JSON config every artifact manifest points at (image-spec "empty descriptor"). */
export const EMPTY_CONFIG_MEDIA_TYPE = 'application/vnd.oci.empty.v1+json';
export const EMPTY_CONFIG_BYTES: Uint8Array = new TextEncoder().encode('{}');
export const EMPTY_CONFIG_DIGEST = 'sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a';

export const ANNOTATION_CREATED = 'org.opencontainers.image.created';

/** Size limits for what a registry sends back; anything larger is refused, not buffered. */
export const MAX_MANIFEST_BYTES = 4 * 1024 * 1024;
export const MAX_JSON_BYTES = 64 * 1024;
export const MAX_BLOB_BYTES = 64 * 1024 * 1024;
