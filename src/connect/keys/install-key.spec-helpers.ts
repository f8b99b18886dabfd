import { SignJWT } from 'jose';
import { ConnectError } from '../errors/connect-error.js';
import type { ConnectErrorCode } from '../errors/connect-error-codes.js';
import type { InstallKeyPair } from '../testing/install-key-pair.js';

/** A short-lived RS256 token signed by `pair` under its kid: what a key resolved for that kid must verify. */
export function signedByInstallKey(pair: InstallKeyPair): Promise<string> {
  return new SignJWT({ qsh: 'test' })
    .setProtectedHeader({ alg: 'RS256', kid: pair.kid, typ: 'JWT' })
    .setIssuer('jira:client-key')
    .setAudience('https://app.example')
    .setIssuedAt()
    .setExpirationTime('3m')
    .sign(pair.privateKey);
}

/** The ConnectError `promise` rejects with; fails the test if it resolves or rejects with anything else. */
export async function rejectionOf(promise: Promise<unknown>): Promise<ConnectError> {
  const outcome = await promise.then(
    () => ({ ok: true as const }),
    (error: unknown) => ({ ok: false as const, error }),
  );
  if (outcome.ok) throw new Error('expected a rejection, but the promise resolved');
  expect(outcome.error).toBeInstanceOf(ConnectError);
  return outcome.error as ConnectError;
}

/** Like {@link rejectionOf}, and checks the error's code. */
export async function expectCode(promise: Promise<unknown>, code: ConnectErrorCode): Promise<ConnectError> {
  const error = await rejectionOf(promise);
  expect(error.code).toBe(code);
  return error;
}
