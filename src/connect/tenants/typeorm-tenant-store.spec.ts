import { randomUUID } from 'node:crypto';
import { createServer, connect, type AddressInfo, type Server, type Socket } from 'node:net';

import { jest } from '@jest/globals';
import { DataSource, EntityManager } from 'typeorm';

import { connectDataSourceOptions } from '../database/connect-data-source-options.js';
import { bindSecretCipher, SecretCipher } from '../database/secret-cipher.js';
import { ConnectError } from '../errors/connect-error.js';
import { startTestDatabase, type TestDatabase } from '../testing/test-database.js';
import type { ConnectTenant, TenantInstallation } from './tenant.js';
import type { TenantWriteContext } from './tenant-store.js';
import { TypeOrmTenantStore } from './typeorm-tenant-store.js';

function openDataSource(db: TestDatabase, overrides: { url?: string; connectTimeoutMs?: number; queryTimeoutMs?: number } = {}): Promise<DataSource> {
  return new DataSource(
    connectDataSourceOptions({
      url: overrides.url ?? db.url,
      schema: db.schema,
      poolSize: db.poolSize,
      connectTimeoutMs: overrides.connectTimeoutMs ?? 5_000,
      queryTimeoutMs: overrides.queryTimeoutMs ?? 10_000,
    }),
  )
    .initialize()
    .then(withTestCipher);
}

const testCipher = SecretCipher.fromKeys([Buffer.alloc(32, 7).toString('base64')]);

function withTestCipher(dataSource: DataSource): DataSource {
  bindSecretCipher(dataSource, testCipher);
  return dataSource;
}

function installation(overrides: Partial<TenantInstallation> = {}): TenantInstallation {
  return {
    appKey: 'com.example.app',
    clientKey: `client-${randomUUID()}`,
    sharedSecret: `secret-${randomUUID()}`,
    baseUrl: 'https://example.atlassian.net',
    displayUrl: 'https://jira.example.com',
    productType: 'jira',
    description: 'Atlassian JIRA at https://example.atlassian.net',
    serviceEntitlementNumber: 'SEN-1234',
    entitlementId: 'ent-5678',
    entitlementNumber: 'E-9',
    oauthClientId: 'oauth-client',
    installationId: `ari:cloud:ecosystem::installation/${randomUUID()}`,
    ...overrides,
  };
}

const noWork = async (): Promise<void> => undefined;

async function expectStoreUnavailable(promise: Promise<unknown>): Promise<ConnectError> {
  let thrown: unknown;
  try {
    await promise;
  } catch (error) {
    thrown = error;
  }
  expect(thrown).toBeInstanceOf(ConnectError);
  const error = thrown as ConnectError;
  expect(error.code).toBe('store/unavailable');
  expect(error.message).toBe('The tenant store is unavailable.');
  expect(error.cause).toBeDefined();
  return error;
}

// One database for the file. Each describe below opens its own DataSources and closes them before the
// next one starts (on the embedded engine a second connection waits for the first to close).
let db: TestDatabase;
const started = Date.now();

beforeAll(async () => {
  db = await startTestDatabase();
}, 120_000);

afterAll(async () => {
  await db?.stop();
  // eslint-disable-next-line no-console
  console.info(`TypeOrmTenantStore spec on ${db?.engine}: ${Date.now() - started} ms`);
});

describe('TypeOrmTenantStore', () => {
  let dataSource: DataSource;
  let store: TypeOrmTenantStore;

  beforeAll(async () => {
    dataSource = await openDataSource(db);
    store = new TypeOrmTenantStore(dataSource);
    // A table of the app's own, written by lifecycle work in the tenant's transaction.
    await dataSource.query('CREATE TABLE side_effect (client_key text NOT NULL)');
  }, 120_000);

  afterAll(async () => {
    await dataSource?.destroy();
  });

  async function countRows(appKey: string, clientKey: string): Promise<number> {
    const [{ n }] = await dataSource.query('SELECT count(*)::int AS n FROM connect_tenant WHERE app_key = $1 AND client_key = $2', [appKey, clientKey]);
    return n;
  }

  it('installs a tenant with every field and finds it again as a frozen plain object', async () => {
    const input = installation();
    const seen: { tenant: ConnectTenant; context: TenantWriteContext }[] = [];
    const { tenant, result } = await store.install(input, async (t, context) => {
      seen.push({ tenant: t, context });
      return 'hook result';
    });

    expect(result).toBe('hook result');
    expect(tenant).toEqual({
      appKey: input.appKey,
      clientKey: input.clientKey,
      sharedSecret: input.sharedSecret,
      baseUrl: input.baseUrl,
      displayUrl: input.displayUrl,
      productType: 'jira',
      description: input.description,
      serviceEntitlementNumber: 'SEN-1234',
      entitlementId: 'ent-5678',
      entitlementNumber: 'E-9',
      oauthClientId: 'oauth-client',
      installationId: input.installationId,
      enabled: true,
      installedAt: expect.any(Date),
      uninstalledAt: null,
      createdAt: expect.any(Date),
      updatedAt: expect.any(Date),
    });
    expect(Object.isFrozen(tenant)).toBe(true);
    expect(tenant.createdAt.getTime()).toBe(tenant.installedAt.getTime());
    expect(seen).toHaveLength(1);
    expect(seen[0]!.tenant).toEqual(tenant);
    expect(seen[0]!.context.previous).toBeNull();
    expect(seen[0]!.context.transaction).toBeInstanceOf(EntityManager);

    const found = await store.find(input.appKey, input.clientKey);
    expect(found).toEqual(tenant);
    expect(Object.isFrozen(found)).toBe(true);
    expect(Object.getPrototypeOf(found)).toBe(Object.prototype);
  });

  it('keeps optional fields null and accepts confluence', async () => {
    const input = installation({
      productType: 'confluence',
      displayUrl: null,
      description: null,
      serviceEntitlementNumber: null,
      entitlementId: null,
      entitlementNumber: null,
      oauthClientId: null,
      installationId: null,
    });
    await store.install(input, noWork);
    expect(await store.find(input.appKey, input.clientKey)).toMatchObject({
      productType: 'confluence',
      displayUrl: null,
      description: null,
      serviceEntitlementNumber: null,
      entitlementId: null,
      entitlementNumber: null,
      oauthClientId: null,
      installationId: null,
    });
  });

  it('returns null for a tenant that was never installed', async () => {
    expect(await store.find('com.example.app', `client-${randomUUID()}`)).toBeNull();
  });

  it('re-install rotates the secret, clears uninstalledAt, re-enables, keeps createdAt and hands over the previous row', async () => {
    const first = installation();
    const { tenant: original } = await store.install(first, noWork);
    await store.update(first.appKey, first.clientKey, { kind: 'disabled' }, noWork);
    const uninstalled = await store.update(first.appKey, first.clientKey, { kind: 'uninstalled' }, noWork);
    expect(uninstalled?.tenant.uninstalledAt).toBeInstanceOf(Date);

    const second = { ...first, sharedSecret: `rotated-${randomUUID()}`, baseUrl: 'https://renamed.atlassian.net' };
    let previous: ConnectTenant | null | undefined;
    const { tenant } = await store.install(second, async (_tenant, context) => {
      previous = context.previous;
    });

    expect(previous).toMatchObject({ sharedSecret: first.sharedSecret, enabled: false });
    expect(previous?.uninstalledAt).toBeInstanceOf(Date);
    expect(tenant).toMatchObject({
      sharedSecret: second.sharedSecret,
      baseUrl: 'https://renamed.atlassian.net',
      enabled: true,
      uninstalledAt: null,
    });
    expect(tenant.createdAt.getTime()).toBe(original.createdAt.getTime());
    expect(tenant.installedAt.getTime()).toBeGreaterThanOrEqual(original.installedAt.getTime());
    expect(await store.find(first.appKey, first.clientKey)).toEqual(tenant);
    expect(await countRows(first.appKey, first.clientKey)).toBe(1);
  });

  it('a re-install of a disabled (not uninstalled) tenant rotates the secret but keeps it disabled', async () => {
    const first = installation();
    await store.install(first, noWork);
    await store.update(first.appKey, first.clientKey, { kind: 'disabled' }, noWork);
    const second = { ...first, sharedSecret: `rotated-${randomUUID()}` };
    const { tenant } = await store.install(second, noWork);
    expect(tenant).toMatchObject({ sharedSecret: second.sharedSecret, enabled: false, uninstalledAt: null });
    const enabled = await store.update(first.appKey, first.clientKey, { kind: 'enabled' }, noWork);
    expect(enabled?.tenant.enabled).toBe(true);
  });

  it('a re-install with { enable: true } (Connect on Forge) enables a disabled tenant, and leaves others as they are', async () => {
    const first = installation();
    await store.install(first, noWork);
    await store.update(first.appKey, first.clientKey, { kind: 'disabled' }, noWork);
    const { tenant, result } = await store.install({ ...first, sharedSecret: `rotated-${randomUUID()}` }, async (_tenant, { previous }) => previous, { enable: true });
    expect(result).toMatchObject({ enabled: false });
    expect(tenant).toMatchObject({ enabled: true, uninstalledAt: null });
    expect(await store.find(first.appKey, first.clientKey)).toMatchObject({ enabled: true });

    const fresh = installation();
    expect((await store.install(fresh, noWork, { enable: true })).tenant).toMatchObject({ enabled: true });
    expect((await store.install(fresh, noWork, { enable: false })).tenant).toMatchObject({ enabled: true });
  });

  it('a rejecting work on re-install rethrows its own error and leaves the previous row intact', async () => {
    const first = installation();
    await store.install(first, noWork);
    const before = await store.find(first.appKey, first.clientKey);

    const hookError = new Error('hook failed');
    await expect(
      store.install({ ...first, sharedSecret: 'never-stored' }, async (_tenant, context) => {
        await (context.transaction as EntityManager).query('INSERT INTO side_effect VALUES ($1)', [first.clientKey]);
        throw hookError;
      }),
    ).rejects.toBe(hookError);

    const after = await store.find(first.appKey, first.clientKey);
    expect(after).toEqual(before);
    expect(after?.sharedSecret).toBe(first.sharedSecret);
    expect(await dataSource.query('SELECT * FROM side_effect WHERE client_key = $1', [first.clientKey])).toEqual([]);
  });

  it('a rejecting work on a first install leaves no row; a resolving one commits its own writes too', async () => {
    const input = installation();
    const notAnError = { reason: 'not even an Error' };
    await expect(
      store.install(input, async () => {
        throw notAnError;
      }),
    ).rejects.toBe(notAnError);
    expect(await store.find(input.appKey, input.clientKey)).toBeNull();
    expect(await countRows(input.appKey, input.clientKey)).toBe(0);

    // A ConnectError thrown by work is not turned into store/unavailable either.
    const connectError = ConnectError.create('lifecycle/hook-failed', 'The install hook failed.');
    await expect(store.install(input, () => Promise.reject(connectError))).rejects.toBe(connectError);

    await store.install(input, async (_tenant, context) => {
      await (context.transaction as EntityManager).query('INSERT INTO side_effect VALUES ($1)', [input.clientKey]);
    });
    expect(await countRows(input.appKey, input.clientKey)).toBe(1);
    expect(await dataSource.query('SELECT client_key FROM side_effect WHERE client_key = $1', [input.clientKey])).toEqual([{ client_key: input.clientKey }]);
  });

  it('disabled and uninstalled give the same final state in either order', async () => {
    const a = installation();
    const b = installation();
    await store.install(a, noWork);
    await store.install(b, noWork);

    await store.update(a.appKey, a.clientKey, { kind: 'disabled' }, noWork);
    await store.update(a.appKey, a.clientKey, { kind: 'uninstalled' }, noWork);
    await store.update(b.appKey, b.clientKey, { kind: 'uninstalled' }, noWork);
    await store.update(b.appKey, b.clientKey, { kind: 'disabled' }, noWork);

    const finalA = await store.find(a.appKey, a.clientKey);
    const finalB = await store.find(b.appKey, b.clientKey);
    for (const tenant of [finalA, finalB]) {
      expect(tenant?.enabled).toBe(false);
      expect(tenant?.uninstalledAt).toBeInstanceOf(Date);
      expect(tenant?.sharedSecret).toBeDefined();
    }
  });

  it('update hands work the new and previous state, keeps the first uninstall time, and enabled does not reinstall', async () => {
    const input = installation();
    await store.install(input, noWork);

    const disabled = await store.update(input.appKey, input.clientKey, { kind: 'disabled' }, async (tenant, context) => {
      expect(tenant.enabled).toBe(false);
      expect(context.previous?.enabled).toBe(true);
      expect(context.transaction).toBeInstanceOf(EntityManager);
      return 42;
    });
    expect(disabled?.result).toBe(42);

    const firstUninstall = await store.update(input.appKey, input.clientKey, { kind: 'uninstalled' }, noWork);
    await new Promise((done) => setTimeout(done, 20));
    const secondUninstall = await store.update(input.appKey, input.clientKey, { kind: 'uninstalled' }, noWork);
    expect(secondUninstall?.tenant.uninstalledAt?.getTime()).toBe(firstUninstall?.tenant.uninstalledAt?.getTime());
    expect(secondUninstall!.tenant.updatedAt.getTime()).toBeGreaterThan(firstUninstall!.tenant.updatedAt.getTime());

    const enabled = await store.update(input.appKey, input.clientKey, { kind: 'enabled' }, noWork);
    expect(enabled?.tenant.enabled).toBe(true);
    expect(enabled?.tenant.uninstalledAt).toEqual(firstUninstall?.tenant.uninstalledAt);
  });

  it('update of an unknown tenant returns null without calling work', async () => {
    const work = jest.fn(noWork);
    expect(await store.update('com.example.app', `client-${randomUUID()}`, { kind: 'enabled' }, work)).toBeNull();
    expect(work).not.toHaveBeenCalled();
  });

  it('a rejecting work on update rolls the change back and rethrows its error', async () => {
    const input = installation();
    await store.install(input, noWork);
    const hookError = new Error('disable hook failed');
    await expect(store.update(input.appKey, input.clientKey, { kind: 'disabled' }, () => Promise.reject(hookError))).rejects.toBe(hookError);
    expect((await store.find(input.appKey, input.clientKey))?.enabled).toBe(true);
  });

  it('keeps two apps installed on one site apart', async () => {
    const clientKey = `client-${randomUUID()}`;
    const jira = installation({ appKey: 'com.example.one', clientKey, sharedSecret: 'one' });
    const other = installation({ appKey: 'com.example.two', clientKey, sharedSecret: 'two' });
    await store.install(jira, noWork);
    await store.install(other, noWork);
    await store.update('com.example.two', clientKey, { kind: 'uninstalled' }, noWork);

    expect(await store.find('com.example.one', clientKey)).toMatchObject({ sharedSecret: 'one', uninstalledAt: null });
    expect(await store.find('com.example.two', clientKey)).toMatchObject({ sharedSecret: 'two' });
    expect((await store.find('com.example.two', clientKey))?.uninstalledAt).toBeInstanceOf(Date);
  });

  it('ten concurrent installs of one tenant end with one row holding the secret of the last one to commit', async () => {
    const base = installation();
    const order: { secret: string; previousSecret: string | null }[] = [];
    const results = await Promise.allSettled(
      Array.from({ length: 10 }, (_, i) =>
        store.install({ ...base, sharedSecret: `secret-${i}` }, async (tenant, context) => {
          // work runs while the row is locked, so the order of these calls is the commit order.
          order.push({ secret: tenant.sharedSecret, previousSecret: context.previous?.sharedSecret ?? null });
          await new Promise((done) => setTimeout(done, 10));
        }),
      ),
    );

    expect(results.filter((r) => r.status === 'rejected')).toEqual([]);
    expect(await countRows(base.appKey, base.clientKey)).toBe(1);
    expect(order).toHaveLength(10);
    const final = await store.find(base.appKey, base.clientKey);
    expect(final?.sharedSecret).toBe(order[order.length - 1]!.secret);
    // Every install saw exactly the row the one before it wrote.
    expect(order[0]!.previousSecret).toBeNull();
    for (let i = 1; i < order.length; i += 1) expect(order[i]!.previousSecret).toBe(order[i - 1]!.secret);
  }, 30_000);

  describe('findByInstallationId', () => {
    const forgeInstallation = (): string => `ari:cloud:ecosystem::installation/${randomUUID()}`;

    it('finds the tenant of a Forge installation, for its app only; unknown ids find nothing', async () => {
      const input = installation();
      const { tenant } = await store.install(input, noWork);
      expect(await store.findByInstallationId(input.appKey, input.installationId as string)).toEqual(tenant);
      expect(await store.findByInstallationId('com.example.other', input.installationId as string)).toBeNull();
      expect(await store.findByInstallationId(input.appKey, forgeInstallation())).toBeNull();
      // The same Forge installation seen by a second app on the site maps to that app's own tenant.
      const other = installation({ appKey: 'com.example.other', clientKey: input.clientKey, installationId: input.installationId });
      const { tenant: otherTenant } = await store.install(other, noWork);
      expect(await store.findByInstallationId('com.example.other', input.installationId as string)).toEqual(otherTenant);
      expect((await store.findByInstallationId(input.appKey, input.installationId as string))?.appKey).toBe(input.appKey);
    });

    it('a re-install with a new installationId moves the link: the latest signed install wins', async () => {
      const first = installation();
      await store.install(first, noWork);
      const moved = { ...first, installationId: forgeInstallation() };
      await store.install(moved, noWork);
      expect(await store.findByInstallationId(first.appKey, first.installationId as string)).toBeNull();
      expect((await store.findByInstallationId(first.appKey, moved.installationId))?.clientKey).toBe(first.clientKey);
      // A later install without one drops the link too.
      await store.install({ ...moved, installationId: null }, noWork);
      expect(await store.findByInstallationId(first.appKey, moved.installationId)).toBeNull();
    });

    it('returns an uninstalled tenant (callers check isTenantActive), but prefers an installed one, then the latest install', async () => {
      const shared = forgeInstallation();
      const a = installation({ installationId: shared });
      const b = installation({ installationId: shared });
      await store.install(a, noWork);
      await store.update(a.appKey, a.clientKey, { kind: 'uninstalled' }, noWork);
      expect((await store.findByInstallationId(a.appKey, shared))?.uninstalledAt).toBeInstanceOf(Date);

      await store.install(b, noWork);
      expect((await store.findByInstallationId(a.appKey, shared))?.clientKey).toBe(b.clientKey);
      // a is installed again later than b: it is the latest signed install of that installation.
      await store.install(a, noWork);
      expect((await store.findByInstallationId(a.appKey, shared))?.clientKey).toBe(a.clientKey);
      // Uninstalling a hands the installation back to b, which is still installed.
      await store.update(a.appKey, a.clientKey, { kind: 'uninstalled' }, noWork);
      expect((await store.findByInstallationId(a.appKey, shared))?.clientKey).toBe(b.clientKey);
    });

    it('uses the (app_key, installation_id) index', async () => {
      const input = installation();
      await store.install(input, noWork);
      const plan: { 'QUERY PLAN': string }[] = await dataSource.transaction(async (manager) => {
        await manager.query('SET LOCAL enable_seqscan = off');
        return manager.query(
          `EXPLAIN SELECT * FROM connect_tenant WHERE "app_key" = $1 AND "installation_id" = $2
           ORDER BY ("uninstalled_at" IS NULL) DESC, "installed_at" DESC, "id" DESC LIMIT 1`,
          [input.appKey, input.installationId],
        );
      });
      expect(plan.map((row) => row['QUERY PLAN']).join('\n')).toContain('connect_tenant_app_key_installation_id_idx');
    });
  });

  it('ping answers', async () => {
    await expect(store.ping()).resolves.toBeUndefined();
  });

  it('maps a DataSource that never connected to store/unavailable', async () => {
    const never = new DataSource(connectDataSourceOptions({ url: db.url, poolSize: 1, connectTimeoutMs: 200, queryTimeoutMs: 200 }));
    const unconnected = new TypeOrmTenantStore(never, testCipher);
    await expectStoreUnavailable(unconnected.find('a', 'b'));
    await expectStoreUnavailable(unconnected.findByInstallationId('a', 'ari:cloud:ecosystem::installation/x'));
    await expectStoreUnavailable(unconnected.ping());
    await expectStoreUnavailable(unconnected.install(installation(), noWork));
    await expectStoreUnavailable(unconnected.update('a', 'b', { kind: 'enabled' }, noWork));
  });
});

/** A TCP proxy in front of the database that can refuse, stall or cut connections. */
class FlakyProxy {
  private readonly server: Server;
  private readonly sockets = new Set<Socket>();
  mode: 'forward' | 'stall' = 'forward';
  port = 0;

  constructor(private readonly target: { host: string; port: number }) {
    this.server = createServer((client) => {
      this.track(client);
      if (this.mode === 'stall') return; // accept, then never answer
      const upstream = connect(this.target);
      this.track(upstream);
      client.pipe(upstream);
      upstream.pipe(client);
      client.once('close', () => upstream.destroy());
      upstream.once('close', () => client.destroy());
    });
  }

  static async start(url: string): Promise<FlakyProxy> {
    const target = new URL(url);
    const proxy = new FlakyProxy({ host: target.hostname, port: Number(target.port || 5432) });
    await new Promise<void>((done) => proxy.server.listen(0, '127.0.0.1', done));
    proxy.port = (proxy.server.address() as AddressInfo).port;
    return proxy;
  }

  urlFor(url: string): string {
    const proxied = new URL(url);
    proxied.hostname = '127.0.0.1';
    proxied.port = String(this.port);
    return proxied.toString();
  }

  /** Cuts every open connection (the database "restarts"). */
  cut(): void {
    for (const socket of this.sockets) socket.destroy();
  }

  /** Stops listening and cuts everything: new connections are refused. */
  async close(): Promise<void> {
    const closed = new Promise<void>((done) => this.server.close(() => done()));
    this.cut();
    await closed;
  }

  private track(socket: Socket): void {
    this.sockets.add(socket);
    socket.on('error', () => undefined);
    socket.once('close', () => this.sockets.delete(socket));
  }
}

describe('TypeOrmTenantStore when the database fails', () => {
  /** A store whose every connection goes through a fresh proxy; the DataSource is destroyed afterwards. */
  async function withProxiedStore(use: (store: TypeOrmTenantStore, proxy: FlakyProxy) => Promise<void>, timeouts = { connectTimeoutMs: 500, queryTimeoutMs: 500 }): Promise<void> {
    const proxy = await FlakyProxy.start(db.url);
    const dataSource = await openDataSource(db, { url: proxy.urlFor(db.url), ...timeouts });
    try {
      await use(new TypeOrmTenantStore(dataSource), proxy);
    } finally {
      await proxy.close();
      await dataSource.destroy();
    }
  }

  it('maps a refused connection to store/unavailable quickly, and never calls work', async () => {
    await withProxiedStore(async (store, proxy) => {
      await store.ping();
      await proxy.close(); // the database goes away
      const work = jest.fn(noWork);
      const t0 = Date.now();
      await expectStoreUnavailable(store.find('com.example.app', 'gone'));
      await expectStoreUnavailable(store.ping());
      await expectStoreUnavailable(store.install(installation(), work));
      await expectStoreUnavailable(store.update('com.example.app', 'gone', { kind: 'disabled' }, work));
      expect(work).not.toHaveBeenCalled();
      expect(Date.now() - t0).toBeLessThan(5_000);
    });
  }, 30_000);

  it('gives up on a server that accepts but never answers after the connect timeout', async () => {
    await withProxiedStore(async (store, proxy) => {
      proxy.mode = 'stall';
      proxy.cut();
      await new Promise((done) => setTimeout(done, 100)); // let the pool drop its dead connection
      const t0 = Date.now();
      const error = await expectStoreUnavailable(store.find('com.example.app', 'stalled'));
      const elapsed = Date.now() - t0;
      expect(String((error.cause as Error).message)).toMatch(/timeout/i);
      expect(elapsed).toBeGreaterThanOrEqual(400);
      expect(elapsed).toBeLessThan(3_000);
    });
  }, 30_000);

  it('gives up on a query that never gets an answer after the query timeout', async () => {
    await withProxiedStore(async (store, proxy) => {
      await store.ping(); // the pool now holds an open connection
      const idle = [...(proxy as unknown as { sockets: Set<Socket> }).sockets];
      for (const socket of idle) socket.pause(); // stop reading: queries go out, nothing comes back
      const t0 = Date.now();
      const error = await expectStoreUnavailable(store.find('com.example.app', 'silent'));
      expect(String((error.cause as Error).message)).toMatch(/timeout/i);
      expect(Date.now() - t0).toBeLessThan(5_000);
    });
  }, 30_000);

  it('a connection lost while work runs fails the install with store/unavailable and commits nothing', async () => {
    const input = installation();
    await withProxiedStore(async (store, proxy) => {
      const error = await expectStoreUnavailable(
        store.install(input, async () => {
          proxy.cut(); // work itself succeeds, but COMMIT cannot reach the database
        }),
      );
      expect(error.cause).not.toBeInstanceOf(ConnectError);
    });
    const dataSource = await openDataSource(db);
    try {
      expect(await new TypeOrmTenantStore(dataSource).find(input.appKey, input.clientKey)).toBeNull();
    } finally {
      await dataSource.destroy();
    }
  }, 30_000);
});
