import { randomUUID, type webcrypto } from 'node:crypto';
import { exportJWK, type JWK } from 'jose';

/** An RSA key pair standing in for one of Forge's FIT signing keys. */
export interface ForgeKeyPair {
  /** The key id: the `kid` header of the tokens it signs, and of its entry in the JWKS. */
  readonly kid: string;
  readonly privateKey: webcrypto.CryptoKey;
  readonly publicKey: webcrypto.CryptoKey;
  /** The public key as the JWKS lists it (`kty`, `n`, `e`, `kid`, `alg: RS256`, `use: sig`). */
  readonly publicJwk: JWK;
}

/** Creates an RS256 key pair (RSA 2048) for signing Forge Invocation Tokens in tests. */
export async function createForgeKeyPair(options: { kid?: string } = {}): Promise<ForgeKeyPair> {
  const kid = options.kid ?? randomUUID();
  const pair = (await globalThis.crypto.subtle.generateKey({ name: 'RSASSA-PKCS1-v1_5', modulusLength: 2048, publicExponent: new Uint8Array([1, 0, 1]), hash: 'SHA-256' }, true, [
    'sign',
    'verify',
  ])) as webcrypto.CryptoKeyPair;
  const publicJwk = { ...(await exportJWK(pair.publicKey)), kid, alg: 'RS256', use: 'sig' };
  return { kid, privateKey: pair.privateKey, publicKey: pair.publicKey, publicJwk };
}
