export const SERVICE_KEYS = Symbol('SERVICE_KEYS');
