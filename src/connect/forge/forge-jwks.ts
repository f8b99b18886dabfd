import { createRemoteJWKSet, customFetch, errors, type JWTHeaderParameters, type FlattenedJWSInput } from 'jose';
import type { webcrypto } from 'node:crypto';
import { ConnectError } from '../errors/connect-error.js';
import { isLoopbackHost } from './forge-token-claims.js';

type CryptoKey = webcrypto.CryptoKey;

/** Atlassian's JWKS for Forge Invocation Tokens (production). */
export const DEFAULT_FORGE_JWKS_URL = 'https://forge.cdn.prod.atlassian-dev.net/.well-known/jwks.json';

/** Defaults of {@link ForgeJwksOptions}. */
export const FORGE_JWKS_DEFAULTS = Object.freeze({
  timeoutMs: 5000,
  cooldownMs: 30_000,
  cacheMaxAgeMs: 600_000,
  /** A JWKS of a few RSA keys is a few KiB. */
  maxBodyBytes: 64 * 1024,
});

export interface ForgeJwksOptions {
  /** https, or http on a loopback host (tests, the simulator). */
  url: string;
  timeoutMs?: number;
  cooldownMs?: number;
  cacheMaxAgeMs?: number;
  maxBodyBytes?: number;
  /** The fetch implementation; default the global `fetch`. */
  fetch?: typeof fetch;
}

export interface ForgeJwksStats {
  /** JWKS fetches started since construction (successful or not). */
  fetches: number;
}

/**
 * The keys of Forge Invocation Tokens, from one configured JWKS URL. jose's remote JWKS does the
 * caching: keys are kept for `cacheMaxAgeMs`, concurrent loads share one fetch, and a token whose `kid`
 * is not in the set refetches it once, unless the last fetch is younger than `cooldownMs` (so a flood
 * of made-up kids costs at most one fetch per cooldown). Every fetch goes through {@link fetchCapped}:
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
    const timeoutMs = nonNegativeInteger('jwksTimeoutMs', options.timeoutMs ?? FORGE_JWKS_DEFAULTS.timeoutMs, 1);
    const maxBodyBytes = nonNegativeInteger('maxBodyBytes', options.maxBodyBytes ?? FORGE_JWKS_DEFAULTS.maxBodyBytes, 1);
    const fetchImpl = options.fetch ?? globalThis.fetch;
    this.keySet = createRemoteJWKSet(url, {
      timeoutDuration: timeoutMs,
      cooldownDuration: nonNegativeInteger('jwksCooldownMs', options.cooldownMs ?? FORGE_JWKS_DEFAULTS.cooldownMs, 0),
      cacheMaxAge: nonNegativeInteger('jwksCacheMaxAgeMs', options.cacheMaxAgeMs ?? FORGE_JWKS_DEFAULTS.cacheMaxAgeMs, 0),
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
    if (error === TOO_LARGE) {
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

/** Checks a configured JWKS URL: https, or http on a loopback host; no credentials, query or fragment. */
export function parseForgeJwksUrl(value: unknown): URL {
  let url: URL;
  try {
    url = new URL(String(value));
  } catch {
    throw ConnectError.create('config/invalid', `forge.jwksUrl ${JSON.stringify(value)} is not an absolute URL.`);
  }
  if (url.username || url.password || url.search || url.hash) {
    throw ConnectError.create('config/invalid', `forge.jwksUrl ${url.origin}${url.pathname} must not carry credentials, a query or a fragment.`);
  }
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && isLoopbackHost(url.hostname))) {
    throw ConnectError.create('config/invalid', `forge.jwksUrl ${url.href} must be https (plain http is accepted only on a loopback host, for tests).`);
  }
  return url;
}

const TOO_LARGE = Symbol('too large');

/** A JWKS answer other than 200 (jose itself would drop the status from its message). */
class JwksHttpStatus extends Error {
  constructor(readonly status: number) {
    super(`HTTP ${status}`);
  }
}

/**
 * A fetch for the JWKS: redirects are errors (the configured host, and only it, serves the keys) and
 * the body is read up to `maxBytes` (then the download is cancelled).
 */
async function fetchCapped(fetchImpl: typeof fetch, input: string | URL | Request, init: RequestInit | undefined, maxBytes: number): Promise<Response> {
  const response = await fetchImpl(input, { ...init, redirect: 'error' });
  if (response.status !== 200) {
    await response.body?.cancel().catch(() => undefined);
    throw new JwksHttpStatus(response.status);
  }
  if (response.body === null) return new Response('', { status: 200 });
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > maxBytes) {
      await reader.cancel().catch(() => undefined);
      throw TOO_LARGE;
    }
    chunks.push(value);
  }
  return new Response(Buffer.concat(chunks), { status: 200, headers: response.headers });
}

function nonNegativeInteger(name: string, value: number, min: number): number {
  if (!Number.isSafeInteger(value) || value < min) {
    throw ConnectError.create('config/invalid', `The Forge option ${name} must be an integer of at least ${min}.`, { [name]: String(value) });
  }
  return value;
}

function reasonOf(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const cause = (error as { cause?: unknown }).cause;
  const causeText = cause instanceof Error ? `: ${(cause as NodeJS.ErrnoException).code ?? cause.message}` : '';
  return `${error.message}${causeText}`;
}
