import { randomUUID } from 'node:crypto';

import pg from 'pg';
import { DataSource } from 'typeorm';

import type { ConnectDatabaseOptions, ConnectModuleOptions } from '../config/connect-options.js';
import { resolveConnectOptions } from '../config/resolve-connect-options.js';
import type { ResolvedConnectOptions } from '../config/resolved-connect-options.js';
import { connectDataSourceOptions } from '../database/connect-data-source-options.js';
import { startTestDatabase, type TestDatabase } from '../testing/test-database.js';
import { CachingTenantStore } from './caching-tenant-store.js';
import { TenantChangeListener } from './tenant-change-listener.js';
import type { ConnectTenant } from './tenant.js';
import type { TenantStore } from './tenant-store.js';

const APP = 'com.test.listener';

/** Module options as the framework resolves them: one app, this database, everything else default. */
function resolvedWith(database: ConnectDatabaseOptions, extra: Partial<ConnectModuleOptions> = {}): Promise<ResolvedConnectOptions> {
  return resolveConnectOptions({ apps: [{ product: 'jira', key: APP, baseUrl: 'https://listener.example.test/jira', descriptor: {} }], database, ...extra }, { nodeEnv: 'test' });
}

/** An inner store that counts lookups and answers a fresh object each time (so a cache hit is visible). */
function countingStore(): TenantStore & { lookups: number } {
  const store = {
    lookups: 0,
    async find(appKey: string, clientKey: string) {
      store.lookups += 1;
      return { appKey, clientKey, lookup: store.lookups } as unknown as ConnectTenant;
    },
    install: () => Promise.reject(new Error('not used')),
    update: () => Promise.reject(new Error('not used')),
    ping: () => Promise.resolve(),
  };
  return store;
}

function waitFor(listener: TenantChangeListener, event: 'connected' | 'disconnected', timeoutMs = 10_000): Promise<void> {
  return new Promise((done, reject) => {
    const timer = setTimeout(() => {
      off();
      reject(new Error(`no ${event} within ${timeoutMs} ms`));
    }, timeoutMs);
    const off = listener.onStateChange((state) => {
      if (state !== event) return;
      clearTimeout(timer);
      off();
      done();
    });
  });
}

async function until(condition: () => boolean, timeoutMs = 1_000): Promise<number> {
  const from = Date.now();
  while (!condition()) {
    if (Date.now() - from > timeoutMs) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((wait) => setTimeout(wait, 5));
  }
  return Date.now() - from;
}

const databaseUrl = process.env.DATABASE_URL;
if (!databaseUrl) {
  // eslint-disable-next-line no-console
  console.info('tenant-change-listener.spec: skipped, DATABASE_URL is not set (no listener on the embedded engine; see test/faults.e2e-spec.ts).');
}

(databaseUrl ? describe : describe.skip)('TenantChangeListener against real PostgreSQL', () => {
  let db: TestDatabase;
  let other: TestDatabase;
  let source: DataSource;
  let otherSource: DataSource;
  let admin: pg.Client;

  const open = (database: TestDatabase) =>
    new DataSource(connectDataSourceOptions({ url: database.url, schema: database.schema, poolSize: 2, connectTimeoutMs: 5_000, queryTimeoutMs: 5_000 })).initialize();

  const insert = (dataSource: DataSource, clientKey: string) =>
    dataSource.query(`INSERT INTO connect_tenant (app_key, client_key, shared_secret, base_url, product_type) VALUES ($1, $2, 's', 'https://x.atlassian.net', 'jira')`, [
      APP,
      clientKey,
    ]);

  async function listenerFor(database: TestDatabase, dataSource: DataSource, cache: CachingTenantStore): Promise<TenantChangeListener> {
    return new TenantChangeListener(await resolvedWith({ url: database.url, schema: database.schema }), cache, dataSource);
  }

  beforeAll(async () => {
    db = await startTestDatabase();
    other = await startTestDatabase();
    source = await open(db);
    otherSource = await open(other);
    admin = new pg.Client({ connectionString: databaseUrl });
    await admin.connect();
  });

  afterAll(async () => {
    await admin?.end();
    await source?.destroy();
    await otherSource?.destroy();
    await db?.stop();
    await other?.stop();
  });

  it('drops a changed tenant from the cache at once, ignores other schemas, and bypasses the cache while disconnected', async () => {
    const inner = countingStore();
    const cache = new CachingTenantStore(inner, { maxEntries: 100, ttlMs: 60_000, observedTtlMs: 600_000 });
    expect(cache.currentTtlMs).toBe(60_000);
    const listener = await listenerFor(db, source, cache);
    await listener.onApplicationBootstrap();
    try {
      expect(listener.enabled).toBe(true);
      expect(listener.connected).toBe(true);
      expect(cache.bypassed).toBe(false);
      // Every change is heard now: entries may live the long time to live.
      expect(cache.currentTtlMs).toBe(600_000);

      const clientKey = randomUUID();
      await cache.find(APP, clientKey);
      await cache.find(APP, clientKey);
      expect(inner.lookups).toBe(1);
      expect(cache.size).toBe(1);

      // The same key changed in another schema of the same database: not ours.
      await insert(otherSource, clientKey);
      await new Promise((wait) => setTimeout(wait, 300));
      expect(cache.size).toBe(1);

      // Changed in our schema (insert, update, delete): dropped within milliseconds each time.
      await insert(source, clientKey);
      const afterInsert = await until(() => cache.size === 0);
      await cache.find(APP, clientKey);
      await source.query(`UPDATE connect_tenant SET enabled = false WHERE client_key = $1`, [clientKey]);
      const afterUpdate = await until(() => cache.size === 0);
      await cache.find(APP, clientKey);
      await source.query(`DELETE FROM connect_tenant WHERE client_key = $1`, [clientKey]);
      const afterDelete = await until(() => cache.size === 0);
      // A rolled-back change announces nothing.
      await cache.find(APP, clientKey);
      await expect(
        source.transaction(async (manager) => {
          await manager.query(`INSERT INTO connect_tenant (app_key, client_key, shared_secret, base_url, product_type) VALUES ($1, $2, 's', 'https://x', 'jira')`, [
            APP,
            clientKey,
          ]);
          throw new Error('roll back');
        }),
      ).rejects.toThrow('roll back');
      await new Promise((wait) => setTimeout(wait, 200));
      expect(cache.size).toBe(1);

      // Connection loss: the cache is emptied and bypassed until the listener is back.
      await cache.find(APP, clientKey);
      expect(cache.size).toBe(1);
      const pid = listener.backendPid;
      expect(pid).toEqual(expect.any(Number));
      const lost = waitFor(listener, 'disconnected');
      const back = waitFor(listener, 'connected');
      const killedAt = Date.now();
      await admin.query('SELECT pg_terminate_backend($1)', [pid]);
      await lost;
      expect(cache.bypassed).toBe(true);
      expect(cache.size).toBe(0);
      expect(cache.currentTtlMs).toBe(60_000);
      const lookups = inner.lookups;
      await cache.find(APP, clientKey);
      await cache.find(APP, clientKey);
      expect(inner.lookups).toBe(lookups + 2);
      expect(cache.size).toBe(0);

      await back;
      const reconnectMs = Date.now() - killedAt;
      expect(listener.backendPid).not.toBe(pid);
      expect(cache.bypassed).toBe(false);
      expect(cache.currentTtlMs).toBe(600_000);
      await cache.find(APP, clientKey);
      expect(cache.size).toBe(1);
      await insert(source, clientKey);
      await until(() => cache.size === 0);
      // eslint-disable-next-line no-console
      console.info(`listener: invalidation after insert ${afterInsert} ms, update ${afterUpdate} ms, delete ${afterDelete} ms; reconnected ${reconnectMs} ms after the kill`);
    } finally {
      await listener.onApplicationShutdown();
    }
    expect(listener.connected).toBe(false);
  });

  it('starts bypassed and keeps retrying when it cannot connect; closes cleanly on shutdown', async () => {
    const inner = countingStore();
    const cache = new CachingTenantStore(inner, { maxEntries: 100, ttlMs: 60_000 });
    const options = await resolvedWith({ url: 'postgres://postgres@127.0.0.1:1/none', schema: db.schema, connectTimeoutMs: 200 });
    const listener = new TenantChangeListener(options, cache, source);
    await listener.onApplicationBootstrap();
    expect(listener.connected).toBe(false);
    expect(cache.bypassed).toBe(true);
    expect(cache.currentTtlMs).toBe(60_000);
    await cache.find(APP, 'x');
    await cache.find(APP, 'x');
    expect(inner.lookups).toBe(2);
    await listener.onApplicationShutdown();
  });

  it('stays off with a custom store (the cache in front of it hears of no database)', async () => {
    const custom = countingStore();
    const options = await resolvedWith({ url: db.url }, { tenantStore: custom });
    const listener = new TenantChangeListener(options, new CachingTenantStore(custom, { maxEntries: 10, ttlMs: 1000 }), source);
    await listener.onApplicationBootstrap();
    expect(listener.enabled).toBe(false);
    expect(listener.connected).toBe(false);
    await listener.onApplicationShutdown();
  });
});
