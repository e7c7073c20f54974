/**
 * COSE for the ledger: COSE_Sign1 (RFC 9052), keys (COSE_Key, JWK, PEM, X.509; RFC 9679
 * thumbprints), the Signed Statement profile (RFC 9943, hash envelope), RFC 9942 receipts over
 * RFC 9162 (and CCF) logs, and transparent statements. Framework-free, node:crypto only.
 */
export * from './errors';
export * from './labels';
export * from './algorithms';
export * from './sign1';
export * from './keys';
export * from './x509';
export * from './statement';
export * from './receipt';
export * from './receipt-verify';
export * from './transparent';
export { verifyCcfInclusion } from './ccf';
