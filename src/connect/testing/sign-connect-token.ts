import { createSecretKey } from 'node:crypto';
import { SignJWT, type JWTPayload } from 'jose';
import { queryStringHash } from '../auth/jwt/canonical-request.js';
import { CONTEXT_QSH } from '../auth/jwt/connect-jwt-claims.js';

export interface SignConnectTokenOptions {
  /** The tenant's clientKey (the token's `iss`). */
  clientKey: string;
  /** The tenant's shared secret. */
  sharedSecret: string;
  /** The request the token is for; with `url` it fixes the qsh. Default `GET`. */
  method?: string;
  /** Path and query (or absolute URL) of the request the token is for. */
  url?: string;
  /** The app's baseUrl, whose path is stripped before hashing (e.g. `https://app.example.com/jira`). */
  appBaseUrl?: string;
  /** `'context'` makes a context token (`qsh: "context-qsh"`); a string sets the qsh as given. */
  qsh?: 'context' | string;
  /** The user's account id (`sub`). */
  accountId?: string;
  /** Seconds until expiry (default 180); negative makes an expired token. */
  expiresIn?: number;
  /** Seconds added to now for `iat` (default 0). */
  issuedAtOffset?: number;
  /** Extra or overriding claims; `undefined` values remove a claim. */
  claims?: ClaimOverrides | undefined;
}

/** Claims to add or override in a test token; a claim given as `undefined` is left out of the token. */
export type ClaimOverrides = { [Name in keyof JWTPayload]?: JWTPayload[Name] | undefined };

/** The claims to sign: those given as `undefined` left out. */
export function definedClaims(claims: ClaimOverrides): JWTPayload {
  return Object.fromEntries(Object.entries(claims).filter(([, value]) => value !== undefined)) as JWTPayload;
}

/**
 * Signs an HS256 token the way Jira or Confluence signs requests to an app: `iss` = clientKey, `qsh`
 * bound to the request unless a context token is asked for.
 *
 * @example
 * ```ts
 * const token = await signConnectToken({ clientKey, sharedSecret, method: 'GET', url: '/jira/api/whoami', appBaseUrl });
 * await request(server).get('/jira/api/whoami').set('Authorization', `JWT ${token}`).expect(200);
 * ```
 */
export async function signConnectToken(options: SignConnectTokenOptions): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  const iat = now + (options.issuedAtOffset ?? 0);
  let qsh: string | undefined;
  if (options.qsh === 'context') qsh = CONTEXT_QSH;
  else if (options.qsh !== undefined) qsh = options.qsh;
  else if (options.url !== undefined) qsh = queryStringHash(options.method ?? 'GET', options.url, options.appBaseUrl);
  const claims: ClaimOverrides = {
    iss: options.clientKey,
    iat,
    exp: now + (options.expiresIn ?? 180),
    ...(qsh !== undefined && { qsh }),
    ...(options.accountId !== undefined && { sub: options.accountId }),
    ...options.claims,
  };
  return new SignJWT(definedClaims(claims)).setProtectedHeader({ alg: 'HS256', typ: 'JWT' }).sign(createSecretKey(Buffer.from(options.sharedSecret, 'utf8')));
}
