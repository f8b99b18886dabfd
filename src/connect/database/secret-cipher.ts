import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';

import { ConnectError } from '../errors/connect-error.js';

/** Format version of an encrypted value: `v1.<kid>.<nonce b64url>.<ciphertext+tag b64url>`. */
export const SECRET_FORMAT_PREFIX = 'v1.';

const KID = /^[A-Za-z0-9_-]{1,32}$/;
const ENCRYPTED = /^v1\.([A-Za-z0-9_-]{1,32})\.([A-Za-z0-9_-]{16})\.([A-Za-z0-9_-]{22,})$/;
const KEY_BYTES = 32;
const NONCE_BYTES = 12;
const TAG_BYTES = 16;
const AAD_LABEL = 'atlassian-connect-nest/tenant-shared-secret/v1';

/** Which row a secret belongs to; bound to the ciphertext as associated data. */
export interface SecretOwner {
  readonly appKey: string;
  readonly clientKey: string;
}

/** Why a stored secret could not be decrypted (`detail.reason` of the error). */
export type UndecryptableReason = 'unknown-key' | 'plaintext' | 'tampered';

function configInvalid(message: string): ConnectError {
  return ConnectError.create('config/invalid', message);
}

/**
 * The error for a stored secret that cannot be decrypted. The message is safe for a client (it never
 * holds the value); `detail` tells operators which row and which key id.
 */
function undecryptable(reason: UndecryptableReason, owner: SecretOwner, kid?: string): ConnectError {
  const message =
    reason === 'unknown-key'
      ? `A tenant's shared secret is encrypted with key id "${kid}", which is not among the configured encryption keys (encryption.keys / CONNECT_ENCRYPTION_KEYS): add that key back.`
      : reason === 'plaintext'
        ? "A tenant's shared secret is stored unencrypted: the row was written past the framework or the secret-encryption migration did not run."
        : "A tenant's shared secret failed authentication on decryption: the stored value was altered or moved from another row.";
  return ConnectError.create('store/unavailable', message, {
    reason: `secret/${reason}`,
    appKey: owner.appKey,
    clientKey: owner.clientKey,
    ...(kid === undefined ? {} : { kid }),
  });
}

/** True when `error` is the failure to decrypt a stored secret (unknown key, plaintext, tampering). */
export function isUndecryptableSecretError(error: unknown): error is ConnectError {
  return error instanceof ConnectError && typeof error.detail?.reason === 'string' && error.detail.reason.startsWith('secret/');
}

/** `connect-tenant-secret/v1 | len(appKey) appKey | len(clientKey) clientKey`, lengths as 32-bit big endian. */
function associatedData(owner: SecretOwner): Buffer {
  const parts = [AAD_LABEL, owner.appKey, owner.clientKey].map((part) => Buffer.from(part, 'utf8'));
  return Buffer.concat(
    parts.flatMap((part) => {
      const length = Buffer.alloc(4);
      length.writeUInt32BE(part.length);
      return [length, part];
    }),
  );
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

/** One configured key. */
export interface EncryptionKey {
  readonly kid: string;
  readonly key: Buffer;
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

/**
 * Encrypts tenants' shared secrets with AES-256-GCM: a random 96-bit nonce per value and the
 * tenant's (appKey, clientKey) as associated data, so a value copied to another row does not decrypt.
 * The first key encrypts; every key decrypts (rotation: put the new key first, keep the old ones until
 * `reencryptTenantSecrets` has run).
 */
export class SecretCipher {
  private readonly keys: ReadonlyMap<string, Buffer>;
  /** The id of the key new values are encrypted with. */
  readonly currentKid: string;

  constructor(keys: readonly EncryptionKey[]) {
    if (keys.length === 0) throw configInvalid('encryption.keys needs at least one key.');
    const map = new Map<string, Buffer>();
    for (const { kid, key } of keys) {
      if (map.has(kid)) throw configInvalid(`encryption.keys holds the key id "${kid}" twice.`);
      map.set(kid, key);
    }
    this.keys = map;
    this.currentKid = keys[0]!.kid;
  }

  /** From `encryption.keys` strings (`<key>` or `<kid>:<key>`). */
  static fromKeys(specs: readonly string[]): SecretCipher {
    return new SecretCipher(specs.map((spec, index) => parseEncryptionKey(spec, index)));
  }

  /** Whether `value` has the shape of an encrypted value (otherwise it is plaintext). */
  static isEncrypted(value: string): boolean {
    return ENCRYPTED.test(value);
  }

  /** The key id of an encrypted value, or `undefined` for plaintext. */
  static keyIdOf(value: string): string | undefined {
    return ENCRYPTED.exec(value)?.[1];
  }

  encrypt(plaintext: string, owner: SecretOwner): string {
    const key = this.keys.get(this.currentKid) as Buffer;
    const nonce = randomBytes(NONCE_BYTES);
    const cipher = createCipheriv('aes-256-gcm', key, nonce, { authTagLength: TAG_BYTES });
    cipher.setAAD(associatedData(owner));
    const sealed = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final(), cipher.getAuthTag()]);
    return `${SECRET_FORMAT_PREFIX}${this.currentKid}.${nonce.toString('base64url')}.${sealed.toString('base64url')}`;
  }

  /** Decrypts a stored value; throws a `store/unavailable` ConnectError (see `isUndecryptableSecretError`). */
  decrypt(stored: string, owner: SecretOwner): string {
    const match = ENCRYPTED.exec(stored);
    if (match === null) throw undecryptable('plaintext', owner);
    // The pattern has three groups that always take part in a match.
    const [, kid, nonceText, sealedText] = match as unknown as [string, string, string, string];
    const key = this.keys.get(kid);
    if (key === undefined) throw undecryptable('unknown-key', owner, kid);
    const nonce = Buffer.from(nonceText, 'base64url');
    const sealed = Buffer.from(sealedText, 'base64url');
    if (nonce.length !== NONCE_BYTES || sealed.length < TAG_BYTES) throw undecryptable('tampered', owner, kid);
    try {
      const decipher = createDecipheriv('aes-256-gcm', key, nonce, { authTagLength: TAG_BYTES });
      decipher.setAAD(associatedData(owner));
      decipher.setAuthTag(sealed.subarray(sealed.length - TAG_BYTES));
      const plain = Buffer.concat([decipher.update(sealed.subarray(0, sealed.length - TAG_BYTES)), decipher.final()]);
      return plain.toString('utf8');
    } catch {
      throw undecryptable('tampered', owner, kid);
    }
  }

  /** Whether a stored value is encrypted with a key other than the current one (or not at all). */
  needsReencryption(stored: string): boolean {
    return SecretCipher.keyIdOf(stored) !== this.currentKid;
  }
}

const ciphers = new WeakMap<object, SecretCipher>();

/** Binds the cipher to a DataSource, so every `TypeOrmTenantStore` over it uses it. */
export function bindSecretCipher(dataSource: object, cipher: SecretCipher): void {
  ciphers.set(dataSource, cipher);
}

/** The cipher bound to a DataSource by `bindSecretCipher` (the framework binds its own). */
export function boundSecretCipher(dataSource: object): SecretCipher | undefined {
  return ciphers.get(dataSource);
}
