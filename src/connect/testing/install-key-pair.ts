import { randomUUID, type webcrypto } from 'node:crypto';
import { exportSPKI } from 'jose';

/** An RSA key pair standing in for one of Atlassian's install signing keys. */
export interface InstallKeyPair {
  /** The key id: goes into the `kid` header of the install token and names the key on the key server. */
  readonly kid: string;
  /** Signs install tokens: `new SignJWT(claims).setProtectedHeader({ alg: 'RS256', kid }).sign(privateKey)`. */
  readonly privateKey: webcrypto.CryptoKey;
  readonly publicKey: webcrypto.CryptoKey;
  /** The public key as served by the install keys host (SPKI, `-----BEGIN PUBLIC KEY-----`). */
  readonly publicKeyPem: string;
}

export interface CreateInstallKeyPairOptions {
  /** Default: a random UUID, like Atlassian's kids. */
  kid?: string;
  /**
   * RSA modulus length in bits, default 2048. Smaller values are allowed so tests can check that weak
   * keys are refused (jose itself will not sign with them).
   */
  modulusLength?: number;
}

/** Creates an RS256 key pair for signing install/uninstall lifecycle tokens in tests. */
export async function createInstallKeyPair(options: CreateInstallKeyPairOptions = {}): Promise<InstallKeyPair> {
  const kid = options.kid ?? randomUUID();
  const modulusLength = options.modulusLength ?? 2048;
  // WebCrypto directly (not jose's generateKeyPair) so that weak moduli can be made for negative tests.
  const pair = (await globalThis.crypto.subtle.generateKey(
    {
      name: 'RSASSA-PKCS1-v1_5',
      modulusLength,
      publicExponent: new Uint8Array([1, 0, 1]),
      hash: 'SHA-256',
    },
    true,
    ['sign', 'verify'],
  )) as webcrypto.CryptoKeyPair;
  const publicKeyPem = await exportSPKI(pair.publicKey);
  return { kid, privateKey: pair.privateKey, publicKey: pair.publicKey, publicKeyPem };
}
