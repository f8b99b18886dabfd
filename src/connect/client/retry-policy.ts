/** How the client retries. */
export interface RetryOptions {
  /** Attempts in all, the first included (default 4). */
  maxAttempts: number;
  /** Never wait past this much time since the first attempt, waits included (default 60 s). */
  maxTotalMs: number;
  /** First backoff step when the product gives no hint (default 500 ms). */
  baseDelayMs: number;
  /** Longest single wait, hinted or not (default 30 s). */
  maxDelayMs: number;
  /** Retry POST/PATCH too (they may not be idempotent). Default false: opt in per request. */
  retryNonIdempotent: boolean;
}

export const DEFAULT_RETRY_OPTIONS: Readonly<RetryOptions> = Object.freeze({
  maxAttempts: 4,
  maxTotalMs: 60_000,
  baseDelayMs: 500,
  maxDelayMs: 30_000,
  retryNonIdempotent: false,
});

const IDEMPOTENT = new Set(['GET', 'HEAD', 'OPTIONS', 'PUT', 'DELETE']);

export function isIdempotent(method: string): boolean {
  return IDEMPOTENT.has(method);
}

/** Statuses worth another attempt: rate limiting and a product that is briefly unavailable. */
export function isRetryableStatus(status: number): boolean {
  return status === 429 || status === 503 || status === 502 || status === 504;
}

/**
 * The wait the product asked for, in ms: `Retry-After` (seconds or an HTTP date) or
 * `X-RateLimit-Reset` (an ISO time). `undefined` when neither is present or readable.
 */
export function hintedDelayMs(headers: Headers, now = Date.now()): number | undefined {
  const retryAfter = headers.get('retry-after')?.trim();
  if (retryAfter) {
    if (/^\d+(\.\d+)?$/.test(retryAfter)) return Math.round(Number(retryAfter) * 1000);
    const date = Date.parse(retryAfter);
    if (!Number.isNaN(date)) return Math.max(0, date - now);
  }
  const reset = headers.get('x-ratelimit-reset')?.trim();
  if (reset) {
    const date = Date.parse(reset);
    if (!Number.isNaN(date)) return Math.max(0, date - now);
  }
  return undefined;
}

/** Exponential backoff with full jitter: a random wait between 0 and base·2^(attempt-1), capped. */
export function backoffDelayMs(attempt: number, options: Pick<RetryOptions, 'baseDelayMs' | 'maxDelayMs'>, random = Math.random): number {
  const ceiling = Math.min(options.maxDelayMs, options.baseDelayMs * 2 ** (attempt - 1));
  return Math.floor(random() * ceiling);
}
