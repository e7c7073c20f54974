export * from './errors';
export * from './keys';
export * from './note';
export * from './checkpoint';
export { decodeBase64Strict, isValidKeyName } from './text';
