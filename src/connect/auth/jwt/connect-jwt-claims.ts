import { decodeJwt, decodeProtectedHeader, type JWTPayload, type ProtectedHeaderParameters } from 'jose';
import { ConnectError } from '../../errors/connect-error.js';
import { jwtPartsAreUtf8 } from '../../util/strict-utf8.js';
import { assertValidityWindow } from './compact-jwt.js';

/** The claims of a token the product signs (HS256 for requests, RS256 for signed installs). */
export interface ConnectJwtClaims extends JWTPayload {
  iss: string;
  exp: number;
  sub?: string;
  qsh?: string;
  context?: unknown;
}

/** The literal `qsh` of tokens from `AP.context.getToken()`: valid only on routes that opt in. */
export const CONTEXT_QSH = 'context-qsh';

/**
 * Reads header and claims WITHOUT verifying anything: only to learn which key verifies the token
 * (the tenant from `iss`, the install key from `kid`). Nothing read here is trusted until verified.
 */
export function decodeUnverified(token: string): { header: ProtectedHeaderParameters; claims: JWTPayload } {
  let header: ProtectedHeaderParameters;
  let claims: JWTPayload;
  try {
    header = decodeProtectedHeader(token);
    claims = decodeJwt(token);
  } catch {
    throw ConnectError.create('jwt/malformed', 'The JWT could not be decoded.');
  }
  if (!jwtPartsAreUtf8(token)) throw ConnectError.create('jwt/malformed', 'The JWT header or payload is not valid UTF-8.');
  assertValidityWindow(claims.exp, claims.nbf);
  return { header, claims };
}

/**
 * Whether `aud` (a string or an array of them) names one of `accepted` (base URLs without trailing
 * slashes); a trailing slash on the token's value does not matter.
 */
export function audienceMatches(aud: unknown, accepted: readonly string[]): boolean {
  const values = Array.isArray(aud) ? aud : [aud];
  return values.some((value) => typeof value === 'string' && accepted.includes(value.replace(/\/+$/, '')));
}

/**
 * Claims every Connect token must carry, checked after the signature. `iat` is required: the products
 * always send it, and without it the token's lifetime (and so its replay window) cannot be bounded.
 * A token living longer than `maxLifetimeSeconds` (`exp - iat`) is refused as `jwt/lifetime-too-long`.
 */
export function assertConnectClaims(
  claims: JWTPayload,
  leewaySeconds: number,
  maxLifetimeSeconds = Number.POSITIVE_INFINITY,
  now = Date.now() / 1000,
): asserts claims is ConnectJwtClaims {
  if (typeof claims.iss !== 'string' || claims.iss === '') throw ConnectError.create('jwt/malformed', 'The JWT has no issuer (iss).');
  if (typeof claims.exp !== 'number' || !Number.isFinite(claims.exp)) throw ConnectError.create('jwt/malformed', 'The JWT has no expiry (exp).');
  if (claims.iat === undefined) throw ConnectError.create('jwt/malformed', 'The JWT has no issue time (iat).');
  if (typeof claims.iat !== 'number' || !Number.isFinite(claims.iat)) throw ConnectError.create('jwt/malformed', 'The JWT issue time (iat) is not a number.');
  if (claims.iat > now + leewaySeconds) throw ConnectError.create('jwt/not-yet-valid', 'The JWT was issued in the future (iat).');
  assertTokenLifetime(claims.iat, claims.exp, maxLifetimeSeconds);
  if (claims.sub !== undefined && typeof claims.sub !== 'string') throw ConnectError.create('jwt/malformed', 'The JWT subject (sub) is not a string.');
}

/** Refuses a token whose `exp - iat` exceeds `maxLifetimeSeconds` (the replay window it would open). */
export function assertTokenLifetime(iat: number, exp: number, maxLifetimeSeconds: number): void {
  if (exp - iat > maxLifetimeSeconds) {
    throw ConnectError.create('jwt/lifetime-too-long', `The JWT is valid for longer than ${maxLifetimeSeconds} seconds (exp - iat).`, {
      lifetimeSeconds: exp - iat,
    });
  }
}
