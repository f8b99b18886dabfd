import type { ConnectErrorCode } from './connect-error-codes.js';

/**
 * The one error type the framework throws. `code` says what went wrong (`jwt/expired`, …), `message`
 * is a sentence meant for the caller, and `detail` carries operator-only facts (for a qsh mismatch:
 * the canonical request we computed). None of them ever holds a token or a secret.
 */
export class ConnectError extends Error {
  override readonly name = 'ConnectError';
  /** The app key a 401 names in `WWW-Authenticate`; set by the edge that knows the app. */
  realm: string | undefined;

  constructor(
    readonly code: ConnectErrorCode,
    message: string,
    readonly detail?: Readonly<Record<string, string | number | boolean | undefined>>,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }

  static create(code: ConnectErrorCode, message: string, detail?: Readonly<Record<string, string | number | boolean | undefined>>, cause?: unknown): ConnectError {
    return new ConnectError(code, message, detail, cause === undefined ? undefined : { cause });
  }

  /** The JSON body sent to the client. */
  toJSON(): { type: ConnectErrorCode; message: string } {
    return { type: this.code, message: this.message };
  }
}

export function isConnectError(value: unknown): value is ConnectError {
  return value instanceof ConnectError;
}
