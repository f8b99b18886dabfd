import { ConnectError } from '../errors/connect-error.js';
import { LruCache } from '../util/lru-cache.js';
import type { ConnectTenant, TenantInstallation } from './tenant.js';
import type { TenantInstallOptions, TenantStateChange, TenantStore, TenantWriteContext } from './tenant-store.js';

/** See `LruCache`'s `touchIntervalMs`: eviction order of tenants is LRU to within a second. */
const TENANT_TOUCH_INTERVAL_MS = 1_000;

export interface CachingTenantStoreOptions {
  /** Most tenants kept; the least recently used one is dropped first. */
  readonly maxEntries: number;
  /**
   * How long a found tenant is served from memory. Writes made through this store refresh the entry
   * at once; writes made by other instances show up here after at most this long.
   */
  readonly ttlMs: number;
  /**
   * The time to live while every change is known to this instance (`setChangesObserved(true)`): a
   * LISTEN/NOTIFY change feed is connected, or this process is the only writer (embedded engine).
   * Default `ttlMs`. The entry then only guards against a missed notification.
   */
  readonly observedTtlMs?: number;
  /** Clock, for tests. */
  readonly now?: () => number;
}

/** A lookup in progress; `abandoned` once a write or an invalidation makes its answer possibly stale. */
interface Lookup {
  promise: Promise<ConnectTenant | null>;
  abandoned: boolean;
}

/** Writes in progress for one key; `overlapped` once two of them ran at the same time. */
interface PendingWrites {
  count: number;
  overlapped: boolean;
}

/**
 * A `TenantStore` that keeps recently found tenants in a bounded LRU in front of another store, so
 * authenticating a request does not cost a database round trip.
 *
 * - Only tenants that exist are cached. A miss is not: caching misses would let a flood of made-up
 *   client keys evict the real tenants from the bounded cache, and would hide a tenant installed
 *   through another instance for up to a TTL. Concurrent lookups of one key (cached or not) share a
 *   single call to the inner store, which is what absorbs bursts.
 * - Failures are never cached: every caller of a failed lookup gets the error, the next call retries.
 * - A write through this store replaces the entry with the tenant it wrote (so a re-install's new
 *   secret is used by the very next request on this instance). A failed write, an update of a
 *   missing tenant, or two writes of one key at the same time (whose commit order this instance
 *   cannot see) drop the entry instead. A lookup that was in flight while a write finished does not
 *   fill the cache with what it read.
 * - Writes made elsewhere (other instances) are seen after at most `ttlMs`; call `invalidate` when you
 *   know better, e.g. when a token fails verification against a cached secret.
 * - `findByInstallationId` caches which clientKey a Forge installation maps to (same bound and TTL),
 *   and answers through `find`, checking that the tenant still carries that installationId. Any write,
 *   `invalidate`, `clear` or bypass forgets every cached mapping: a change names only (appKey,
 *   clientKey), not the installationIds it took away or handed to another tenant, and lifecycle
 *   changes are rare next to Forge calls, so starting over is both cheap and the only safe answer.
 */
export class CachingTenantStore implements TenantStore {
  private readonly cache: LruCache<string, ConnectTenant>;
  private readonly lookups = new Map<string, Lookup>();
  private readonly writes = new Map<string, PendingWrites>();
  /** (appKey, installationId) → clientKey of the tenant found for it. */
  private readonly installations: LruCache<string, string>;
  private readonly installationLookups = new Map<string, { promise: Promise<ConnectTenant | null> }>();
  /** Bumped whenever the installation mappings are forgotten, so a lookup in flight does not cache. */
  private installationGeneration = 0;
  private bypassing = false;
  private readonly ttlMs: number;
  private readonly observedTtlMs: number;

  constructor(
    private readonly inner: TenantStore,
    options: CachingTenantStoreOptions,
  ) {
    if (!(options.ttlMs > 0)) throw new RangeError('ttlMs must be positive');
    if (options.observedTtlMs !== undefined && !(options.observedTtlMs > 0)) throw new RangeError('observedTtlMs must be positive');
    this.ttlMs = options.ttlMs;
    this.observedTtlMs = options.observedTtlMs ?? options.ttlMs;
    // Recency refreshed at most once a second per tenant: a busy tenant's hits skip the Map reinsert.
    this.cache = new LruCache(options.maxEntries, options.ttlMs, options.now, TENANT_TOUCH_INTERVAL_MS, true);
    this.installations = new LruCache(options.maxEntries, options.ttlMs, options.now);
  }

  /** Tenants currently cached (for metrics and tests). */
  get size(): number {
    return this.cache.size;
  }

  /** The cached tenant, without I/O; `undefined` when not cached (or while bypassing). */
  peek(appKey: string, clientKey: string): ConnectTenant | undefined {
    return this.bypassing ? undefined : this.cache.get(cacheKey(appKey, clientKey));
  }

  /** Whether `tenant` is the very record `peek` would return for it now (no key to build). */
  isCurrent(tenant: ConnectTenant): boolean {
    return !this.bypassing && this.cache.holds(tenant);
  }

  find(appKey: string, clientKey: string): Promise<ConnectTenant | null> {
    if (this.bypassing) return this.inner.find(appKey, clientKey);
    const key = cacheKey(appKey, clientKey);
    const cached = this.cache.get(key);
    if (cached !== undefined) return Promise.resolve(cached);
    const pending = this.lookups.get(key);
    if (pending !== undefined) return pending.promise;

    // Registered before the inner call starts, so even a synchronous failure cleans up after itself.
    const lookup = { abandoned: false } as Lookup;
    this.lookups.set(key, lookup);
    lookup.promise = this.lookUp(key, appKey, clientKey, lookup);
    return lookup.promise;
  }

  async findByInstallationId(appKey: string, installationId: string): Promise<ConnectTenant | null> {
    if (this.bypassing) return this.innerFindByInstallationId(appKey, installationId);
    const key = cacheKey(appKey, installationId);
    const clientKey = this.installations.get(key);
    if (clientKey !== undefined) {
      const tenant = await this.find(appKey, clientKey);
      if (tenant !== null && tenant.installationId === installationId) return tenant;
      // The tenant moved on (or vanished) without this instance hearing of it: ask the store.
      if (this.installations.get(key) === clientKey) this.installations.delete(key);
    }
    const pending = this.installationLookups.get(key);
    if (pending !== undefined) return pending.promise;
    const lookup = {} as { promise: Promise<ConnectTenant | null> };
    this.installationLookups.set(key, lookup);
    lookup.promise = this.lookUpInstallation(key, appKey, installationId, lookup);
    return lookup.promise;
  }

  async install<T>(
    installation: TenantInstallation,
    work: (tenant: ConnectTenant, context: TenantWriteContext) => Promise<T>,
    options?: TenantInstallOptions,
  ): Promise<{ tenant: ConnectTenant; result: T }> {
    return this.write(installation.appKey, installation.clientKey, () =>
      options === undefined ? this.inner.install(installation, work) : this.inner.install(installation, work, options),
    );
  }

  async update<T>(
    appKey: string,
    clientKey: string,
    change: TenantStateChange,
    work: (tenant: ConnectTenant, context: TenantWriteContext) => Promise<T>,
  ): Promise<{ tenant: ConnectTenant; result: T } | null> {
    return this.write(appKey, clientKey, () => this.inner.update(appKey, clientKey, change, work));
  }

  ping(): Promise<void> {
    return this.inner.ping();
  }

  /**
   * Forgets one tenant (and makes a lookup in flight for it not cache its answer), and every cached
   * installation mapping.
   */
  invalidate(appKey: string, clientKey: string): void {
    this.forget(cacheKey(appKey, clientKey));
  }

  /**
   * While on, every lookup goes to the inner store and nothing is cached; turning it on forgets every
   * tenant. For when changes made elsewhere cannot be heard (`TenantChangeListener` disconnected).
   */
  setBypass(on: boolean): void {
    if (on) this.clear();
    this.bypassing = on;
  }

  /**
   * Tells the store whether every change to the tenant table reaches it (a change feed is listening, or
   * this process is the only writer): entries cached from now on live `observedTtlMs` instead of
   * `ttlMs`. Turning it off also forgets every tenant, since a change may have been missed.
   */
  setChangesObserved(on: boolean): void {
    if (!on) this.clear();
    const ttl = on ? this.observedTtlMs : this.ttlMs;
    this.cache.ttlMs = ttl;
    this.installations.ttlMs = ttl;
  }

  /** The time to live of entries cached now (see `setChangesObserved`). */
  get currentTtlMs(): number {
    return this.cache.ttlMs;
  }

  /** Whether lookups currently bypass the cache (see `setBypass`). */
  get bypassed(): boolean {
    return this.bypassing;
  }

  /** Forgets every tenant and every installation mapping. */
  clear(): void {
    this.cache.clear();
    for (const lookup of this.lookups.values()) lookup.abandoned = true;
    this.lookups.clear();
    this.forgetInstallations();
  }

  /** Installation mappings currently cached (for metrics and tests). */
  get installationMappings(): number {
    return this.installations.size;
  }

  private async lookUp(key: string, appKey: string, clientKey: string, lookup: Lookup): Promise<ConnectTenant | null> {
    try {
      const tenant = await this.inner.find(appKey, clientKey);
      if (tenant !== null && !lookup.abandoned && !this.bypassing) this.cache.set(key, tenant);
      return tenant;
    } finally {
      if (this.lookups.get(key) === lookup) this.lookups.delete(key);
    }
  }

  private async lookUpInstallation(key: string, appKey: string, installationId: string, lookup: { promise: Promise<ConnectTenant | null> }): Promise<ConnectTenant | null> {
    const generation = this.installationGeneration;
    try {
      const tenant = await this.innerFindByInstallationId(appKey, installationId);
      // Misses are not cached, for the same reasons as in `find`. Nothing changed while this lookup
      // ran (every write and invalidation bumps the generation), so the tenant it read may be cached
      // too, unless a write of it is still under way.
      if (tenant !== null && generation === this.installationGeneration && !this.bypassing) {
        this.installations.set(key, tenant.clientKey);
        const tenantKey = cacheKey(appKey, tenant.clientKey);
        if (!this.writes.has(tenantKey) && !this.lookups.has(tenantKey)) this.cache.set(tenantKey, tenant);
      }
      return tenant;
    } finally {
      if (this.installationLookups.get(key) === lookup) this.installationLookups.delete(key);
    }
  }

  private innerFindByInstallationId(appKey: string, installationId: string): Promise<ConnectTenant | null> {
    if (typeof this.inner.findByInstallationId !== 'function') {
      return Promise.reject(
        ConnectError.create(
          'config/invalid',
          'The tenant store behind CachingTenantStore does not implement findByInstallationId(), which linking Forge installations to Connect tenants needs.',
        ),
      );
    }
    return this.inner.findByInstallationId(appKey, installationId);
  }

  private forgetInstallations(): void {
    this.installations.clear();
    this.installationLookups.clear();
    this.installationGeneration += 1;
  }

  private forget(key: string): void {
    this.forgetInstallations();
    this.cache.delete(key);
    const lookup = this.lookups.get(key);
    if (lookup !== undefined) {
      lookup.abandoned = true;
      this.lookups.delete(key);
    }
  }

  private async write<R extends { tenant: ConnectTenant } | null>(appKey: string, clientKey: string, call: () => Promise<R>): Promise<R> {
    const key = cacheKey(appKey, clientKey);
    let pending = this.writes.get(key);
    if (pending === undefined) {
      pending = { count: 0, overlapped: false };
      this.writes.set(key, pending);
    } else {
      pending.overlapped = true;
    }
    pending.count += 1;

    let outcome: R | undefined;
    try {
      outcome = await call();
      return outcome;
    } finally {
      pending.count -= 1;
      if (pending.count === 0) this.writes.delete(key);
      // Whatever a lookup in flight read may predate this write: never let it fill the cache.
      this.forget(key);
      if (outcome != null && !pending.overlapped && !this.bypassing) this.cache.set(key, outcome.tenant);
    }
  }
}

/** Length-prefixed, so no two (appKey, clientKey) pairs share a key; cheaper than JSON on the hot path. */
function cacheKey(appKey: string, clientKey: string): string {
  return `${appKey.length}:${appKey}${clientKey}`;
}
