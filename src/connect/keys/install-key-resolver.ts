import type { KeyObject, webcrypto } from 'node:crypto';

/**
 * Resolves the RSA public key Atlassian signed a lifecycle (`installed`/`uninstalled`) token with.
 * Rejects with a `ConnectError`: `jwt/invalid-kid` when the kid is not of a safe form or the key host
 * does not know it, `jwt/key-unavailable` when the key host cannot be reached or answers badly.
 */
export interface InstallKeyResolver {
  resolve(kid: string): Promise<KeyObject | webcrypto.CryptoKey>;
}

/** Injection token for the `InstallKeyResolver`. */
export const INSTALL_KEY_RESOLVER = Symbol.for('atlassian-connect-nest:InstallKeyResolver');
