import assert from 'node:assert/strict';
import { LedgerError } from '../../src/core/errors';

/** For assert.rejects/throws: a LedgerError with this code and `details.retryable`. */
export function isCode(code: string, retryable: boolean) {
  return (e: unknown): boolean => {
    assert.ok(e instanceof LedgerError, `expected LedgerError, got ${String(e)}`);
    assert.equal(e.code, code, e.message);
    assert.equal(e.details?.retryable, retryable, `retryable of ${e.code}: ${e.message}`);
    return true;
  };
}
