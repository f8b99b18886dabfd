import { ConnectError } from '../../errors/connect-error.js';
import { JWT_SHAPE } from './compact-jwt.js';

/** Longest token accepted; real Connect tokens are well under 2 KB. */
export const MAX_TOKEN_LENGTH = 8192;

type HeaderValue = string | string[] | undefined;

/**
 * Finds the token of a request: `Authorization: JWT <token>` (what the product sends to lifecycle and
 * REST routes) or the `jwt` query parameter (what it puts on iframe URLs). Two different tokens in one
 * request are refused rather than guessing which one the caller meant.
 */
export function extractToken(authorization: HeaderValue, rawUrl: string): string {
  // What the products send on nearly every request, "JWT <token>" and no jwt parameter, in one pattern
  // test; anything else takes the general path below, which gives the same token or the same error.
  if (typeof authorization === 'string' && authorization.startsWith('JWT ') && !rawUrl.includes('jwt=')) {
    const token = authorization.slice(4);
    if (token.length <= MAX_TOKEN_LENGTH && JWT_SHAPE.test(token)) return token;
  }
  return extractTokenInFull(authorization, rawUrl);
}

/** `extractToken` without its shortcut for the usual form (exported for the test that they agree). */
export function extractTokenInFull(authorization: HeaderValue, rawUrl: string): string {
  const fromHeader = tokenFromAuthorization(authorization);
  const fromQuery = tokenFromQuery(rawUrl);
  if (fromHeader !== undefined && fromQuery !== undefined && fromHeader !== fromQuery) {
    throw ConnectError.create('jwt/malformed', 'The request carries two different tokens (Authorization header and jwt query parameter).');
  }
  const token = fromHeader ?? fromQuery;
  if (token === undefined) {
    throw ConnectError.create('jwt/missing', 'No JWT was sent: use an "Authorization: JWT <token>" header or a jwt query parameter.');
  }
  if (token.length > MAX_TOKEN_LENGTH) {
    throw ConnectError.create('jwt/malformed', `The JWT is longer than ${MAX_TOKEN_LENGTH} characters.`);
  }
  if (!JWT_SHAPE.test(token)) {
    throw ConnectError.create('jwt/malformed', 'The JWT is not three base64url parts separated by dots.');
  }
  return token;
}

function tokenFromAuthorization(header: HeaderValue): string | undefined {
  if (header === undefined) return undefined;
  if (Array.isArray(header)) {
    throw ConnectError.create('jwt/malformed', 'The request carries more than one Authorization header.');
  }
  const match = /^JWT[ ]+(\S+)\s*$/i.exec(header);
  if (!match) {
    if (/^JWT\s*$/i.test(header)) throw ConnectError.create('jwt/missing', 'The Authorization header names the JWT scheme but carries no token.');
    return undefined;
  }
  return match[1];
}

function tokenFromQuery(rawUrl: string): string | undefined {
  const start = rawUrl.indexOf('?');
  if (start === -1) return undefined;
  let found: string | undefined;
  for (const pair of rawUrl.slice(start + 1).split('&')) {
    if (!pair.startsWith('jwt=')) continue;
    if (found !== undefined) throw ConnectError.create('jwt/malformed', 'The request carries more than one jwt query parameter.');
    found = safeDecode(pair.slice(4));
  }
  return found === '' ? undefined : found;
}

function safeDecode(value: string): string {
  try {
    return decodeURIComponent(value);
  } catch {
    throw ConnectError.create('jwt/malformed', 'The jwt query parameter is not validly percent-encoded.');
  }
}
