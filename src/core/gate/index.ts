export * from './consumer-policy';
export * from './gate';
