import type { ConnectModuleOptions } from '../config/connect-options.js';
import { DEFAULT_LEEWAY_SECONDS } from '../config/connect-options.js';
import { ConnectError } from '../errors/connect-error.js';
import { DEFAULT_FORGE_JWKS_URL, ForgeJwks, type ForgeJwksOptions } from './forge-jwks.js';

/** The JWKS settings of the module options (`forge.*`), defaults applied by `ForgeJwks`. */
export function forgeJwksOptionsOf(options: ConnectModuleOptions): ForgeJwksOptions {
  const forge = options.forge;
  return {
    url: forge?.jwksUrl ?? DEFAULT_FORGE_JWKS_URL,
    ...(forge?.jwksTimeoutMs !== undefined && { timeoutMs: forge.jwksTimeoutMs }),
    ...(forge?.jwksCooldownMs !== undefined && { cooldownMs: forge.jwksCooldownMs }),
    ...(forge?.jwksCacheMaxAgeMs !== undefined && { cacheMaxAgeMs: forge.jwksCacheMaxAgeMs }),
  };
}

/** The leeway on FIT time claims: `forge.leewaySeconds`, else `leewaySeconds`, else 30; at most 300. */
export function forgeLeewaySecondsOf(options: ConnectModuleOptions): number {
  const leeway = options.forge?.leewaySeconds ?? options.leewaySeconds ?? DEFAULT_LEEWAY_SECONDS;
  if (typeof leeway !== 'number' || !Number.isFinite(leeway) || leeway < 0 || leeway > 300) {
    throw ConnectError.create('config/invalid', `forge.leewaySeconds must be a number of seconds from 0 to 300, not ${String(leeway)}.`);
  }
  return leeway;
}

/**
 * Checks the `forge` options (JWKS URL, timings, leeway) with the apps, before anything is opened:
 * constructing the JWKS client validates without fetching.
 */
export function checkForgeOptions(options: ConnectModuleOptions): void {
  new ForgeJwks(forgeJwksOptionsOf(options));
  forgeLeewaySecondsOf(options);
}
