import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';

import { assertUniqueKeyIds, parseEncryptionKeys, type EncryptionKey } from '../config/encryption-key-option.js';
import { ConnectError } from '../errors/connect-error.js';

/** Format version of an encrypted value: `v1.<kid>.<nonce b64url>.<ciphertext+tag b64url>`. */
export const SECRET_FORMAT_PREFIX = 'v1.';

const ENCRYPTED = /^v1\.([A-Za-z0-9_-]{1,32})\.([A-Za-z0-9_-]{16})\.([A-Za-z0-9_-]{22,})$/;
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
    assertUniqueKeyIds(keys);
    this.keys = new Map(keys.map(({ kid, key }) => [kid, key]));
    this.currentKid = keys[0]!.kid;
  }

  /** From `encryption.keys` strings (`<key>` or `<kid>:<key>`). */
  static fromKeys(specs: readonly string[]): SecretCipher {
    return new SecretCipher(parseEncryptionKeys(specs));
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
