import { createHash, hash, timingSafeEqual } from 'node:crypto';
import { ConnectError } from '../../errors/connect-error.js';
import { base64urlUtf8 } from '../../util/strict-utf8.js';

/** A compact JWS split and decoded once: header and claims are NOT trusted until the signature is checked. */
export interface CompactJwt {
  readonly header: Readonly<Record<string, unknown>>;
  readonly claims: Record<string, unknown>;
  /** `base64url(header) "." base64url(claims)`: the bytes the signature covers. */
  readonly signingInput: string;
  /** The signature part, still base64url-encoded. */
  readonly signature: string;
}

/** Three base64url parts separated by dots, the first two non-empty (the signature may be empty). */
export const JWT_SHAPE = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/;
const SHA256_SIGNATURE_LENGTH = 43; // 32 bytes in unpadded base64url

/**
 * Splits and decodes a compact JWS exactly once. Every authenticated request goes through here, so it
 * does the least work that is still strict: three base64url parts, each of the first two a JSON object.
 * Anything else is `jwt/malformed`.
 */
export function parseCompactJwt(token: string): CompactJwt {
  if (!JWT_SHAPE.test(token)) {
    throw ConnectError.create('jwt/malformed', 'The JWT is not three base64url parts separated by dots.');
  }
  const first = token.indexOf('.');
  const second = token.indexOf('.', first + 1);
  const headerPart = token.slice(0, first);
  const claimsPart = token.slice(first + 1, second);
  const signature = token.slice(second + 1);
  return { header: decodeHeader(headerPart), claims: decodePart(claimsPart, 'claims'), signingInput: token.slice(0, second), signature };
}

/** Distinct headers remembered: the products send the same one or two headers on every request. */
const MAX_REMEMBERED_HEADERS = 32;
const rememberedHeaders = new Map<string, Readonly<Record<string, unknown>>>();

/** The decoded header, frozen; a header seen before is not decoded again (bounded, oldest dropped). */
function decodeHeader(part: string): Readonly<Record<string, unknown>> {
  const known = rememberedHeaders.get(part);
  if (known !== undefined) return known;
  const header = Object.freeze(decodePart(part, 'header'));
  if (part.length <= 256) {
    if (rememberedHeaders.size >= MAX_REMEMBERED_HEADERS) rememberedHeaders.delete(rememberedHeaders.keys().next().value as string);
    rememberedHeaders.set(part, header);
  }
  return header;
}

function decodePart(part: string, what: string): Record<string, unknown> {
  const text = base64urlUtf8(part);
  if (text === undefined) throw ConnectError.create('jwt/malformed', `The JWT ${what} is not valid UTF-8.`);
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw ConnectError.create('jwt/malformed', `The JWT ${what} is not valid JSON.`);
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw ConnectError.create('jwt/malformed', `The JWT ${what} is not a JSON object.`);
  }
  return value as Record<string, unknown>;
}

/**
 * Header rules for a token verified with HS256: the algorithm is pinned (never read from the token
 * to pick a verifier), and extensions we do not implement (`crit`, unencoded payloads) are refused
 * rather than ignored.
 */
export function assertHs256Header(header: Readonly<Record<string, unknown>>): void {
  if (header.alg !== 'HS256') {
    throw ConnectError.create('jwt/unsupported-alg', `This route accepts HS256 tokens only, not ${JSON.stringify(header.alg)}.`);
  }
  if (header.crit !== undefined) throw ConnectError.create('jwt/malformed', 'The JWT header names critical extensions (crit), which are not supported.');
  if (header.b64 !== undefined) throw ConnectError.create('jwt/malformed', 'The JWT header parameter b64 is not supported.');
}

/** An HMAC-SHA256 key prepared once (RFC 2104 inner and outer pads), for `verifyHs256Signature`. */
export interface Hs256Key {
  readonly innerPad: Buffer;
  readonly outerPad: Buffer;
}

const SHA256_BLOCK = 64;

/** Prepares a secret for HMAC-SHA256: hashed first when longer than the block, then padded and XORed. */
export function hs256Key(secret: Buffer): Hs256Key {
  const key = secret.length > SHA256_BLOCK ? createHash('sha256').update(secret).digest() : secret;
  const innerPad = Buffer.alloc(SHA256_BLOCK, 0x36);
  const outerPad = Buffer.alloc(SHA256_BLOCK, 0x5c);
  for (let i = 0; i < key.length; i++) {
    innerPad[i]! ^= key[i]!;
    outerPad[i]! ^= key[i]!;
  }
  return { innerPad, outerPad };
}

/**
 * HMAC-SHA256 (RFC 2104) of latin1 text, base64url. Built on the one-shot `crypto.hash`, which creates
 * no native Hash/Hmac object per call: those are garbage-collected native handles, and on a server
 * answering thousands of requests a second they cost far more than the hashing itself. Checked
 * against `createHmac` in compact-jwt.spec.ts.
 */
export function hmacSha256Base64url(key: Hs256Key, text: string): string {
  const message = Buffer.allocUnsafe(SHA256_BLOCK + text.length);
  key.innerPad.copy(message, 0);
  message.write(text, SHA256_BLOCK, 'latin1');
  const outer = Buffer.allocUnsafe(SHA256_BLOCK + 32);
  key.outerPad.copy(outer, 0);
  hash('sha256', message, 'buffer').copy(outer, SHA256_BLOCK);
  return hash('sha256', outer, 'base64url');
}

/**
 * Checks an HS256 signature in constant time (synchronous, no WebCrypto round trip). The comparison is
 * over the canonical base64url text, so a signature with altered padding bits (which a lenient
 * decoder would map to the same bytes) is refused too.
 */
export function verifyHs256Signature(jwt: CompactJwt, key: Hs256Key): void {
  const expected = Buffer.from(hmacSha256Base64url(key, jwt.signingInput), 'latin1');
  const given = Buffer.from(jwt.signature, 'latin1');
  if (given.length !== SHA256_SIGNATURE_LENGTH || !timingSafeEqual(given, expected)) {
    throw ConnectError.create('jwt/invalid-signature', 'The JWT signature does not verify.');
  }
}

/**
 * The registered time claims, after the signature: `exp` required and not passed, `nbf` (when present)
 * reached, both with `leewaySeconds` of clock skew. `iat` is checked by `assertConnectClaims`.
 */
export function assertTimeClaims(claims: Readonly<Record<string, unknown>>, leewaySeconds: number, now = Date.now() / 1000): void {
  const { exp, nbf } = claims;
  if (typeof exp !== 'number' || !Number.isFinite(exp)) throw ConnectError.create('jwt/malformed', 'The JWT has no valid expiry (exp).');
  if (nbf !== undefined && (typeof nbf !== 'number' || !Number.isFinite(nbf))) {
    throw ConnectError.create('jwt/malformed', 'The JWT claim "nbf" is invalid.');
  }
  assertValidityWindow(exp, nbf);
  if (typeof nbf === 'number' && nbf > now + leewaySeconds) {
    throw ConnectError.create('jwt/not-yet-valid', 'The JWT is not valid yet (nbf is in the future).');
  }
  if (exp <= now - leewaySeconds) throw ConnectError.create('jwt/expired', 'The JWT has expired.');
}

/** A token whose `nbf` is at or after its `exp` is valid at no time at all: malformed, whatever the clock says. */
export function assertValidityWindow(exp: unknown, nbf: unknown): void {
  if (typeof exp === 'number' && typeof nbf === 'number' && nbf >= exp) {
    throw ConnectError.create('jwt/malformed', 'The JWT is valid at no time: its nbf is not before its exp.');
  }
}
