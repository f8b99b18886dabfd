import type { RateLimitObservation } from './rate-limit-headers.js';
import type { ConnectRateLimitSnapshot, RateLimitTenant } from './rate-limit-snapshot.js';

/** Past the reset time the client waits this much longer, so a clock a little behind the product's does not hit the old window. */
export const RESET_MARGIN_MS = 10;

/**
 * What the client knows about one tenant's budget, and when its next request may go. `available` is
 * the product's last `r` minus the requests sent after the one that reported it; `undefined` until a
 * first answer (one request goes alone to learn it), `Infinity` for a tenant whose answers carry no
 * budget. Below `paceBelow` of the budget, requests are spread evenly over the rest of the window.
 */
export class TenantBudget {
  limit: number | undefined;
  windowMs: number | undefined;
  resetAt: number | undefined;
  available: number | undefined;
  nearLimit = false;
  /** Requests admitted so far; each gets the next number. */
  admitted = 0;
  /** The newest admitted request whose answer was applied (older answers no longer count). */
  applied = 0;
  /** A request is out to learn an unknown budget. */
  probing = false;
  /** The earliest time the next paced request may go. */
  nextAt = 0;
  snapshot: ConnectRateLimitSnapshot | undefined;

  constructor(
    readonly tenant: RateLimitTenant,
    private readonly paceBelow: number,
  ) {}

  /** Whether the budget is in the paced part (below `paceBelow`, or the product says it is near). */
  get paced(): boolean {
    if (this.available === undefined || this.available === Infinity) return false;
    if (this.limit !== undefined && this.limit > 0) return this.available < this.paceBelow * this.limit;
    return this.nearLimit;
  }

  /** A new window started (by the clock): the full budget is back, and answers to earlier requests are stale. */
  rollOver(now: number): void {
    if (this.resetAt === undefined || now < this.resetAt + RESET_MARGIN_MS) return;
    this.applied = this.admitted;
    this.nextAt = now;
    this.nearLimit = false;
    if (this.limit !== undefined && this.windowMs !== undefined && this.windowMs > 0) {
      this.available = this.limit;
      const behind = Math.floor((now - this.resetAt) / this.windowMs) + 1;
      this.resetAt += behind * this.windowMs;
    } else {
      this.available = undefined;
      this.resetAt = undefined;
    }
  }

  /** Milliseconds until the next request may go: 0 now, `Infinity` until an answer arrives. */
  delay(now: number): number {
    this.rollOver(now);
    if (this.available === undefined) return this.probing ? Infinity : 0;
    if (this.available <= 0) return this.resetAt === undefined ? (this.probing ? Infinity : 0) : Math.max(1, this.resetAt + RESET_MARGIN_MS - now);
    if (!this.paced) return 0;
    return Math.max(0, this.nextAt - now);
  }

  /** Takes a point for a request that goes now; its number. */
  take(now: number): number {
    if (this.available === undefined || (this.available <= 0 && this.resetAt === undefined)) this.probing = true;
    else if (this.available !== Infinity) {
      if (this.paced && this.resetAt !== undefined) {
        const interval = Math.max(0, this.resetAt + RESET_MARGIN_MS - now) / Math.max(1, this.available);
        this.nextAt = Math.max(now, this.nextAt) + interval;
      }
      this.available--;
    }
    return ++this.admitted;
  }

  /** About how long a request that joins a queue of `ahead` would wait (for the `maxWaitMs` check). */
  estimateWait(now: number, ahead: number): number {
    const first = this.delay(now);
    if (first === Infinity || this.available === undefined || this.available === Infinity) return first;
    const available = Math.max(0, this.available);
    if (ahead < available) {
      if (this.limit === undefined || this.resetAt === undefined) return first;
      const atOnce = Math.max(0, available - Math.ceil(this.paceBelow * this.limit));
      if (ahead < atOnce) return first;
      const interval = Math.max(0, this.resetAt - now) / Math.max(1, Math.min(available, Math.ceil(this.paceBelow * this.limit)));
      return first + (ahead - atOnce) * interval;
    }
    if (this.resetAt === undefined) return first;
    const untilReset = Math.max(0, this.resetAt + RESET_MARGIN_MS - now);
    if (this.limit === undefined || this.limit <= 0 || this.windowMs === undefined) return untilReset;
    return untilReset + Math.floor((ahead - available) / this.limit) * this.windowMs;
  }

  /**
   * Applies the answer to request `seq`: the product's numbers when it is the newest answered request,
   * a spent budget on a 429. Returns whether the tenant just became near its limit.
   */
  apply(seq: number, status: number, observation: RateLimitObservation | undefined, retryAfterMs: number | undefined, now: number): boolean {
    this.probing = false;
    const wasNear = this.nearLimit;
    const primary = observation?.policies[0];
    if (primary !== undefined) {
      // After a budget is spent the products may stop sending the policy: keep what they said before.
      if (primary.limit !== undefined) this.limit = primary.limit;
      if (primary.windowSeconds !== undefined) this.windowMs = primary.windowSeconds * 1000;
    }
    const newest = seq === 0 || seq > this.applied;
    if (newest) {
      this.applied = Math.max(this.applied, seq);
      const resetAt =
        primary?.resetSeconds !== undefined
          ? now + primary.resetSeconds * 1000
          : (observation?.resetAtMs ?? (status === 429 && retryAfterMs !== undefined ? now + retryAfterMs : undefined));
      if (resetAt !== undefined) this.resetAt = resetAt;
      if (primary?.remaining !== undefined) this.available = primary.remaining - Math.max(0, this.admitted - seq);
      // Answered without a budget: a tenant (or product) that does not meter; nothing waits for it.
      else if (this.available === undefined && status !== 429) this.available = Infinity;
    }
    if (status === 429) {
      this.available = Math.min(this.available ?? 0, 0);
      if (retryAfterMs !== undefined) this.resetAt = Math.max(this.resetAt ?? 0, now + retryAfterMs);
      else if (this.resetAt === undefined || this.resetAt <= now) this.resetAt = now + 1000;
    }
    if (newest || status === 429) {
      const remaining = primary?.remaining;
      this.nearLimit =
        status === 429 ||
        (observation?.nearLimit ?? (remaining !== undefined && this.limit !== undefined && this.limit > 0 ? remaining < this.paceBelow * this.limit : this.nearLimit));
    }
    if (observation !== undefined || status === 429) this.snapshot = this.snapshotOf(status, primary, observation, now);
    return this.nearLimit && !wasNear;
  }

  /** An attempt that got no answer (network error, timeout, abort): it frees the probe. */
  settle(): void {
    this.probing = false;
  }

  private snapshotOf(
    status: number,
    primary: RateLimitObservation['policies'][number] | undefined,
    observation: RateLimitObservation | undefined,
    now: number,
  ): ConnectRateLimitSnapshot {
    const previous = this.snapshot;
    return Object.freeze({
      policy: primary?.name ?? previous?.policy,
      limit: this.limit,
      remaining: primary?.remaining ?? (status === 429 ? 0 : undefined),
      windowSeconds: this.windowMs === undefined ? undefined : this.windowMs / 1000,
      resetAt: this.resetAt === undefined ? undefined : new Date(this.resetAt),
      reason: observation?.reason ?? (status === 429 ? previous?.reason : undefined),
      nearLimit: this.nearLimit,
      policies: observation?.policies ?? Object.freeze([]),
      status,
      observedAt: new Date(now),
    });
  }
}
