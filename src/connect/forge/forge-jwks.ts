import { createRemoteJWKSet, customFetch, errors, type JWTHeaderParameters, type FlattenedJWSInput } from 'jose';
import type { webcrypto } from 'node:crypto';
import { ConnectError } from '../errors/connect-error.js';
import { CONNECT_DEFAULTS } from '../config/connect-defaults.js';
import { integerOption } from '../config/option-checks.js';
import { parseForgeJwksUrl } from '../config/url-options.js';
import { discardBody, fetchWithoutRedirects, readBodyCapped, ResponseTooLarge } from '../util/capped-fetch.js';
import { reasonOf } from '../util/error-reason.js';
import { isLoopbackHost } from '../util/loopback.js';

type CryptoKey = webcrypto.CryptoKey;

/** Settings of a {@link ForgeJwks}; the defaults are `CONNECT_DEFAULTS.forge` and `CONNECT_DEFAULTS.forgeJwksFetch`. */
export interface ForgeJwksOptions {
  /** https, or http on a loopback host (tests, the simulator). */
  url: string;
  timeoutMs?: number | undefined;
  cooldownMs?: number | undefined;
  cacheMaxAgeMs?: number | undefined;
  maxBodyBytes?: number | undefined;
  /** The fetch implementation; default the global `fetch`. */
  fetch?: typeof fetch | undefined;
}

export interface ForgeJwksStats {
  /** JWKS fetches started since construction (successful or not). */
  fetches: number;
}

/**
 * The keys of Forge Invocation Tokens, from one configured JWKS URL. jose's remote JWKS does the
 * caching: keys are kept for `cacheMaxAgeMs`, concurrent loads share one fetch, and a token whose `kid`
 * is not in the set refetches it once, unless the last fetch is younger than `cooldownMs` (so a flood
 * of made-up kids costs at most one fetch per cooldown). Every fetch goes through `fetchCapped`:
 * no redirects, a bounded body, a timeout.
 */
export class ForgeJwks {
  /** The JWKS URL as shown in messages (no query or credentials, which are refused). */
  readonly url: string;
  /** The JWKS is served from this machine: a fake host (tests, `simulate --forge-remote`). */
  readonly isLocal: boolean;
  private readonly keySet: ReturnType<typeof createRemoteJWKSet>;
  private fetchCount = 0;

  constructor(options: ForgeJwksOptions) {
    const url = parseForgeJwksUrl(options.url);
    this.url = url.href;
    this.isLocal = isLoopbackHost(url.hostname);
    const timeoutMs = integerOption('forge.jwksTimeoutMs', options.timeoutMs ?? CONNECT_DEFAULTS.forge.jwksTimeoutMs, 1);
    const maxBodyBytes = integerOption('maxBodyBytes', options.maxBodyBytes ?? CONNECT_DEFAULTS.forgeJwksFetch.maxBodyBytes, 1);
    const fetchImpl = options.fetch ?? globalThis.fetch;
    this.keySet = createRemoteJWKSet(url, {
      timeoutDuration: timeoutMs,
      cooldownDuration: integerOption('forge.jwksCooldownMs', options.cooldownMs ?? CONNECT_DEFAULTS.forge.jwksCooldownMs, 0),
      cacheMaxAge: integerOption('forge.jwksCacheMaxAgeMs', options.cacheMaxAgeMs ?? CONNECT_DEFAULTS.forge.jwksCacheMaxAgeMs, 0),
      [customFetch]: (input: string | URL | Request, init?: RequestInit) => {
        this.fetchCount++;
        return fetchCapped(fetchImpl, input, init, maxBodyBytes);
      },
    });
  }

  stats(): ForgeJwksStats {
    return { fetches: this.fetchCount };
  }

  /**
   * The key function for `jwtVerify`: jose's errors about the key set become typed errors here, so that
   * a JWKS outage (503) is told apart from a bad token (401).
   */
  readonly key = async (header: JWTHeaderParameters, token: FlattenedJWSInput): Promise<CryptoKey> => {
    try {
      return (await this.keySet(header, token)) as CryptoKey;
    } catch (error) {
      throw this.typed(error, header.kid);
    }
  };

  private typed(error: unknown, kid: string | undefined): ConnectError {
    if (error instanceof ConnectError) return error;
    const where = { jwksUrl: this.url, kid };
    if (error instanceof errors.JWKSNoMatchingKey) {
      return ConnectError.create('forge/unknown-kid', 'The Forge Invocation Token is signed with a key (kid) that the Forge JWKS does not list.', where);
    }
    if (error instanceof errors.JWKSMultipleMatchingKeys) {
      return ConnectError.create('forge/invalid-token', 'The Forge JWKS lists more than one key with the kid of this token.', where);
    }
    if (error instanceof errors.JOSENotSupported) {
      return ConnectError.create('forge/unsupported-alg', 'Forge Invocation Tokens must be signed with RS256.', where);
    }
    if (error instanceof errors.JWKSTimeout) {
      return ConnectError.create('forge/jwks-unavailable', `The Forge JWKS at ${this.url} did not answer in time.`, where, error);
    }
    if (error instanceof errors.JWKSInvalid) {
      return ConnectError.create('forge/jwks-unavailable', `The Forge JWKS at ${this.url} did not serve a valid JSON Web Key Set.`, where, error);
    }
    if (error instanceof errors.JOSEError) {
      return ConnectError.create('forge/jwks-unavailable', `The Forge JWKS at ${this.url} could not be used: ${error.message}.`, where, error);
    }
    if (error instanceof JwksHttpStatus) {
      return ConnectError.create('forge/jwks-unavailable', `The Forge JWKS at ${this.url} answered HTTP ${error.status}.`, { ...where, status: error.status });
    }
    if (error instanceof ResponseTooLarge) {
      return ConnectError.create('forge/jwks-unavailable', `The Forge JWKS at ${this.url} is larger than a key set can be.`, where);
    }
    return ConnectError.create(
      'forge/jwks-unavailable',
      `The Forge JWKS at ${this.url} could not be reached (or it redirected, which is not allowed): ${reasonOf(error)}.`,
      where,
      error,
    );
  }
}

/** A JWKS answer other than 200 (jose itself would drop the status from its message). */
class JwksHttpStatus extends Error {
  constructor(readonly status: number) {
    super(`HTTP ${status}`);
  }
}

/** The JWKS fetch: no redirects (the configured host, and only it, serves the keys), a bounded body. */
async function fetchCapped(fetchImpl: typeof fetch, input: string | URL | Request, init: RequestInit | undefined, maxBytes: number): Promise<Response> {
  const response = await fetchWithoutRedirects(fetchImpl, input, init);
  if (response.status !== 200) {
    await discardBody(response);
    throw new JwksHttpStatus(response.status);
  }
  const body = await readBodyCapped(response, maxBytes);
  return new Response(body, { status: 200, headers: response.headers });
}
