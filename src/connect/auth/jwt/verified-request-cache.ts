/** Defaults of `ConnectModuleOptions.verifiedRequestCache`. */
export const DEFAULT_VERIFIED_REQUEST_CACHE_ENTRIES = 10_000;
/** Requests whose URL and Authorization header are longer together are verified every time. */
export const DEFAULT_VERIFIED_REQUEST_MAX_KEY_LENGTH = 4_096;

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
}

export interface VerifiedRequestCacheStats {
  readonly size: number;
  readonly hits: number;
  readonly misses: number;
}

/** A compact signature in base64url is 43 characters: a good short handle on a token. */
const HANDLE_LENGTH = 43;

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
 * holder of a valid token can add an entry; a full map drops its oldest entry.
 */
export class VerifiedRequestCache<T> {
  /** Entries of tokens sent in the Authorization header, by the header's last characters. */
  private readonly byHeader = new Map<string, VerifiedRequestEntry<T>>();
  /** Entries of tokens sent in the URL, by the URL. */
  private readonly byUrl = new Map<string, VerifiedRequestEntry<T>>();
  private hitCount = 0;
  private missCount = 0;

  constructor(
    readonly maxEntries: number,
    readonly maxKeyLength: number,
  ) {
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
    const { method, rawUrl, authorization } = request;
    const entries = this.mapOf(request);
    entries.delete(handle);
    entries.set(handle, { method, rawUrl, authorization, app, contextToken, verified, acceptedUntil });
    if (this.byHeader.size + this.byUrl.size > this.maxEntries) {
      // The oldest entry of the larger map goes: both stay bounded, together at most maxEntries.
      const larger = this.byHeader.size >= this.byUrl.size ? this.byHeader : this.byUrl;
      larger.delete(larger.keys().next().value as string);
    }
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
