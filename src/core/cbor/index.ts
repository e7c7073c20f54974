export * from './errors';
export * from './types';
export * from './decode';
export * from './encode';
export * from './expect';
export * from './seq';
