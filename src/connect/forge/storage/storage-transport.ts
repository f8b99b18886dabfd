import { ConnectClientError } from '../../client/connect-client-error.js';
import { ConnectHttpClient, type CallTarget, type ClientDefaults } from '../../client/connect-http-client.js';
import { ForgeStorageError, type StorageErrorCode } from './forge-storage-error.js';
import type { StorageRequest } from './storage-requests.js';

/** Forge's error codes that mean "no such key" (`@forge/kvs` reads `KEY_NOT_FOUND`; the REST page lists `NOT_FOUND`). */
const NOT_FOUND_CODES = new Set(['KEY_NOT_FOUND', 'NOT_FOUND']);
const TOO_LARGE_CODES = new Set(['MAX_SIZE', 'MAX_DEPTH', 'PAYLOAD_TOO_LARGE', 'REQUEST_TOO_LARGE']);
const RATE_LIMIT_CODES = new Set(['RATE_LIMIT_EXCEEDED', 'TOO_MANY_REQUESTS']);
/**
 * The docs name no code for a refused `FAIL_IF_EXISTS` write or a failed transaction condition; HTTP
 * 409 or a code that says conflict, already-exists or a failed condition is read as `storage/conflict`.
 */
const CONFLICT_CODE = /CONFLICT|ALREADY_EXISTS|CONDITION(AL)?_(CHECK_)?FAIL/;

/**
 * Sends checked storage requests through the outbound HTTP client (its timeouts, its retry policy and
 * backoff, its refusal to follow redirects or send a token off the base URL), and turns its errors into
 * `storage/*` ones.
 */
export class StorageTransport {
  private readonly http: ConnectHttpClient;

  constructor(target: () => Promise<CallTarget>, defaults: ClientDefaults) {
    this.http = new ConnectHttpClient(target, defaults);
  }

  /** The parsed answer (`undefined` for an empty one). */
  async send<T>(request: StorageRequest): Promise<T> {
    try {
      const response = await this.http.request<T>({
        method: 'POST',
        url: request.operation,
        body: request.body,
        // Every storage operation is a POST; the idempotent ones may be retried like a PUT.
        ...(request.idempotent && { retry: { retryNonIdempotent: true } }),
      });
      return response.body;
    } catch (error) {
      throw storageErrorOf(request.operation, error);
    }
  }
}

/** A `ForgeStorageError` for whatever the client threw. */
export function storageErrorOf(operation: string, error: unknown): ForgeStorageError {
  if (error instanceof ForgeStorageError) return error;
  if (!(error instanceof ConnectClientError)) {
    return new ForgeStorageError('storage/unavailable', `Forge storage ${operation} failed before an answer came.`, { operation }, error);
  }
  const facts = { operation, status: error.status, apiCode: error.productErrorCode, retries: error.retries };
  const said = error.productMessages.length > 0 ? `: ${error.productMessages.join('; ')}` : '';
  const apiCode = error.productErrorCode ?? '';
  const fail = (code: StorageErrorCode, message: string) => new ForgeStorageError(code, message, facts, error);
  switch (error.code) {
    case 'client/forge-token-expired':
      // A 401 from the storage API to a saved token: the client dropped it, as for a product call.
      if (error.status === 401)
        return fail('storage/unauthorized', `Forge storage refused the saved app system token (HTTP 401); it was dropped. The next Forge call brings a new one.`);
      return fail('storage/token-missing', `Forge storage ${operation} needs the installation's app system token. ${error.message}`);
    case 'client/timeout':
    case 'client/network':
    case 'client/aborted':
      return fail('storage/unavailable', `Forge storage ${operation}: ${error.message}`);
    case 'client/http-error':
      break;
    default:
      return fail('storage/invalid-request', `Forge storage ${operation}: ${error.message}`);
  }
  const status = error.status ?? 0;
  const retried = error.retries > 0 ? ` after ${error.retries} retr${error.retries === 1 ? 'y' : 'ies'}` : '';
  const answered = `Forge storage ${operation} answered HTTP ${status}${apiCode === '' ? '' : ` ${apiCode}`}${retried}${said}`;
  if (status === 429 || RATE_LIMIT_CODES.has(apiCode))
    return fail('storage/rate-limited', `${answered}. The installation's storage quota or rate limit is exhausted; try again later.`);
  if (NOT_FOUND_CODES.has(apiCode) || status === 404) return fail('storage/not-found', `${answered}.`);
  if (TOO_LARGE_CODES.has(apiCode) || status === 413) return fail('storage/too-large', `${answered}.`);
  if (status === 409 || CONFLICT_CODE.test(apiCode)) return fail('storage/conflict', `${answered}.`);
  if (status === 401 || status === 403) {
    return fail(
      'storage/unauthorized',
      `${answered}. The token was refused: the app needs the scopes storage:app and read:app-system-token, and only the app system token (x-forge-oauth-system) is accepted.`,
    );
  }
  if (status >= 500 || (status >= 300 && status < 400)) return fail('storage/unavailable', `${answered}.`);
  return fail('storage/invalid-request', `${answered}.`);
}
