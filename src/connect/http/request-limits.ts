import { integerOption } from '../config/option-checks.js';
import { ConnectError } from '../errors/connect-error.js';

type RequestLike = {
  headers?: Record<string, unknown>;
  rawHeaders?: unknown;
  ip?: unknown;
  protocol?: unknown;
  socket?: { remoteAddress?: unknown; encrypted?: unknown } | null;
  raw?: RequestLike;
};

/**
 * How many header lines the request arrived with (repeated headers counted each time). Node's own
 * parser already stops at `server.maxHeadersCount` (2000; extra lines are dropped) and at
 * `--max-http-header-size` (16 KiB in all: 431 without a body); this is the framework's lower bound.
 */
export function headerCount(request: unknown): number {
  const req = request as RequestLike;
  const raw = req.rawHeaders ?? req.raw?.rawHeaders;
  if (Array.isArray(raw)) return raw.length >> 1;
  return Object.keys(req.headers ?? {}).length;
}

/** Throws `request/too-many-headers` (431) when the request has more than `max` header lines. */
export function assertHeaderCount(request: unknown, max: number): void {
  const count = headerCount(request);
  if (count > max) {
    throw ConnectError.create('request/too-many-headers', `The request carries ${count} headers; at most ${max} are accepted.`);
  }
}

/**
 * The source address of the request: the adapter's `request.ip` when it has one (Express and Fastify
 * honour their trust-proxy setting there: `X-Forwarded-For` counts only when the app opted in), else
 * the socket's peer address.
 */
export function clientAddress(request: unknown): string {
  const req = request as RequestLike;
  if (typeof req.ip === 'string' && req.ip !== '') return req.ip;
  const remote = req.socket?.remoteAddress ?? req.raw?.socket?.remoteAddress;
  return typeof remote === 'string' && remote !== '' ? remote : 'unknown';
}

/**
 * Whether the request reached the app over https: the adapter's `request.protocol` (Express and
 * Fastify read `X-Forwarded-Proto` only with trust proxy enabled), else a TLS socket.
 */
export function isHttpsRequest(request: unknown): boolean {
  const req = request as RequestLike;
  if (typeof req.protocol === 'string') return req.protocol === 'https';
  return req.socket?.encrypted === true || req.raw?.socket?.encrypted === true;
}

export interface RateLimitOptions {
  /** Requests allowed per window (the bucket's capacity). */
  readonly limit: number;
  readonly windowMs: number;
  /** Most sources tracked at once; the least recently seen are forgotten first. */
  readonly maxSources: number;
}

/**
 * An in-process token bucket per key: `limit` tokens, refilled continuously at `limit / windowMs`.
 * The map is bounded (oldest entries evicted), so a flood of spoofed sources costs memory only up to
 * `maxSources` entries.
 */
export class TokenBucketLimiter {
  private readonly buckets = new Map<string, { tokens: number; at: number }>();

  constructor(
    readonly options: RateLimitOptions,
    private readonly clock: () => number = Date.now,
  ) {
    integerOption('lifecycleRateLimit.limit', options.limit, 1);
    integerOption('lifecycleRateLimit.windowMs', options.windowMs, 1);
    integerOption('lifecycleRateLimit.maxSources', options.maxSources, 1);
  }

  /** Takes a token for `key`: 0 when allowed, otherwise the seconds until one is available. */
  take(key: string): number {
    const now = this.clock();
    const rate = this.options.limit / this.options.windowMs;
    const previous = this.buckets.get(key);
    let tokens = this.options.limit;
    if (previous !== undefined) {
      tokens = Math.min(this.options.limit, previous.tokens + (now - previous.at) * rate);
      this.buckets.delete(key); // re-inserted below: Map order is recency order
    } else if (this.buckets.size >= this.options.maxSources) {
      const oldest = this.buckets.keys().next().value;
      if (oldest !== undefined) this.buckets.delete(oldest);
    }
    if (tokens >= 1) {
      this.buckets.set(key, { tokens: tokens - 1, at: now });
      return 0;
    }
    this.buckets.set(key, { tokens, at: now });
    return Math.max(1, Math.ceil((1 - tokens) / rate / 1000));
  }

  get size(): number {
    return this.buckets.size;
  }
}
