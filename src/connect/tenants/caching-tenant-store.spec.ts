import { randomUUID } from 'node:crypto';

import { DataSource } from 'typeorm';

import { connectDataSourceOptions } from '../database/connect-data-source-options.js';
import { SecretCipher } from '../database/secret-cipher.js';
import { ConnectError } from '../errors/connect-error.js';
import { startTestDatabase, type TestDatabase } from '../testing/test-database.js';
import { CachingTenantStore } from './caching-tenant-store.js';
import type { ConnectTenant, TenantInstallation } from './tenant.js';
import type { TenantStateChange, TenantStore, TenantWriteContext } from './tenant-store.js';
import { TypeOrmTenantStore } from './typeorm-tenant-store.js';

/** Passes every call through to a real store and counts them. */
class CountingStore implements TenantStore {
  finds = 0;
  writes = 0;
  constructor(private readonly inner: TenantStore) {}

  find(appKey: string, clientKey: string): Promise<ConnectTenant | null> {
    this.finds += 1;
    return this.inner.find(appKey, clientKey);
  }

  install<T>(installation: TenantInstallation, work: (tenant: ConnectTenant, context: TenantWriteContext) => Promise<T>): Promise<{ tenant: ConnectTenant; result: T }> {
    this.writes += 1;
    return this.inner.install(installation, work);
  }

  update<T>(
    appKey: string,
    clientKey: string,
    change: TenantStateChange,
    work: (tenant: ConnectTenant, context: TenantWriteContext) => Promise<T>,
  ): Promise<{ tenant: ConnectTenant; result: T } | null> {
    this.writes += 1;
    return this.inner.update(appKey, clientKey, change, work);
  }

  ping(): Promise<void> {
    return this.inner.ping();
  }
}

function installation(overrides: Partial<TenantInstallation> = {}): TenantInstallation {
  return {
    appKey: 'com.example.app',
    clientKey: `client-${randomUUID()}`,
    sharedSecret: `secret-${randomUUID()}`,
    baseUrl: 'https://example.atlassian.net',
    displayUrl: null,
    productType: 'jira',
    description: null,
    serviceEntitlementNumber: null,
    entitlementId: null,
    entitlementNumber: null,
    oauthClientId: null,
    installationId: null,
    ...overrides,
  };
}

const noWork = async (): Promise<void> => undefined;

describe('CachingTenantStore over a real TypeOrmTenantStore', () => {
  let db: TestDatabase;
  let dataSource: DataSource;
  let real: TypeOrmTenantStore;
  let counting: CountingStore;
  let cache: CachingTenantStore;
  const started = Date.now();

  beforeAll(async () => {
    db = await startTestDatabase();
    dataSource = await new DataSource(
      connectDataSourceOptions({
        url: db.url,
        schema: db.schema,
        poolSize: db.poolSize,
        connectTimeoutMs: 5_000,
        queryTimeoutMs: 10_000,
      }),
    ).initialize();
    real = new TypeOrmTenantStore(dataSource, SecretCipher.fromKeys([Buffer.alloc(32, 7).toString('base64')]));
  }, 120_000);

  beforeEach(() => {
    counting = new CountingStore(real);
    cache = new CachingTenantStore(counting, { maxEntries: 100, ttlMs: 60_000 });
  });

  afterAll(async () => {
    await dataSource?.destroy();
    await db?.stop();
    // eslint-disable-next-line no-console
    console.info(`CachingTenantStore spec on ${db?.engine}: ${Date.now() - started} ms`);
  });

  it('answers a second find from memory', async () => {
    const input = installation();
    await real.install(input, noWork);

    const first = await cache.find(input.appKey, input.clientKey);
    const second = await cache.find(input.appKey, input.clientKey);
    expect(first?.sharedSecret).toBe(input.sharedSecret);
    expect(second).toBe(first);
    expect(counting.finds).toBe(1);
  });

  it('shares one lookup between concurrent finds of one tenant', async () => {
    const input = installation();
    await real.install(input, noWork);
    const results = await Promise.all(Array.from({ length: 5 }, () => cache.find(input.appKey, input.clientKey)));
    expect(new Set(results).size).toBe(1);
    expect(counting.finds).toBe(1);
  });

  it('does not cache a miss, so a tenant installed elsewhere is found at once', async () => {
    const input = installation();
    expect(await cache.find(input.appKey, input.clientKey)).toBeNull();
    await real.install(input, noWork); // another instance installs it
    expect((await cache.find(input.appKey, input.clientKey))?.sharedSecret).toBe(input.sharedSecret);
    expect(counting.finds).toBe(2);
  });

  it('a re-install through it takes effect on the next find without a lookup', async () => {
    const input = installation();
    await cache.install(input, noWork);
    expect((await cache.find(input.appKey, input.clientKey))?.sharedSecret).toBe(input.sharedSecret);

    const rotated = { ...input, sharedSecret: `rotated-${randomUUID()}` };
    await cache.install(rotated, noWork);
    expect((await cache.find(input.appKey, input.clientKey))?.sharedSecret).toBe(rotated.sharedSecret);
    expect(counting.finds).toBe(0);
  });

  it('a state change through it refreshes the entry', async () => {
    const input = installation();
    await cache.install(input, noWork);
    await cache.find(input.appKey, input.clientKey);
    await cache.update(input.appKey, input.clientKey, { kind: 'uninstalled' }, noWork);
    const after = await cache.find(input.appKey, input.clientKey);
    expect(after?.uninstalledAt).toBeInstanceOf(Date);
    expect(counting.finds).toBe(0);
  });

  it('a failed write drops the entry, so the next find reads the database', async () => {
    const input = installation();
    await cache.install(input, noWork);
    const hookError = new Error('hook failed');
    await expect(cache.install({ ...input, sharedSecret: 'never' }, () => Promise.reject(hookError))).rejects.toBe(hookError);
    expect((await cache.find(input.appKey, input.clientKey))?.sharedSecret).toBe(input.sharedSecret);
    expect(counting.finds).toBe(1);
  });

  it('an update of an unknown tenant leaves nothing cached', async () => {
    const clientKey = `client-${randomUUID()}`;
    expect(await cache.update('com.example.app', clientKey, { kind: 'enabled' }, noWork)).toBeNull();
    expect(cache.size).toBe(0);
  });

  it('keeps at most maxEntries tenants, dropping the least recently used (recency counted to the second)', async () => {
    let now = 0;
    const bounded = new CachingTenantStore(counting, { maxEntries: 2, ttlMs: 60_000, now: () => now });
    const [a, b, c] = [installation(), installation(), installation()];
    for (const input of [a, b, c]) await real.install(input, noWork);

    await bounded.find(a.appKey, a.clientKey);
    await bounded.find(b.appKey, b.clientKey);
    now = 1_000;
    await bounded.find(a.appKey, a.clientKey); // a is now the most recent
    await bounded.find(c.appKey, c.clientKey); // evicts b
    expect(bounded.size).toBe(2);
    expect(counting.finds).toBe(3);

    await bounded.find(a.appKey, a.clientKey);
    await bounded.find(c.appKey, c.clientKey);
    expect(counting.finds).toBe(3);
    await bounded.find(b.appKey, b.clientKey);
    expect(counting.finds).toBe(4);
    expect(bounded.size).toBe(2);
  });

  it('looks a tenant up again once its entry expired', async () => {
    let now = 1_000;
    const expiring = new CachingTenantStore(counting, { maxEntries: 10, ttlMs: 500, now: () => now });
    const input = installation();
    await real.install(input, noWork);
    await expiring.find(input.appKey, input.clientKey);
    now += 499;
    await expiring.find(input.appKey, input.clientKey);
    expect(counting.finds).toBe(1);
    now += 1;
    await expiring.find(input.appKey, input.clientKey);
    expect(counting.finds).toBe(2);
  });

  it('keeps entries for observedTtlMs while changes are observed, and forgets everything when they no longer are', async () => {
    let now = 1_000;
    const store = new CachingTenantStore(counting, { maxEntries: 10, ttlMs: 500, observedTtlMs: 60_000, now: () => now });
    expect(store.currentTtlMs).toBe(500);
    store.setChangesObserved(true);
    expect(store.currentTtlMs).toBe(60_000);
    const input = installation();
    await real.install(input, noWork);
    await store.find(input.appKey, input.clientKey);
    now += 59_999;
    await store.find(input.appKey, input.clientKey);
    expect(counting.finds).toBe(1);
    store.setChangesObserved(false);
    expect(store.currentTtlMs).toBe(500);
    await store.find(input.appKey, input.clientKey);
    expect(counting.finds).toBe(2); // dropped when the feed went away
    now += 500;
    await store.find(input.appKey, input.clientKey);
    expect(counting.finds).toBe(3); // and back to the short time to live
  });

  it('invalidate and clear forget entries', async () => {
    const [a, b] = [installation(), installation()];
    await real.install(a, noWork);
    await real.install(b, noWork);
    await cache.find(a.appKey, a.clientKey);
    await cache.find(b.appKey, b.clientKey);
    cache.invalidate(a.appKey, a.clientKey);
    expect(cache.size).toBe(1);
    await cache.find(a.appKey, a.clientKey);
    expect(counting.finds).toBe(3);
    cache.clear();
    expect(cache.size).toBe(0);
    await cache.find(b.appKey, b.clientKey);
    expect(counting.finds).toBe(4);
  });

  it('ping passes through', async () => {
    await expect(cache.ping()).resolves.toBeUndefined();
  });
});

/** An inner store whose finds and writes the test resolves by hand. */
class ManualStore implements TenantStore {
  readonly finds: { resolve: (tenant: ConnectTenant | null) => void; reject: (error: unknown) => void }[] = [];
  readonly writes: { resolve: (tenant: ConnectTenant) => void; reject: (error: unknown) => void }[] = [];

  find(): Promise<ConnectTenant | null> {
    return new Promise((resolve, reject) => this.finds.push({ resolve, reject }));
  }

  install<T>(): Promise<{ tenant: ConnectTenant; result: T }> {
    return new Promise((resolve, reject) => this.writes.push({ resolve: (tenant) => resolve({ tenant, result: undefined as T }), reject }));
  }

  update<T>(): Promise<{ tenant: ConnectTenant; result: T } | null> {
    return new Promise((resolve, reject) => this.writes.push({ resolve: (tenant) => resolve({ tenant, result: undefined as T }), reject }));
  }

  ping(): Promise<void> {
    return Promise.resolve();
  }
}

function tenant(sharedSecret: string): ConnectTenant {
  const at = new Date(0);
  return Object.freeze({
    ...installation({ clientKey: 'site', sharedSecret }),
    enabled: true,
    installedAt: at,
    uninstalledAt: null,
    createdAt: at,
    updatedAt: at,
  });
}

const tick = (): Promise<void> => new Promise((done) => setImmediate(done));

describe('CachingTenantStore races', () => {
  it('a lookup that was in flight while a write finished does not cache what it read', async () => {
    const inner = new ManualStore();
    const cache = new CachingTenantStore(inner, { maxEntries: 10, ttlMs: 60_000 });
    const stale = cache.find('com.example.app', 'site');
    const write = cache.install(installation({ clientKey: 'site' }), noWork);
    inner.writes[0]!.resolve(tenant('new'));
    await write;
    inner.finds[0]!.resolve(tenant('old')); // read before the write committed
    expect((await stale)?.sharedSecret).toBe('old');
    expect((await cache.find('com.example.app', 'site'))?.sharedSecret).toBe('new');
    expect(inner.finds).toHaveLength(1);
  });

  it('after two overlapping writes of one tenant it caches neither', async () => {
    const inner = new ManualStore();
    const cache = new CachingTenantStore(inner, { maxEntries: 10, ttlMs: 60_000 });
    const first = cache.install(installation({ clientKey: 'site' }), noWork);
    const second = cache.update('com.example.app', 'site', { kind: 'disabled' }, noWork);
    inner.writes[1]!.resolve(tenant('second'));
    inner.writes[0]!.resolve(tenant('first'));
    await Promise.all([first, second]);
    expect(cache.size).toBe(0);
    const found = cache.find('com.example.app', 'site');
    await tick();
    expect(inner.finds).toHaveLength(1);
    inner.finds[0]!.resolve(tenant('from database'));
    expect((await found)?.sharedSecret).toBe('from database');
  });

  it('does not cache failures: every waiter gets the error and the next find retries', async () => {
    const inner = new ManualStore();
    const cache = new CachingTenantStore(inner, { maxEntries: 10, ttlMs: 60_000 });
    const outage = ConnectError.create('store/unavailable', 'The tenant store is unavailable.');
    const a = cache.find('com.example.app', 'site');
    const b = cache.find('com.example.app', 'site');
    inner.finds[0]!.reject(outage);
    await expect(a).rejects.toBe(outage);
    await expect(b).rejects.toBe(outage);
    const retry = cache.find('com.example.app', 'site');
    expect(inner.finds).toHaveLength(2);
    inner.finds[1]!.resolve(tenant('back'));
    expect((await retry)?.sharedSecret).toBe('back');
  });

  it('cleans up after an inner store that throws synchronously', async () => {
    let calls = 0;
    const inner: TenantStore = {
      find: () => {
        calls += 1;
        throw new Error('sync failure');
      },
      install: () => Promise.reject(new Error('unused')),
      update: () => Promise.reject(new Error('unused')),
      ping: () => Promise.resolve(),
    };
    const cache = new CachingTenantStore(inner, { maxEntries: 10, ttlMs: 60_000 });
    await expect(cache.find('a', 'b')).rejects.toThrow('sync failure');
    await expect(cache.find('a', 'b')).rejects.toThrow('sync failure');
    expect(calls).toBe(2);
  });

  it('keys cannot collide across the (appKey, clientKey) boundary', async () => {
    const inner = new ManualStore();
    const cache = new CachingTenantStore(inner, { maxEntries: 10, ttlMs: 60_000 });
    const one = cache.find('a:b', 'c');
    const two = cache.find('a', 'b:c');
    expect(inner.finds).toHaveLength(2);
    inner.finds[0]!.resolve(null);
    inner.finds[1]!.resolve(null);
    await Promise.all([one, two]);
  });

  it('rejects a non-positive ttl', () => {
    expect(() => new CachingTenantStore(new ManualStore(), { maxEntries: 1, ttlMs: 0 })).toThrow(RangeError);
  });
});
