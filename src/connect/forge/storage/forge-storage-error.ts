import type { ConnectErrorCode } from '../../errors/connect-error-codes.js';
import { ConnectError } from '../../errors/connect-error.js';

/** The codes a `ForgeStorageError` can have. */
export type StorageErrorCode = Extract<ConnectErrorCode, `storage/${string}`>;

/** What a failed storage call carries besides its code. */
export interface ForgeStorageErrorFacts {
  /** The operation (`v1/get`, `v1/entity/query`, …). */
  readonly operation: string;
  /** HTTP status of the storage API's answer, when there was one (none for checks made before sending). */
  readonly status?: number | undefined;
  /** The storage API's own error code (`KEY_NOT_FOUND`, `RATE_LIMIT_EXCEEDED`, `MAX_SIZE`, …), when it gave one. */
  readonly apiCode?: string | undefined;
  /** Retries made before giving up. */
  readonly retries?: number | undefined;
}

/**
 * A failed call of `ForgeStorage`. Never carries the token: not in `message`, `toString()` or
 * `toJSON()`. Errors raised before anything was sent (a bad key, a value over the size limit) have no
 * `status`.
 */
export class ForgeStorageError extends ConnectError {
  readonly operation: string;
  readonly status: number | undefined;
  readonly apiCode: string | undefined;
  readonly retries: number;

  constructor(code: StorageErrorCode, message: string, facts: ForgeStorageErrorFacts, cause?: unknown) {
    super(code, message, { operation: facts.operation, status: facts.status, apiCode: facts.apiCode }, cause === undefined ? undefined : { cause });
    this.operation = facts.operation;
    this.status = facts.status;
    this.apiCode = facts.apiCode;
    this.retries = facts.retries ?? 0;
  }

  override toString(): string {
    return `ForgeStorageError [${this.code}]: ${this.message}`;
  }
}

/** A request refused before sending: bad input (`storage/invalid-request`) or over a size limit (`storage/too-large`). */
export function refuseLocally(code: 'storage/invalid-request' | 'storage/too-large', operation: string, message: string): ForgeStorageError {
  return new ForgeStorageError(code, message, { operation });
}
