/** The parts of a request that decide how its token verifies (besides time and the tenant record). */
export interface RememberedRequest {
  readonly method: string;
  /** Path and query exactly as received. */
  readonly rawUrl: string;
  /** The raw Authorization header; the token is in the URL when there is none. */
  readonly authorization: string | undefined;
}

/** The same parts as they arrive: a header can come more than once. */
export interface IncomingRequestParts extends Omit<RememberedRequest, 'authorization'> {
  readonly authorization: string | string[] | undefined;
}

/** What is remembered of one verified request. */
export interface VerifiedRequestEntry<T> extends RememberedRequest {
  /** The app the request was verified for. */
  readonly app: object;
  /** The token was a context token, valid on any URL of a route that accepts those. */
  readonly contextToken: boolean;
  readonly verified: T;
  /** Seconds since the epoch until which the token is still accepted: `exp` plus the leeway. */
  readonly acceptedUntil: number;
  /** When a hit last moved the entry to the recent end (seconds since the epoch). */
  touchedAt: number;
}

export interface VerifiedRequestCacheStats {
  readonly size: number;
  readonly hits: number;
  readonly misses: number;
}

/** A compact signature in base64url is 43 characters: a good short handle on a token. */
const HANDLE_LENGTH = 43;

/**
 * Bits of the filter of requests seen once (128 KiB). It starts over once a 32nd of them are set, so
 * at most about 3 % of requests seen only once are taken for repeats (and stored).
 */
const SEEN_BITS = 1 << 20;
const SEEN_RESET_AT = SEEN_BITS >> 5;

/**
 * Requests whose token verified, so that the same request need not be verified again. An entry is
 * found by the token's last characters (its signature) or, for a token in the URL, by the URL; it
 * then matches only when the whole Authorization header, the app and the request are what was
 * verified:
 * - a request-bound token (its qsh hashes method and URL) only on the same method and raw URL;
 * - a context token on any URL of the same app whose route accepts context tokens, as long as that URL
 *   carries no `jwt` parameter of its own (which token extraction would look at).
 *
 * The same bytes against the same tenant record give the same answer, except for time and the
 * tenant's state, which the caller checks again on every hit. Only successes are stored, so only a
 * holder of a valid token can add an entry, and by default only on its second verification; a full
 * map drops its least recently used entry.
 */
export class VerifiedRequestCache<T> {
  /** Entries of tokens sent in the Authorization header, by the header's last characters. */
  private readonly byHeader = new Map<string, VerifiedRequestEntry<T>>();
  /** Entries of tokens sent in the URL, by the URL. */
  private readonly byUrl = new Map<string, VerifiedRequestEntry<T>>();
  private hitCount = 0;
  private missCount = 0;
  /**
   * Requests verified once, as single bits (see `remember`); `undefined` when every verified request
   * is stored at once.
   */
  private readonly seen: Uint32Array | undefined;
  private seenCount = 0;

  constructor(
    readonly maxEntries: number,
    readonly maxKeyLength: number,
    /**
     * `'second'`: store a request only when it verifies for the second time. Most requests that carry a
     * new token never come again; storing each of them would keep its strings and context alive until
     * evicted, which costs the garbage collector more than verifying them did.
     */
    admit: 'first' | 'second' = 'second',
  ) {
    this.seen = admit === 'second' ? new Uint32Array(SEEN_BITS >>> 5) : undefined;
    if (!Number.isInteger(maxEntries) || maxEntries < 1) throw new RangeError('maxEntries must be a positive integer');
    if (!Number.isInteger(maxKeyLength) || maxKeyLength < 1) throw new RangeError('maxKeyLength must be a positive integer');
  }

  /**
   * The entry for this request, when one matches (its time and tenant are for the caller to check).
   * A request with several Authorization headers never matches.
   */
  find(app: object, allowContext: boolean, request: IncomingRequestParts): VerifiedRequestEntry<T> | undefined {
    if (typeof request.authorization === 'object') return undefined;
    const entry = this.mapOf(request).get(handleOf(request as RememberedRequest));
    if (entry === undefined || entry.authorization !== request.authorization || entry.app !== app) return undefined;
    if (entry.contextToken) {
      return allowContext && (entry.rawUrl === request.rawUrl || !request.rawUrl.includes('jwt=')) ? entry : undefined;
    }
    return entry.method === request.method && entry.rawUrl === request.rawUrl ? entry : undefined;
  }

  /** Remembers a verified request (unless it is too long to keep). */
  remember(app: object, request: RememberedRequest, contextToken: boolean, verified: T, acceptedUntil: number): void {
    if (request.rawUrl.length + (request.authorization?.length ?? 0) > this.maxKeyLength) return;
    const handle = handleOf(request);
    if (!this.seenBefore(handle)) return;
    const { method, rawUrl, authorization } = request;
    const entries = this.mapOf(request);
    entries.delete(handle);
    entries.set(handle, { method, rawUrl, authorization, app, contextToken, verified, acceptedUntil, touchedAt: Date.now() / 1000 });
    if (this.byHeader.size + this.byUrl.size > this.maxEntries) {
      // The least recently used entry of the larger map goes: together they hold at most maxEntries.
      const larger = this.byHeader.size >= this.byUrl.size ? this.byHeader : this.byUrl;
      larger.delete(larger.keys().next().value as string);
    }
  }

  /**
   * A hit on `entry` at `nowSeconds`: moves it to the recent end, at most once a second, so a full
   * map drops requests that stopped coming rather than busy ones (least recently used, to the second).
   */
  touch(entry: VerifiedRequestEntry<T>, nowSeconds: number): void {
    if (nowSeconds - entry.touchedAt < 1) return;
    entry.touchedAt = nowSeconds;
    const entries = this.mapOf(entry);
    const handle = handleOf(entry);
    if (entries.get(handle) !== entry) return;
    entries.delete(handle);
    entries.set(handle, entry);
  }

  /** Forgets the entry `find` returned (it went stale). */
  forget(entry: VerifiedRequestEntry<T>): void {
    const entries = this.mapOf(entry);
    const handle = handleOf(entry);
    if (entries.get(handle) === entry) entries.delete(handle);
  }

  /** Counted by the caller, which alone knows whether an entry it found still holds. */
  countHit(): void {
    this.hitCount++;
  }

  countMiss(): void {
    this.missCount++;
  }

  clear(): void {
    this.byHeader.clear();
    this.byUrl.clear();
  }

  stats(): VerifiedRequestCacheStats {
    return { size: this.byHeader.size + this.byUrl.size, hits: this.hitCount, misses: this.missCount };
  }

  /**
   * Whether a request with this handle was verified before, as far as a bit per hash of the handle
   * can tell, and notes it. No allocation, nothing kept per request: a false "yes" (two handles on
   * one bit) only stores a request that did verify, which is harmless. The filter starts over once a
   * 32nd of its bits are set (`SEEN_RESET_AT`), so false answers stay under about 3 %.
   */
  private seenBefore(handle: string): boolean {
    const seen = this.seen;
    if (seen === undefined) return true;
    let hash = 0x811c9dc5;
    // A token's signature (the end of a header handle) is uniformly random: a few characters from
    // the end and the length spread well. A URL handle is hashed from its end too.
    const length = handle.length;
    for (let i = Math.max(0, length - 12); i < length; i++) hash = Math.imul(hash ^ handle.charCodeAt(i), 0x01000193);
    hash = Math.imul(hash ^ length, 0x01000193) >>> 0;
    const bit = hash & (SEEN_BITS - 1);
    const word = bit >>> 5;
    const mask = 1 << (bit & 31);
    if ((seen[word]! & mask) !== 0) return true;
    if (++this.seenCount > SEEN_RESET_AT) {
      seen.fill(0);
      this.seenCount = 1;
    }
    seen[word]! |= mask;
    return false;
  }

  private mapOf(request: { readonly authorization: unknown }): Map<string, VerifiedRequestEntry<T>> {
    return request.authorization === undefined ? this.byUrl : this.byHeader;
  }
}

/**
 * The map key: the end of the Authorization header (the token's signature), or the URL when the
 * token travels in it. Hashing 43 characters instead of the whole request keeps a lookup cheap; the
 * full header is compared on every hit, so two tokens sharing a signature never share an entry.
 */
function handleOf(request: RememberedRequest): string {
  const authorization = request.authorization;
  if (authorization === undefined) return request.rawUrl;
  return authorization.length <= HANDLE_LENGTH ? authorization : authorization.slice(-HANDLE_LENGTH);
}
