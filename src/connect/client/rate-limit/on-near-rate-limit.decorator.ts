import { DiscoveryService } from '@nestjs/core';
import type { ConnectRateLimitSnapshot, RateLimitTenant } from './rate-limit-snapshot.js';

/** What an `@OnNearRateLimit()` hook receives. */
export interface ConnectRateLimitEvent {
  /** Whose budget it is: a Connect tenant (`appKey`, `clientKey`) or a Forge installation. */
  readonly tenant: RateLimitTenant;
  /** The budget as the latest response reported it. */
  readonly snapshot: ConnectRateLimitSnapshot;
}

/**
 * Runs the decorated method when a tenant's rate-limit budget becomes near its limit: the product's
 * near-limit signal (`X-Beta-RateLimit-NearLimit: true`), less than `client.rateLimit.paceBelow` left,
 * or a 429. Once per crossing, not per response; after the call that noticed it, without delaying it.
 * A hook that throws or rejects is logged; the calls go on.
 *
 * @example
 * ```ts
 * @OnNearRateLimit() slowDown(event: ConnectRateLimitEvent) {
 *   this.metrics.gauge('jira.points_left', event.snapshot.remaining ?? 0, { tenant: event.tenant.kind });
 * }
 * ```
 */
export const OnNearRateLimit = DiscoveryService.createDecorator<Record<string, never>>();
