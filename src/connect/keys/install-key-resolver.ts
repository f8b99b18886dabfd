import type { KeyObject, webcrypto } from 'node:crypto';

/** The site a signed install comes from, as far as the framework knows it when the key is resolved. */
export interface InstallKeySite {
  /** The payload's baseUrl (not signed; already checked against allowedHostPatterns). */
  baseUrl: string | undefined;
}

/**
 * Resolves the RSA public key Atlassian signed a lifecycle (`installed`/`uninstalled`) token with.
 * Rejects with a `ConnectError`: `jwt/invalid-kid` when the kid is not of a safe form or the key host
 * does not know it, `jwt/key-unavailable` when the key host cannot be reached or answers badly.
 *
 * `site` picks among configured key hosts (Atlassian runs one per environment); it comes from the
 * unsigned body, so it may only choose between hosts the app trusts, never name one. A resolver with a
 * single key host may ignore it.
 */
export interface InstallKeyResolver {
  resolve(kid: string, site?: InstallKeySite): Promise<KeyObject | webcrypto.CryptoKey>;
}

/** Injection token for the `InstallKeyResolver`. */
export const INSTALL_KEY_RESOLVER = Symbol.for('atlassian-connect-nest:InstallKeyResolver');
