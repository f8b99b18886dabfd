import { randomUUID } from 'node:crypto';

import { DataSource } from 'typeorm';

import { resolveConnectOptions } from '../config/resolve-connect-options.js';
import { connectDataSourceOptions } from '../database/connect-data-source-options.js';
import { SecretCipher } from '../database/secret-cipher.js';
import { ConnectError } from '../errors/connect-error.js';
import { startTestDatabase, type TestDatabase } from '../testing/test-database.js';
import { CachingTenantStore } from './caching-tenant-store.js';
import { TenantChangeListener } from './tenant-change-listener.js';
import type { ConnectTenant, TenantInstallation } from './tenant.js';
import type { TenantStateChange, TenantStore, TenantWriteContext } from './tenant-store.js';
import { TypeOrmTenantStore } from './typeorm-tenant-store.js';

const APP = 'com.example.forge-link';
const cipher = SecretCipher.fromKeys([Buffer.alloc(32, 9).toString('base64')]);
const noWork = async (): Promise<void> => undefined;
const newInstallationId = (): string => `ari:cloud:ecosystem::installation/${randomUUID()}`;

function installation(overrides: Partial<TenantInstallation> = {}): TenantInstallation {
  return {
    appKey: APP,
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
    installationId: newInstallationId(),
    ...overrides,
  };
}

/** Passes every call through to a real store and counts the lookups. */
class CountingStore implements TenantStore {
  finds = 0;
  byInstallation = 0;
  constructor(private readonly inner: TypeOrmTenantStore) {}

  find(appKey: string, clientKey: string): Promise<ConnectTenant | null> {
    this.finds += 1;
    return this.inner.find(appKey, clientKey);
  }

  findByInstallationId(appKey: string, installationId: string): Promise<ConnectTenant | null> {
    this.byInstallation += 1;
    return this.inner.findByInstallationId(appKey, installationId);
  }

  install<T>(input: TenantInstallation, work: (tenant: ConnectTenant, context: TenantWriteContext) => Promise<T>): Promise<{ tenant: ConnectTenant; result: T }> {
    return this.inner.install(input, work);
  }

  update<T>(
    appKey: string,
    clientKey: string,
    change: TenantStateChange,
    work: (tenant: ConnectTenant, context: TenantWriteContext) => Promise<T>,
  ): Promise<{ tenant: ConnectTenant; result: T } | null> {
    return this.inner.update(appKey, clientKey, change, work);
  }

  ping(): Promise<void> {
    return this.inner.ping();
  }
}

function openDataSource(db: TestDatabase, poolSize = db.poolSize): Promise<DataSource> {
  return new DataSource(connectDataSourceOptions({ url: db.url, schema: db.schema, poolSize, connectTimeoutMs: 5_000, queryTimeoutMs: 10_000 })).initialize();
}

async function until(condition: () => boolean, timeoutMs = 2_000): Promise<number> {
  const from = Date.now();
  while (!condition()) {
    if (Date.now() - from > timeoutMs) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((wait) => setTimeout(wait, 5));
  }
  return Date.now() - from;
}

describe('CachingTenantStore.findByInstallationId over a real TypeOrmTenantStore', () => {
  let db: TestDatabase;
  let dataSource: DataSource;
  let real: TypeOrmTenantStore;
  let counting: CountingStore;
  let cache: CachingTenantStore;
  const started = Date.now();

  beforeAll(async () => {
    db = await startTestDatabase();
    dataSource = await openDataSource(db);
    real = new TypeOrmTenantStore(dataSource, cipher);
  }, 120_000);

  beforeEach(() => {
    counting = new CountingStore(real);
    cache = new CachingTenantStore(counting, { maxEntries: 100, ttlMs: 60_000 });
  });

  afterAll(async () => {
    await dataSource?.destroy();
    await db?.stop();
    // eslint-disable-next-line no-console
    console.info(`CachingTenantStore installations spec on ${db?.engine}: ${Date.now() - started} ms`);
  });

  it('answers a repeated lookup from memory, through the tenant cache', async () => {
    const input = installation();
    await real.install(input, noWork);
    const first = await cache.findByInstallationId(APP, input.installationId!);
    const second = await cache.findByInstallationId(APP, input.installationId!);
    expect(first?.clientKey).toBe(input.clientKey);
    expect(second).toBe(first);
    expect(counting.byInstallation).toBe(1);
    expect(cache.installationMappings).toBe(1);
    // The tenant itself is now cached too, so a Connect request of that tenant costs nothing either.
    expect(await cache.find(APP, input.clientKey)).toBe(first);
    expect(counting.finds).toBe(0);
  });

  it('shares one lookup between concurrent callers and does not cache a miss', async () => {
    const input = installation();
    await real.install(input, noWork);
    const results = await Promise.all(Array.from({ length: 5 }, () => cache.findByInstallationId(APP, input.installationId!)));
    expect(new Set(results.map((tenant) => tenant?.clientKey))).toEqual(new Set([input.clientKey]));
    expect(counting.byInstallation).toBe(1);

    const unknown = newInstallationId();
    expect(await cache.findByInstallationId(APP, unknown)).toBeNull();
    await real.install(installation({ installationId: unknown }), noWork); // installed through another instance
    expect(await cache.findByInstallationId(APP, unknown)).not.toBeNull();
  });

  it('a re-install through it that changes the installationId moves the link at once', async () => {
    const input = installation();
    await cache.install(input, noWork);
    expect((await cache.findByInstallationId(APP, input.installationId!))?.clientKey).toBe(input.clientKey);

    const moved = { ...input, installationId: newInstallationId() };
    await cache.install(moved, noWork);
    expect(cache.installationMappings).toBe(0);
    expect(await cache.findByInstallationId(APP, input.installationId!)).toBeNull();
    expect((await cache.findByInstallationId(APP, moved.installationId))?.clientKey).toBe(input.clientKey);
  });

  it('an uninstall through it is seen by the next lookup', async () => {
    const input = installation();
    await cache.install(input, noWork);
    await cache.findByInstallationId(APP, input.installationId!);
    await cache.update(APP, input.clientKey, { kind: 'uninstalled' }, noWork);
    expect((await cache.findByInstallationId(APP, input.installationId!))?.uninstalledAt).toBeInstanceOf(Date);
  });

  it('invalidate (what a change notification from another instance does) drops the mapping', async () => {
    const input = installation();
    await real.install(input, noWork);
    await cache.findByInstallationId(APP, input.installationId!);
    const moved = { ...input, installationId: newInstallationId() };
    await real.install(moved, noWork); // another instance re-installs with a new installationId
    cache.invalidate(APP, input.clientKey);
    expect(cache.installationMappings).toBe(0);
    expect(await cache.findByInstallationId(APP, input.installationId!)).toBeNull();
    expect((await cache.findByInstallationId(APP, moved.installationId))?.clientKey).toBe(input.clientKey);
  });

  it('a notification about ANOTHER tenant that now claims the installation also drops the mapping', async () => {
    const shared = newInstallationId();
    const a = installation({ installationId: shared });
    await real.install(a, noWork);
    expect((await cache.findByInstallationId(APP, shared))?.clientKey).toBe(a.clientKey);
    const b = installation({ installationId: shared });
    await real.install(b, noWork); // elsewhere: the change names b only
    cache.invalidate(APP, b.clientKey);
    expect((await cache.findByInstallationId(APP, shared))?.clientKey).toBe(b.clientKey);
  });

  it('a mapping whose tenant no longer carries the installationId is not served', async () => {
    const bounded = new CachingTenantStore(counting, { maxEntries: 2, ttlMs: 60_000 });
    const [a, b, c] = [installation(), installation(), installation()];
    for (const input of [a, b, c]) await real.install(input, noWork);
    await bounded.findByInstallationId(APP, a.installationId!);
    // Two other tenants push a's entry out of the tenant cache; its mapping stays.
    await bounded.find(APP, b.clientKey);
    await bounded.find(APP, c.clientKey);
    expect(bounded.installationMappings).toBe(1);
    await real.install({ ...a, installationId: newInstallationId() }, noWork); // unheard of here
    expect(await bounded.findByInstallationId(APP, a.installationId!)).toBeNull();
    expect(bounded.installationMappings).toBe(0);
  });

  it('keeps at most maxEntries mappings and forgets them all on clear and bypass', async () => {
    const bounded = new CachingTenantStore(counting, { maxEntries: 2, ttlMs: 60_000 });
    const inputs = [installation(), installation(), installation()];
    for (const input of inputs) await real.install(input, noWork);
    for (const input of inputs) await bounded.findByInstallationId(APP, input.installationId!);
    expect(bounded.installationMappings).toBe(2);
    bounded.clear();
    expect(bounded.installationMappings).toBe(0);
    await bounded.findByInstallationId(APP, inputs[0]!.installationId!);
    bounded.setBypass(true);
    expect(bounded.installationMappings).toBe(0);
    const before = counting.byInstallation;
    await bounded.findByInstallationId(APP, inputs[0]!.installationId!);
    await bounded.findByInstallationId(APP, inputs[0]!.installationId!);
    expect(counting.byInstallation).toBe(before + 2);
    expect(bounded.installationMappings).toBe(0);
  });

  it('looks a mapping up again once it expired', async () => {
    let now = 1_000;
    const expiring = new CachingTenantStore(counting, { maxEntries: 10, ttlMs: 500, now: () => now });
    const input = installation();
    await real.install(input, noWork);
    await expiring.findByInstallationId(APP, input.installationId!);
    now += 499;
    await expiring.findByInstallationId(APP, input.installationId!);
    expect(counting.byInstallation).toBe(1);
    now += 1;
    await expiring.findByInstallationId(APP, input.installationId!);
    expect(counting.byInstallation).toBe(2);
  });
});

describe('CachingTenantStore.findByInstallationId races and inner stores', () => {
  function tenantOf(clientKey: string, installationId: string): ConnectTenant {
    const at = new Date(0);
    return Object.freeze({ ...installation({ clientKey, installationId }), enabled: true, installedAt: at, uninstalledAt: null, createdAt: at, updatedAt: at });
  }

  it('a lookup in flight while a write finished does not cache what it read', async () => {
    const id = newInstallationId();
    const reads: ((tenant: ConnectTenant | null) => void)[] = [];
    let lookups = 0;
    const inner: TenantStore = {
      find: async (_appKey, clientKey) => tenantOf(clientKey, 'moved'),
      findByInstallationId: () => {
        lookups += 1;
        return new Promise((resolve) => reads.push(resolve));
      },
      install: async (input, work) => {
        const tenant = tenantOf(input.clientKey, input.installationId!);
        return { tenant, result: await work(tenant, { previous: null, transaction: undefined }) };
      },
      update: () => Promise.resolve(null),
      ping: () => Promise.resolve(),
    };
    const cache = new CachingTenantStore(inner, { maxEntries: 10, ttlMs: 60_000 });
    const stale = cache.findByInstallationId(APP, id);
    await cache.install(installation({ clientKey: 'site', installationId: 'moved' }), noWork);
    reads[0]!(tenantOf('site', id)); // read before the re-install committed
    expect((await stale)?.clientKey).toBe('site');
    expect(cache.installationMappings).toBe(0);
    const again = cache.findByInstallationId(APP, id);
    expect(lookups).toBe(2);
    reads[1]!(null);
    expect(await again).toBeNull();
  });

  it('does not cache failures', async () => {
    let calls = 0;
    const outage = ConnectError.create('store/unavailable', 'The tenant store is unavailable.');
    const inner: TenantStore = {
      find: () => Promise.resolve(null),
      findByInstallationId: () => {
        calls += 1;
        if (calls === 1) throw outage; // even a synchronous throw
        return Promise.resolve(tenantOf('site', 'i'));
      },
      install: () => Promise.reject(new Error('unused')),
      update: () => Promise.reject(new Error('unused')),
      ping: () => Promise.resolve(),
    };
    const cache = new CachingTenantStore(inner, { maxEntries: 10, ttlMs: 60_000 });
    await expect(cache.findByInstallationId(APP, 'i')).rejects.toBe(outage);
    expect((await cache.findByInstallationId(APP, 'i'))?.clientKey).toBe('site');
    expect(calls).toBe(2);
  });

  it('says how to fix an inner store without findByInstallationId', async () => {
    const inner: TenantStore = {
      find: () => Promise.resolve(null),
      install: () => Promise.reject(new Error('unused')),
      update: () => Promise.reject(new Error('unused')),
      ping: () => Promise.resolve(),
    };
    const cache = new CachingTenantStore(inner, { maxEntries: 10, ttlMs: 60_000 });
    await expect(cache.findByInstallationId(APP, 'i')).rejects.toMatchObject({ code: 'config/invalid', message: expect.stringContaining('findByInstallationId') });
  });
});

const databaseUrl = process.env.DATABASE_URL;

(databaseUrl ? describe : describe.skip)('installation mappings across instances (real PostgreSQL, LISTEN/NOTIFY)', () => {
  let db: TestDatabase;
  let mine: DataSource;
  let theirs: DataSource;

  beforeAll(async () => {
    db = await startTestDatabase();
    mine = await openDataSource(db, 2);
    theirs = await openDataSource(db, 2);
  }, 60_000);

  afterAll(async () => {
    await mine?.destroy();
    await theirs?.destroy();
    await db?.stop();
  });

  it("a re-install or uninstall on another instance drops this instance's mapping within milliseconds", async () => {
    const cache = new CachingTenantStore(new TypeOrmTenantStore(mine, cipher), { maxEntries: 100, ttlMs: 60_000 });
    const other = new CachingTenantStore(new TypeOrmTenantStore(theirs, cipher), { maxEntries: 100, ttlMs: 60_000 });
    const options = await resolveConnectOptions(
      { apps: [{ product: 'jira', key: APP, baseUrl: 'https://installations.example.test/jira', descriptor: {} }], database: { url: db.url, schema: db.schema } },
      { nodeEnv: 'test' },
    );
    const input = installation();
    await other.install(input, noWork);
    const listener = new TenantChangeListener(options, cache, mine);
    await listener.onApplicationBootstrap();
    try {
      expect(listener.connected).toBe(true);
      expect(cache.bypassed).toBe(false);
      expect((await cache.findByInstallationId(APP, input.installationId!))?.clientKey).toBe(input.clientKey);
      expect(cache.installationMappings).toBe(1);

      const moved = { ...input, installationId: newInstallationId() };
      await other.install(moved, noWork);
      const afterReinstall = await until(() => cache.installationMappings === 0);
      expect(await cache.findByInstallationId(APP, input.installationId!)).toBeNull();
      expect((await cache.findByInstallationId(APP, moved.installationId))?.clientKey).toBe(input.clientKey);

      await other.update(APP, input.clientKey, { kind: 'uninstalled' }, noWork);
      const afterUninstall = await until(() => cache.installationMappings === 0);
      expect((await cache.findByInstallationId(APP, moved.installationId))?.uninstalledAt).toBeInstanceOf(Date);
      // eslint-disable-next-line no-console
      console.info(`installation mapping dropped ${afterReinstall} ms after a remote re-install, ${afterUninstall} ms after a remote uninstall`);
    } finally {
      await listener.onApplicationShutdown();
    }
  }, 30_000);
});
