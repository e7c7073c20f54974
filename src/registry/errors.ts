import { LedgerError } from '../core/errors';

/**
 * Codes of the OCI registry capability. `details.retryable` tells the outbox worker whether a
 * later attempt can succeed (network errors, 5xx, 429, a subject not pushed yet) or whether the
 * link must be reported as failed until someone changes the configuration or the registry.
 */
export type RegistryErrorCode =
  | 'REGISTRY_NOT_CONFIGURED'
  | 'NOT_OCI_REFERENCE'
  | 'REGISTRY_UNAVAILABLE'
  | 'AUTH_FAILED'
  | 'SUBJECT_NOT_FOUND'
  | 'REGISTRY_ERROR'
  | 'BAD_REGISTRY_CONFIG';

export type RegistryError = LedgerError<RegistryErrorCode>;

export function registryError(
  code: RegistryErrorCode,
  message: string,
  retryable: boolean,
  details: Record<string, unknown> = {},
): RegistryError {
  return new LedgerError<RegistryErrorCode>(code, message, { ...details, retryable });
}

/** True when the error is ours and says a later attempt may succeed. */
export function isRetryableRegistryError(e: unknown): boolean {
  return e instanceof LedgerError && e.details?.retryable === true;
}
