import { createHash } from 'node:crypto';
import { ConnectError } from '../errors/connect-error.js';

/** The `encryption.keys` option: parsed and checked here, used by `SecretCipher`. */

const KID = /^[A-Za-z0-9_-]{1,32}$/;
const KEY_BYTES = 32;

/** One configured key. */
export interface EncryptionKey {
  readonly kid: string;
  readonly key: Buffer;
}

/** 32 bytes from standard or URL-safe base64 (padding optional), or `undefined`. */
function decodeKey(text: string): Buffer | undefined {
  if (!/^[A-Za-z0-9+/_-]+={0,2}$/.test(text)) return undefined;
  const bytes = Buffer.from(text.replace(/-/g, '+').replace(/_/g, '/'), 'base64');
  return bytes.length === KEY_BYTES ? bytes : undefined;
}

/** The key id derived from a key: the first 8 bytes of its SHA-256, base64url. */
export function deriveKeyId(key: Buffer): string {
  return createHash('sha256').update(key).digest().subarray(0, 8).toString('base64url');
}

/**
 * Parses `<key>` or `<kid>:<key>`, where key is 32 bytes of base64 or base64url. Error messages name
 * the position, never the value.
 */
export function parseEncryptionKey(spec: string, position = 0): EncryptionKey {
  const where = `encryption.keys[${position}]`;
  if (typeof spec !== 'string') throw configInvalid(`${where} must be a string.`);
  const text = spec.trim();
  const colon = text.indexOf(':');
  const kid = colon === -1 ? undefined : text.slice(0, colon);
  const encoded = colon === -1 ? text : text.slice(colon + 1);
  if (kid !== undefined && !KID.test(kid)) {
    throw configInvalid(`${where} has an invalid key id: use 1 to 32 characters of A-Z, a-z, 0-9, "_" and "-".`);
  }
  const key = decodeKey(encoded);
  if (key === undefined) throw configInvalid(`${where} is not 32 bytes of base64 or base64url.`);
  return { kid: kid ?? deriveKeyId(key), key };
}

/** Every key of `encryption.keys`, parsed, with distinct key ids. */
export function parseEncryptionKeys(specs: readonly string[]): EncryptionKey[] {
  const keys = specs.map((spec, position) => parseEncryptionKey(spec, position));
  assertUniqueKeyIds(keys);
  return keys;
}

/** At least one key, and no key id twice (the id picks the key that decrypts). */
export function assertUniqueKeyIds(keys: readonly EncryptionKey[]): void {
  if (keys.length === 0) throw configInvalid('encryption.keys needs at least one key.');
  const seen = new Set<string>();
  for (const { kid } of keys) {
    if (seen.has(kid)) throw configInvalid(`encryption.keys holds the key id "${kid}" twice.`);
    seen.add(kid);
  }
}

function configInvalid(message: string): ConnectError {
  return ConnectError.create('config/invalid', message);
}
