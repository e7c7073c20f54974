/** The registry capability's public surface (framework-free; the Nest module wraps it). */
export * from './errors';
export * from './media-types';
export * from './reference';
export * from './registries.config';
export * from './descriptor';
export * from './oci-client';
export * from './client-resolver';
export * from './subject-lock';
export * from './fallback-index';
export * from './linker';
export * from './discover';
export * from './copy';
