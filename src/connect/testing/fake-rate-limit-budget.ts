/** A points budget of the fake site, see {@link FakeProductApiOptions.rateLimit}. */
export interface FakeRateLimitOptions {
  /** Points per window (each accepted request costs one). */
  points: number;
  /** Window length in ms (default 60,000). Windows follow each other from a caller's first request. */
  windowMs?: number;
  /** Policy name in the headers (default `tenant-app-quota`, as Jira sends). */
  policy?: string;
  /** `X-Beta-RateLimit-Reason` (default `jira-quota-tenant-based`). */
  reason?: string;
  /** Share left below which `X-Beta-RateLimit-NearLimit: true` is sent (default 0.2). */
  nearLimitBelow?: number;
}

/** The rate-limit headers of one answer, and whether the budget was spent (answer 429). */
export interface FakeRateLimitCharge {
  spent: boolean;
  headers: Record<string, string>;
}

interface Window {
  start: number;
  used: number;
}

const MAX_CALLERS = 10_000;

/**
 * Fixed windows per caller (a Connect app on the site, or a Forge installation), sending the headers
 * Jira and Confluence Cloud send since 2026: `Beta-RateLimit-Policy: "<policy>";q=<points>;w=<s>`,
 * `Beta-RateLimit: "<policy>";r=<left>;t=<s>`, `X-Beta-RateLimit-Reason`, `X-Beta-RateLimit-NearLimit`
 * and, once spent, `X-Beta-RateLimit-Reset` and `Retry-After`. `t` and `Retry-After` are whole seconds
 * (rounded up) as the products send them, except for windows under a minute, where they carry
 * milliseconds (`t=1.25`) so that a short test window can be paced exactly.
 */
export class FakeRateLimitBudget {
  readonly points: number;
  readonly windowMs: number;
  readonly policy: string;
  readonly reason: string;
  readonly nearLimitBelow: number;
  private readonly windows = new Map<string, Window>();

  constructor(options: FakeRateLimitOptions) {
    if (!Number.isSafeInteger(options.points) || options.points < 1) throw new RangeError('rateLimit.points must be a positive integer');
    const windowMs = options.windowMs ?? 60_000;
    if (!Number.isSafeInteger(windowMs) || windowMs < 100 || windowMs > 86_400_000) throw new RangeError('rateLimit.windowMs must be an integer from 100 to 86,400,000');
    const policy = options.policy ?? 'tenant-app-quota';
    if (!/^[\w.-]{1,64}$/.test(policy)) throw new RangeError('rateLimit.policy must be a short token');
    this.points = options.points;
    this.windowMs = windowMs;
    this.policy = policy;
    this.reason = options.reason ?? 'jira-quota-tenant-based';
    this.nearLimitBelow = options.nearLimitBelow ?? 0.2;
  }

  /** Charges one point to `caller`; a spent budget charges nothing and answers 429. */
  charge(caller: string, now = Date.now()): FakeRateLimitCharge {
    const window = this.windowOf(caller, now);
    const spent = window.used >= this.points;
    if (!spent) window.used++;
    const left = this.points - window.used;
    const untilReset = window.start + this.windowMs - now;
    const headers: Record<string, string> = {
      'beta-ratelimit-policy': `"${this.policy}";q=${this.points};w=${this.seconds(this.windowMs)}`,
      'beta-ratelimit': `"${this.policy}";r=${left};t=${this.seconds(untilReset)}`,
      'x-beta-ratelimit-reason': this.reason,
    };
    if (left < this.nearLimitBelow * this.points) headers['x-beta-ratelimit-nearlimit'] = 'true';
    if (spent) {
      headers['x-beta-ratelimit-reset'] = new Date(window.start + this.windowMs).toISOString();
      headers['retry-after'] = this.seconds(untilReset);
    }
    return { spent, headers };
  }

  /** Points left for `caller` in its current window. */
  remaining(caller: string, now = Date.now()): number {
    return this.points - this.windowOf(caller, now).used;
  }

  private windowOf(caller: string, now: number): Window {
    let window = this.windows.get(caller);
    if (window === undefined) {
      if (this.windows.size >= MAX_CALLERS) this.windows.delete(this.windows.keys().next().value!);
      window = { start: now, used: 0 };
      this.windows.set(caller, window);
    } else if (now >= window.start + this.windowMs) {
      window.start += Math.floor((now - window.start) / this.windowMs) * this.windowMs;
      window.used = 0;
    }
    return window;
  }

  private seconds(ms: number): string {
    const value = Math.max(0, ms) / 1000;
    return this.windowMs < 60_000 ? String(Math.ceil(value * 1000) / 1000) : String(Math.ceil(value));
  }
}
