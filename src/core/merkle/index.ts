export * from './errors';
export * from './hash';
export * from './verify';
export * from './reference';
export * from './tiles';
export * from './tile-path';
export * from './tree-state';
export * from './memory-tiles';
export { warmTileHashes } from './tile-hashes';
