/** One budget of a response's `Beta-RateLimit` (with its `Beta-RateLimit-Policy` entry, matched by name). */
export interface RateLimitPolicyState {
  /** The policy's name (`tenant-app-quota`). */
  readonly name: string;
  /** Points in the window (`q` of the policy), when the product sent it. */
  readonly limit: number | undefined;
  /** Length of the window in seconds (`w` of the policy), when sent. */
  readonly windowSeconds: number | undefined;
  /** Points left (`r`), when sent. */
  readonly remaining: number | undefined;
  /** Seconds until the window resets (`t`), when sent. */
  readonly resetSeconds: number | undefined;
}

/**
 * The last known rate-limit budget of one tenant (a Connect tenant or a Forge installation), from the
 * headers of its latest response that carried any. Frozen; see `ConnectClient.rateLimit()`.
 */
export interface ConnectRateLimitSnapshot {
  /** The most constrained budget's policy name (`tenant-app-quota`), when named. */
  readonly policy: string | undefined;
  /** Points in the window, when known. */
  readonly limit: number | undefined;
  /** Points left, when known. */
  readonly remaining: number | undefined;
  /** Window length in seconds, when known. */
  readonly windowSeconds: number | undefined;
  /** When the window resets: from `t` of `Beta-RateLimit`, else `X-Beta-RateLimit-Reset`, else `Retry-After` of a 429. */
  readonly resetAt: Date | undefined;
  /** `X-Beta-RateLimit-Reason` (`jira-quota-tenant-based`), when sent. */
  readonly reason: string | undefined;
  /** The product's near-limit signal (`X-Beta-RateLimit-NearLimit: true`, under 20 % left), or remaining below `paceBelow`. */
  readonly nearLimit: boolean;
  /** Every budget the response named, most constrained first (at most 8). */
  readonly policies: readonly RateLimitPolicyState[];
  /** The HTTP status of the response the snapshot comes from (429 when the budget was spent). */
  readonly status: number;
  /** When that response arrived. */
  readonly observedAt: Date;
}

/** Whose budget a snapshot or event is about. */
export type RateLimitTenant =
  | { readonly kind: 'connect'; readonly appKey: string; readonly clientKey: string }
  | { readonly kind: 'forge'; readonly appKey: string | undefined; readonly installationId: string | undefined; readonly apiBaseUrl: string | undefined };
