export * from './registration-policy';
export * from './trust-statements';
