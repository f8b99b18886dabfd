import { createPublicKey, type webcrypto } from 'node:crypto';
import { importSPKI } from 'jose';
import { CONNECT_DEFAULTS } from '../config/connect-defaults.js';
import { integerOption } from '../config/option-checks.js';
import { parseInstallKeysBaseUrl } from '../config/url-options.js';
import { ConnectError } from '../errors/connect-error.js';
import { discardBody, fetchWithoutRedirects, readBodyCapped, ResponseTooLarge } from '../util/capped-fetch.js';
import { reasonOf } from '../util/error-reason.js';
import { LruCache } from '../util/lru-cache.js';
import type { InstallKeyResolver } from './install-key-resolver.js';
import { installKeyUrl, isSafeKid } from './kid.js';

type CryptoKey = webcrypto.CryptoKey;

/** The smallest RSA modulus accepted for an install key. */
export const MIN_INSTALL_KEY_MODULUS_BITS = 2048;

/** The most `fallbackUrls`: with the primary, the 4 URLs an `installKeyHosts` rule may have. */
const MAX_FALLBACK_URLS = 3;

/** One install keys host: the base URL fetched from, and how messages name it. */
interface KeyHost {
  readonly baseUrl: string;
  /** The base URL as shown in messages: no trailing slash (credentials, query and fragment are refused). */
  readonly name: string;
}

export interface HttpInstallKeyResolverOptions {
  /** The install keys base URL; the key named `kid` is fetched from `<baseUrl>/<kid>`. */
  baseUrl: string;
  /**
   * Up to 3 further base URLs, asked in order while the previous one cannot serve the key: unreachable,
   * too slow, a 5xx or other bad answer (`jwt/key-unavailable`), or a 404/410 (it does not know the kid).
   * A weak or non-RSA key is an answer (`jwt/invalid-key`): no further host is asked. Each fetch has its
   * own `timeoutMs`. Default none.
   */
  fallbackUrls?: readonly string[] | undefined;
  /** Upper bound for one fetch, from sending the request to the last body byte. Default 5000. */
  timeoutMs?: number | undefined;
  /** Larger bodies are refused (and their download aborted). Default 16 KiB. */
  maxBodyBytes?: number | undefined;
  /** How many keys are kept, least recently used evicted first. Default 64. */
  cacheSize?: number | undefined;
  /** The fetch implementation; default the global `fetch`. */
  fetch?: typeof fetch | undefined;
}

export interface HttpInstallKeyResolverStats {
  /** Fetches started against the key host since construction (successful or not). */
  fetches: number;
  /** Keys currently cached. */
  cached: number;
  /** Fetches currently under way. */
  inFlight: number;
}

/**
 * Media types that can never be a PEM key: a key host answering with these is misconfigured (an HTML
 * error page, a JSON API error, …). Other types, including none and `binary/octet-stream` (what S3-style
 * hosts default to), are accepted and the body must then parse as an RSA SPKI PEM.
 */
function isClearlyNotPem(mediaType: string): boolean {
  return (
    mediaType === 'text/html' ||
    mediaType === 'application/xhtml+xml' ||
    mediaType === 'application/json' ||
    mediaType === 'text/json' ||
    mediaType === 'application/xml' ||
    mediaType === 'text/xml' ||
    mediaType === 'text/javascript' ||
    mediaType === 'application/javascript' ||
    mediaType.endsWith('+json') ||
    mediaType.endsWith('+xml') ||
    /^(image|audio|video|font|multipart)\//.test(mediaType)
  );
}

/**
 * Fetches the public key of a signed install token from the install keys host (Atlassian's CDN by
 * default), once per kid: keys are cached by kid (a rotated key always gets a new kid), concurrent
 * resolves of one kid share one fetch, and failures are not cached. With `fallbackUrls`, the hosts are
 * asked in order until one serves the key; every host of one resolver is trusted alike (one cache).
 * The site of a resolve is ignored: one resolver is one set of hosts (see `RegionalInstallKeyResolver`).
 */
export class HttpInstallKeyResolver implements InstallKeyResolver {
  private readonly hosts: readonly KeyHost[];
  private readonly timeoutMs: number;
  private readonly maxBodyBytes: number;
  private readonly fetchImpl: typeof fetch;
  private readonly cache: LruCache<string, CryptoKey>;
  private readonly inFlight = new Map<string, Promise<CryptoKey>>();
  private fetchCount = 0;

  constructor(options: HttpInstallKeyResolverOptions) {
    const fallbacks = options.fallbackUrls ?? [];
    if (!Array.isArray(fallbacks) || fallbacks.length > MAX_FALLBACK_URLS) {
      throw ConnectError.create('config/invalid', `fallbackUrls must be a list of at most ${MAX_FALLBACK_URLS} install keys base URLs.`);
    }
    const hosts = new Map<string, KeyHost>();
    for (const base of [options.baseUrl, ...fallbacks]) {
      const url = parseInstallKeysBaseUrl(base);
      const name = `${url.origin}${url.pathname.replace(/\/+$/, '')}`;
      if (!hosts.has(name)) hosts.set(name, { baseUrl: url.href, name });
    }
    this.hosts = [...hosts.values()];
    this.timeoutMs = integerOption('installKeyTimeoutMs', options.timeoutMs ?? CONNECT_DEFAULTS.installKeyTimeoutMs, 1);
    this.maxBodyBytes = integerOption('maxBodyBytes', options.maxBodyBytes ?? CONNECT_DEFAULTS.installKeyFetch.maxBodyBytes, 1);
    const cacheSize = integerOption('cacheSize', options.cacheSize ?? CONNECT_DEFAULTS.installKeyFetch.cacheSize, 1);
    this.cache = new LruCache(cacheSize);
    this.fetchImpl = options.fetch ?? globalThis.fetch;
  }

  stats(): HttpInstallKeyResolverStats {
    return { fetches: this.fetchCount, cached: this.cache.size, inFlight: this.inFlight.size };
  }

  async resolve(kid: string): Promise<CryptoKey> {
    const untrusted: unknown = kid;
    if (!isSafeKid(untrusted)) {
      // The kid is attacker-controlled and unsafe: it is deliberately not echoed.
      throw ConnectError.create('jwt/invalid-kid', 'The key id (kid) of the install token is missing or not of a valid form.', {
        kidLength: typeof untrusted === 'string' ? untrusted.length : undefined,
      });
    }
    const cached = this.cache.get(kid);
    if (cached !== undefined) return cached;
    const pending = this.inFlight.get(kid);
    if (pending !== undefined) return pending;

    const load = (async () => {
      try {
        const key = await this.load(kid);
        this.cache.set(kid, key);
        return key;
      } finally {
        this.inFlight.delete(kid);
      }
    })();
    this.inFlight.set(kid, load);
    return load;
  }

  /** Asks the hosts in order; the first key served wins, a weak key ends the search. */
  private async load(kid: string): Promise<CryptoKey> {
    const failures: ConnectError[] = [];
    for (const host of this.hosts) {
      try {
        return await this.loadFrom(host, kid);
      } catch (error) {
        // Only "this host could not serve it" moves on; a weak key (jwt/invalid-key) is an answer.
        if (!(error instanceof ConnectError) || (error.code !== 'jwt/key-unavailable' && error.code !== 'jwt/invalid-kid')) throw error;
        failures.push(error);
      }
    }
    if (failures.length === 1) throw failures[0]!;
    const keyHosts = this.hosts.map((host) => host.name).join(', ');
    const reasons = failures.map((failure) => failure.message).join(' ');
    const last = failures[failures.length - 1];
    // A kid that no host knows is the token's fault (401); any host that could not answer might know it (503).
    if (failures.every((failure) => failure.code === 'jwt/invalid-kid')) {
      throw ConnectError.create('jwt/invalid-kid', `None of the install key hosts knows key ${kid}: ${reasons}`, { kid, keyHosts }, last);
    }
    throw ConnectError.create('jwt/key-unavailable', `No install key host served key ${kid}: ${reasons}`, { kid, keyHosts }, last);
  }

  private async loadFrom(host: KeyHost, kid: string): Promise<CryptoKey> {
    const keyHost = host.name;
    const url = installKeyUrl(host.baseUrl, kid);
    const where = { keyHost, kid };
    const signal = AbortSignal.timeout(this.timeoutMs);
    const timedOut = () =>
      ConnectError.create('jwt/key-unavailable', `The install key host ${keyHost} did not answer for key ${kid} within ${this.timeoutMs} ms.`, {
        ...where,
        timeoutMs: this.timeoutMs,
      });

    this.fetchCount++;
    let response: Response;
    try {
      response = await fetchWithoutRedirects(this.fetchImpl, url, {
        method: 'GET',
        signal,
        headers: { accept: 'application/x-pem-file, text/plain;q=0.9, */*;q=0.1' },
      });
    } catch (cause) {
      if (signal.aborted) throw timedOut();
      throw ConnectError.create(
        'jwt/key-unavailable',
        `The install key host ${keyHost} could not be reached for key ${kid} (or it redirected, which is not allowed).`,
        { ...where, reason: reasonOf(cause) },
        cause,
      );
    }

    if (response.status !== 200) {
      await discardBody(response);
      if (response.status === 404 || response.status === 410) {
        throw ConnectError.create('jwt/invalid-kid', `The install key host ${keyHost} does not know key ${kid} (HTTP ${response.status}).`, {
          ...where,
          status: response.status,
        });
      }
      throw ConnectError.create('jwt/key-unavailable', `The install key host ${keyHost} answered HTTP ${response.status} for key ${kid}.`, {
        ...where,
        status: response.status,
      });
    }

    const contentType = response.headers.get('content-type');
    const mediaType = contentType?.split(';')[0]?.trim().toLowerCase() ?? '';
    if (mediaType !== '' && isClearlyNotPem(mediaType)) {
      await discardBody(response);
      throw ConnectError.create(
        'jwt/key-unavailable',
        `The install key host ${keyHost} served key ${kid} as ${mediaType}, not as a PEM public key; is the install keys URL right?`,
        { ...where, contentType: mediaType },
      );
    }

    let body: Uint8Array;
    try {
      body = await readBodyCapped(response, this.maxBodyBytes);
    } catch (cause) {
      if (cause instanceof ResponseTooLarge) throw this.tooLarge(keyHost, kid);
      if (signal.aborted) throw timedOut();
      throw ConnectError.create('jwt/key-unavailable', `The install key host ${keyHost} broke off while sending key ${kid}.`, { ...where, reason: reasonOf(cause) }, cause);
    }

    return this.parse(keyHost, kid, body);
  }

  private async parse(keyHost: string, kid: string, body: Uint8Array): Promise<CryptoKey> {
    const where = { keyHost, kid };
    let pem: string;
    try {
      pem = new TextDecoder('utf-8', { fatal: true }).decode(body).trim();
    } catch {
      pem = '';
    }
    const notAKey = (cause?: unknown) =>
      ConnectError.create('jwt/key-unavailable', `The install key host ${keyHost} served key ${kid}, but it is not an RSA public key in SPKI PEM form.`, where, cause);
    if (!pem.startsWith('-----BEGIN PUBLIC KEY-----') || !pem.endsWith('-----END PUBLIC KEY-----')) throw notAKey();

    // What the key is, before it is used: a weak or non-RSA key is the key host's answer, not its
    // failure, so it is a 401 (retrying, which Atlassian does on a 5xx, would bring the same key).
    let details: { type: string | undefined; bits: number | undefined };
    try {
      const object = createPublicKey({ key: pem, format: 'pem' });
      details = { type: object.asymmetricKeyType, bits: object.asymmetricKeyDetails?.modulusLength };
    } catch (cause) {
      throw notAKey(cause);
    }
    if (details.type !== 'rsa') {
      throw ConnectError.create('jwt/invalid-key', `The install key host ${keyHost} served key ${kid} as a ${details.type ?? 'unknown'} key; signed installs need an RSA key.`, {
        ...where,
        keyType: details.type,
      });
    }
    if (details.bits === undefined || details.bits < MIN_INSTALL_KEY_MODULUS_BITS) {
      throw ConnectError.create(
        'jwt/invalid-key',
        `The install key host ${keyHost} served key ${kid} as a ${details.bits ?? 'unknown'}-bit RSA key; at least ${MIN_INSTALL_KEY_MODULUS_BITS} bits are required.`,
        { ...where, modulusLength: details.bits },
      );
    }
    let key: CryptoKey;
    try {
      key = await importSPKI(pem, 'RS256');
    } catch (cause) {
      throw notAKey(cause);
    }
    const algorithm = key.algorithm as Partial<webcrypto.RsaHashedKeyAlgorithm>;
    if (algorithm.name !== 'RSASSA-PKCS1-v1_5') throw notAKey();
    return key;
  }

  private tooLarge(keyHost: string, kid: string): ConnectError {
    return ConnectError.create('jwt/key-unavailable', `The install key host ${keyHost} served more than ${this.maxBodyBytes} bytes for key ${kid}, too much for a public key.`, {
      keyHost,
      kid,
      maxBodyBytes: this.maxBodyBytes,
    });
  }
}
