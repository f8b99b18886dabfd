import { Logger } from '@nestjs/common';
import type { RateLimitOptions } from '../../config/connect-options.js';
import { ConnectClientError } from '../connect-client-error.js';
import { SYSTEM_CLOCK, type PacerClock } from './pacer-clock.js';
import { readRateLimitHeaders } from './rate-limit-headers.js';
import type { RateLimitBudgetRef } from './rate-limit-key.js';
import type { ConnectRateLimitSnapshot, RateLimitTenant } from './rate-limit-snapshot.js';
import { TenantBudget } from './tenant-budget.js';

/** What an error of a waiting request names (never a token). */
export interface PacedRequestFacts {
  readonly method: string;
  readonly url: string;
  readonly retries: number;
}

interface Waiter {
  readonly facts: PacedRequestFacts;
  readonly deadline: number;
  readonly resolve: (seq: number) => void;
  readonly reject: (error: unknown) => void;
  readonly signal: AbortSignal | undefined;
  readonly onAbort: (() => void) | undefined;
}

interface Entry {
  readonly budget: TenantBudget;
  readonly queue: Waiter[];
  timer: unknown;
}

export interface RateLimitPacerOptions extends RateLimitOptions {
  /** Called when a tenant becomes near its limit (once per crossing). */
  onNearLimit?: ((tenant: RateLimitTenant, snapshot: ConnectRateLimitSnapshot) => void) | undefined;
  clock?: PacerClock | undefined;
  logger?: Pick<Logger, 'debug'> | undefined;
}

/**
 * The per-tenant budgets of one client and the requests waiting for them. Until a response has
 * carried rate-limit headers, `active` is false and the client does not consult it at all (no work
 * and no allocation per request). From then on every tenant's first request goes alone to learn its
 * budget; a tenant whose answers carry none is let through without waiting. Bounded: `maxTenants`
 * budgets (least recently used forgotten first), `maxQueuedPerTenant` waiting requests each, and no
 * request waits past `maxWaitMs`.
 */
export class RateLimitPacer {
  /** Set by the first response that carried rate-limit headers. */
  active = false;
  private readonly entries = new Map<string, Entry>();
  private readonly clock: PacerClock;
  private readonly logger: Pick<Logger, 'debug'>;
  private closed = false;

  constructor(private readonly options: RateLimitPacerOptions) {
    this.clock = options.clock ?? SYSTEM_CLOCK;
    this.logger = options.logger ?? new Logger('ConnectClient');
  }

  /** Whether requests wait for budget (`pacing`, and a budget has been seen). */
  get pacing(): boolean {
    return this.active && this.options.pacing;
  }

  /**
   * Admits one attempt of a request to `key`: its sequence number right away when it may go, else a
   * promise of it. Rejects with `client/rate-limited` when the tenant's queue is full or the wait
   * would pass `maxWaitMs`, and with `client/aborted` when `signal` aborts while it waits.
   */
  admit(budget: RateLimitBudgetRef, facts: PacedRequestFacts, signal?: AbortSignal): number | Promise<number> {
    const key = budget.key;
    if (this.closed) return Promise.reject(new ConnectClientError('client/aborted', `${facts.method} ${facts.url} was aborted: the application is shutting down.`, facts));
    const entry = this.entry(budget);
    const now = this.clock.now();
    if (entry.queue.length === 0 && entry.budget.delay(now) === 0) return entry.budget.take(now);
    if (entry.queue.length >= this.options.maxQueuedPerTenant) {
      return Promise.reject(this.refusal(entry, facts, `${entry.queue.length} requests of this tenant are already waiting (client.rateLimit.maxQueuedPerTenant)`));
    }
    const wait = entry.budget.estimateWait(now, entry.queue.length);
    if (wait !== Infinity && wait > this.options.maxWaitMs) {
      return Promise.reject(
        this.refusal(entry, facts, `it would wait about ${Math.ceil(wait)} ms for budget, longer than client.rateLimit.maxWaitMs (${this.options.maxWaitMs} ms)`),
      );
    }
    return new Promise<number>((resolve, reject) => {
      const onAbort =
        signal === undefined
          ? undefined
          : () => {
              const at = entry.queue.indexOf(waiter);
              if (at !== -1) entry.queue.splice(at, 1);
              reject(new ConnectClientError('client/aborted', `${facts.method} ${facts.url} was aborted while waiting for rate-limit budget.`, facts));
              this.pump(key, entry);
            };
      const waiter: Waiter = { facts, deadline: now + this.options.maxWaitMs, resolve, reject, signal, onAbort };
      if (signal?.aborted) return onAbort!();
      signal?.addEventListener('abort', onAbort!, { once: true });
      entry.queue.push(waiter);
      if (entry.queue.length === 1) this.pump(key, entry);
    });
  }

  /**
   * The answer to attempt `seq` of a request to `source`'s budget (`headers` undefined: no answer
   * arrived). Reads the rate-limit headers; the first ones ever seen switch the pacer on. Until then it
   * returns before touching `source.rateLimit`.
   */
  observe(
    source: { readonly rateLimit?: RateLimitBudgetRef | undefined },
    seq: number,
    status: number | undefined,
    headers: Headers | undefined,
    retryAfterMs: number | undefined,
  ): void {
    const now = this.clock.now();
    const observation = headers === undefined ? undefined : readRateLimitHeaders(headers, now);
    if (observation === undefined && !this.active) return;
    const budget = source.rateLimit;
    if (budget === undefined) return;
    const key = budget.key;
    let entry = this.entries.get(key);
    if (entry === undefined) {
      if (observation === undefined) return;
      entry = this.entry(budget);
    }
    if (observation !== undefined) this.active = true;
    if (status === undefined) entry.budget.settle();
    else if (entry.budget.apply(seq, status, observation, retryAfterMs, now)) this.nearLimit(entry.budget);
    this.pump(key, entry);
  }

  /** The last known budget of `key`, or `undefined` when none was reported (or it was forgotten). */
  snapshot(key: string): ConnectRateLimitSnapshot | undefined {
    return this.entries.get(key)?.budget.snapshot;
  }

  /** Budgets remembered now. */
  get size(): number {
    return this.entries.size;
  }

  /** Fails every waiting request and forgets the budgets (the application is shutting down). */
  close(): void {
    this.closed = true;
    for (const entry of this.entries.values()) {
      if (entry.timer !== undefined) this.clock.clearTimeout(entry.timer);
      for (const waiter of entry.queue.splice(0)) {
        waiter.signal?.removeEventListener('abort', waiter.onAbort!);
        waiter.reject(new ConnectClientError('client/aborted', `${waiter.facts.method} ${waiter.facts.url} was aborted: the application is shutting down.`, waiter.facts));
      }
    }
    this.entries.clear();
  }

  /** Lets the waiting requests go that may; sets one timer for the next. */
  private pump(key: string, entry: Entry): void {
    if (entry.timer !== undefined) {
      this.clock.clearTimeout(entry.timer);
      entry.timer = undefined;
    }
    const now = this.clock.now();
    while (entry.queue.length > 0) {
      const head = entry.queue[0]!;
      if (now >= head.deadline) {
        entry.queue.shift();
        head.signal?.removeEventListener('abort', head.onAbort!);
        head.reject(this.refusal(entry, head.facts, `it waited ${this.options.maxWaitMs} ms for budget (client.rateLimit.maxWaitMs)`));
        continue;
      }
      const delay = entry.budget.delay(now);
      if (delay === 0) {
        entry.queue.shift();
        head.signal?.removeEventListener('abort', head.onAbort!);
        head.resolve(entry.budget.take(now));
        continue;
      }
      const wait = Math.min(delay, head.deadline - now);
      entry.timer = this.clock.setTimeout(() => {
        entry.timer = undefined;
        if (this.entries.get(key) === entry) this.pump(key, entry);
      }, Math.ceil(wait));
      return;
    }
  }

  /** The budget of `key`, made most recently used; the least recently used idle one goes when there are too many. */
  private entry({ key, tenant }: RateLimitBudgetRef): Entry {
    let entry = this.entries.get(key);
    if (entry !== undefined) {
      if (this.entries.size > 1) {
        this.entries.delete(key);
        this.entries.set(key, entry);
      }
      return entry;
    }
    entry = { budget: new TenantBudget(tenant, this.options.paceBelow), queue: [], timer: undefined };
    this.entries.set(key, entry);
    if (this.entries.size > this.options.maxTenants) {
      for (const [oldKey, old] of this.entries) {
        if (this.entries.size <= this.options.maxTenants) break;
        // A tenant with requests waiting is kept: forgetting it would strand them.
        if (old.queue.length === 0 && old !== entry) this.entries.delete(oldKey);
      }
    }
    return entry;
  }

  private nearLimit(budget: TenantBudget): void {
    const snapshot = budget.snapshot!;
    const left = snapshot.remaining === undefined ? 'little' : `${snapshot.remaining}${snapshot.limit === undefined ? '' : ` of ${snapshot.limit}`}`;
    const resets = snapshot.resetAt === undefined ? '' : `, resets in ${Math.max(0, Math.ceil((snapshot.resetAt.getTime() - this.clock.now()) / 1000))} s`;
    const facts = [snapshot.policy && `policy ${snapshot.policy}`, snapshot.reason && `reason ${snapshot.reason}`].filter(Boolean).join(', ');
    this.logger.debug(
      `Rate limit of ${describeTenant(budget.tenant)} is near: ${left} points left${resets}${facts ? ` (${facts})` : ''}; ${this.options.pacing ? 'pacing its requests' : 'pacing is off'}.`,
    );
    try {
      this.options.onNearLimit?.(budget.tenant, snapshot);
    } catch {
      // A listener's failure is its own (the hooks log theirs); the request goes on.
    }
  }

  private refusal(entry: Entry, facts: PacedRequestFacts, why: string): ConnectClientError {
    const snapshot = entry.budget.snapshot;
    const resets = snapshot?.resetAt === undefined ? '' : ` The budget resets at ${snapshot.resetAt.toISOString()}.`;
    return new ConnectClientError(
      'client/rate-limited',
      `${facts.method} ${facts.url} was not sent: the rate-limit budget of ${describeTenant(entry.budget.tenant)} is spent for now and ${why}.${resets}`,
      facts,
    );
  }
}

/** A tenant in a log line or error: identifiers only, never a secret. */
export function describeTenant(tenant: RateLimitTenant): string {
  if (tenant.kind === 'connect') return `${tenant.appKey} on ${tenant.clientKey}`;
  return `Forge installation ${tenant.installationId ?? tenant.apiBaseUrl ?? '(unknown)'}${tenant.appKey === undefined ? '' : ` of ${tenant.appKey}`}`;
}
