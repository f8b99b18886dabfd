import { ConnectError, isConnectError } from '../errors/connect-error.js';

/**
 * The error every database failure of a store becomes (`store/unavailable`, HTTP 503). The cause is kept
 * for operators and logs; its text never goes into the message, which may reach a client.
 */
export function storeUnavailable(cause: unknown, what = 'The tenant store'): ConnectError {
  if (isConnectError(cause) && cause.code === 'store/unavailable') return cause;
  return ConnectError.create('store/unavailable', `${what} is unavailable.`, undefined, cause);
}
