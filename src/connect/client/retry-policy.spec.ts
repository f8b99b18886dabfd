import { backoffDelayMs, hintedDelayMs, isIdempotent, isRetryableStatus } from './retry-policy.js';

describe('retry policy', () => {
  const now = Date.parse('2026-11-23T12:00:00Z');

  it('reads Retry-After in seconds and as an HTTP date, and X-RateLimit-Reset as an ISO time', () => {
    expect(hintedDelayMs(new Headers({ 'retry-after': '3' }), now)).toBe(3000);
    expect(hintedDelayMs(new Headers({ 'retry-after': '0.25' }), now)).toBe(250);
    expect(hintedDelayMs(new Headers({ 'retry-after': 'Mon, 23 Nov 2026 12:00:05 GMT' }), now)).toBe(5000);
    expect(hintedDelayMs(new Headers({ 'x-ratelimit-reset': '2026-11-23T12:00:02Z' }), now)).toBe(2000);
    expect(hintedDelayMs(new Headers({ 'retry-after': 'Mon, 23 Nov 2026 11:00:00 GMT' }), now)).toBe(0);
  });

  it('prefers Retry-After and ignores what it cannot read', () => {
    expect(hintedDelayMs(new Headers({ 'retry-after': '1', 'x-ratelimit-reset': '2026-11-23T12:01:00Z' }), now)).toBe(1000);
    expect(hintedDelayMs(new Headers({ 'retry-after': 'soon' }), now)).toBeUndefined();
    expect(hintedDelayMs(new Headers(), now)).toBeUndefined();
  });

  it('backs off exponentially with full jitter and a cap', () => {
    const options = { baseDelayMs: 100, maxDelayMs: 1000 };
    expect(backoffDelayMs(1, options, () => 0.999)).toBe(99);
    expect(backoffDelayMs(3, options, () => 0.5)).toBe(200);
    expect(backoffDelayMs(10, options, () => 0.999)).toBe(999);
    expect(backoffDelayMs(2, options, () => 0)).toBe(0);
  });

  it('retries rate limits and brief unavailability, and only idempotent methods by default', () => {
    expect([429, 503, 502, 504].every(isRetryableStatus)).toBe(true);
    expect([400, 401, 404, 500].some(isRetryableStatus)).toBe(false);
    expect(['GET', 'PUT', 'DELETE'].every(isIdempotent)).toBe(true);
    expect(['POST', 'PATCH'].some(isIdempotent)).toBe(false);
  });
});
