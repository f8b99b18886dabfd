import { Injectable, Module } from '@nestjs/common';
import { ScheduleModule, SchedulerRegistry } from '@nestjs/schedule';
import { getDataSourceToken } from '@nestjs/typeorm';
import type { DataSource } from 'typeorm';
import { CONNECT_DATA_SOURCE, ConnectModule, OnPurge, TenantRetention, type ConnectPurgeEvent, type TenantStore } from 'atlassian-connect-nest';
import { TenantPurger } from 'atlassian-connect-nest/advanced';
import { FakeConnectHost, type FakeHostApp, type FakeSite } from 'atlassian-connect-nest/testing';
import { listenOn, type StartedConnectApp } from './support/connect-test-app.js';
import { whoamiController } from './fixtures/whoami-controller.js';
import { startTestDatabase, type TestDatabaseHandle } from './support/test-database-options.js';

const KEY = 'com.test.retention';
const BASE_URL = 'https://retention.example.test/jira';

@Injectable()
class TenantDataCleaner {
  readonly calls: { clientKey: string; appKey: string; app: string | undefined; inTransaction: boolean }[] = [];
  failFor = new Set<string>();

  @OnPurge()
  async forget(event: ConnectPurgeEvent): Promise<void> {
    const rows = (await (event.transaction as DataSource['manager']).query('SELECT 1 AS "one"')) as { one: number }[];
    this.calls.push({ clientKey: event.tenant.clientKey, appKey: event.tenant.appKey, app: event.app?.key, inTransaction: rows[0]?.one === 1 });
    if (this.failFor.has(event.tenant.clientKey)) throw new Error('cannot delete the app data of this tenant');
  }

  @OnPurge({ product: 'confluence' })
  neverForJira(): void {
    throw new Error('a confluence-only hook ran for a jira tenant');
  }
}

describe('tenant retention', () => {
  let host: FakeConnectHost;
  let db: TestDatabaseHandle;
  let started: StartedConnectApp;
  let app: FakeHostApp;
  let dataSource: DataSource;
  let table: string;

  beforeAll(async () => {
    host = await FakeConnectHost.start();
    db = await startTestDatabase();
    @Module({
      imports: [
        ConnectModule.forRoot({
          apps: [{ product: 'jira', key: KEY, baseUrl: BASE_URL, descriptor: { name: 'Retention' } }],
          installKeysUrl: host.installKeysUrl,
          database: db.database,
          retention: { uninstalledDays: 30, schedule: false },
        }),
      ],
      controllers: [whoamiController('jira')],
      providers: [TenantDataCleaner],
    })
    class RetentionModule {}
    started = await listenOn({ module: RetentionModule }, () => db.stop());
    app = { key: KEY, product: 'jira', baseUrl: BASE_URL, via: started.url };
    dataSource = started.app.get<DataSource>(getDataSourceToken(CONNECT_DATA_SOURCE));
    const schema = (dataSource.options as { schema?: string }).schema;
    table = schema ? `"${schema}"."connect_tenant"` : '"connect_tenant"';
  });
  afterAll(async () => {
    await started?.close();
    await host?.close();
  });

  const installed = async () => {
    const site = host.newSite('jira');
    expect((await host.install(app, site)).status).toBe(204);
    return site;
  };
  const uninstalledDaysAgo = async (site: FakeSite, days: number) => {
    expect((await host.uninstall(app, site)).status).toBe(204);
    await dataSource.query(`UPDATE ${table} SET "uninstalled_at" = now() - make_interval(days => $1) WHERE "app_key" = $2 AND "client_key" = $3`, [days, KEY, site.clientKey]);
  };
  const exists = async (site: FakeSite) =>
    ((await dataSource.query(`SELECT 1 FROM ${table} WHERE "app_key" = $1 AND "client_key" = $2`, [KEY, site.clientKey])) as unknown[]).length === 1;

  it('purges tenants uninstalled more than 30 days ago after their hooks ran; keeps recent, active and hook-failed ones', async () => {
    const cleaner = started.app.get(TenantDataCleaner);
    const old = await installed();
    const recent = await installed();
    const active = await installed();
    const stubborn = await installed();
    await uninstalledDaysAgo(old, 31);
    await uninstalledDaysAgo(recent, 29);
    await uninstalledDaysAgo(stubborn, 31);
    cleaner.failFor.add(stubborn.clientKey);

    const report = await started.app.get(TenantRetention).purge();
    expect(report.ran).toBe(true);
    expect(report.purged.map((t) => t.clientKey)).toEqual([old.clientKey]);
    expect(report.kept).toEqual([{ tenant: expect.objectContaining({ clientKey: stubborn.clientKey }), reason: 'hook-failed' }]);
    expect(JSON.stringify(report)).not.toContain(old.sharedSecret);
    expect(await exists(old)).toBe(false);
    expect(await exists(recent)).toBe(true);
    expect(await exists(active)).toBe(true);
    expect(await exists(stubborn)).toBe(true);
    expect(cleaner.calls).toEqual(
      expect.arrayContaining([
        { clientKey: old.clientKey, appKey: KEY, app: KEY, inTransaction: true },
        { clientKey: stubborn.clientKey, appKey: KEY, app: KEY, inTransaction: true },
      ]),
    );
    expect(cleaner.calls.map((c) => c.clientKey)).not.toContain(recent.clientKey);

    // the hook recovers: the next run purges it
    cleaner.failFor.clear();
    const next = await started.app.get(TenantRetention).purge();
    expect(next.purged.map((t) => t.clientKey)).toEqual([stubborn.clientKey]);
    expect(await exists(stubborn)).toBe(false);

    // a purged site can install again from scratch
    expect((await host.install(app, old)).status).toBe(204);
    expect(await exists(old)).toBe(true);
  });

  it('purge(now) measures the retention from the given time', async () => {
    const site = await installed();
    await uninstalledDaysAgo(site, 10);
    const tooEarly = await started.app.get(TenantRetention).purge(new Date());
    expect(tooEarly.purged.map((t) => t.clientKey)).not.toContain(site.clientKey);
    const later = await started.app.get(TenantRetention).purge(new Date(Date.now() + 21 * 24 * 3600 * 1000));
    expect(later.purged.map((t) => t.clientKey)).toContain(site.clientKey);
  });

  it('a re-install between selecting and deleting wins: the row is kept', async () => {
    const site = await installed();
    await uninstalledDaysAgo(site, 40);
    const purger = new TenantPurger(dataSource);
    const cutoff = new Date(Date.now() - 30 * 24 * 3600 * 1000);
    const candidate = (await purger.candidates(cutoff)).find((c) => c.clientKey === site.clientKey);
    expect(candidate).toBeDefined();
    expect((await host.install(app, site)).status).toBe(204);
    let hookRan = false;
    const outcome = await purger.purgeOne(candidate!, cutoff, async () => {
      hookRan = true;
    });
    expect(outcome).toEqual({ purged: false, reason: 'reinstalled' });
    expect(hookRan).toBe(false);
    expect(await exists(site)).toBe(true);
    const whoami = await host.send(app, 'GET', '/jira/api/whoami', { headers: { authorization: `JWT ${await host.tokenFor(app, site, 'GET', '/jira/api/whoami')}` } });
    expect(whoami.status).toBe(200);
  });
});

describe('tenant retention with a custom tenant store', () => {
  it('does nothing (ran: false) and schedules nothing', async () => {
    const store: TenantStore = {
      find: async () => null,
      install: async () => {
        throw new Error('unused');
      },
      update: async () => null,
      ping: async () => undefined,
    };
    @Module({
      imports: [
        ConnectModule.forRoot({
          apps: [{ product: 'jira', key: KEY, baseUrl: BASE_URL, descriptor: { name: 'Retention' } }],
          tenantStore: store,
        }),
      ],
    })
    class CustomStoreModule {}
    const started = await listenOn({ module: CustomStoreModule });
    try {
      const report = await started.app.get(TenantRetention).purge();
      expect(report).toEqual({ ran: false, cutoff: expect.any(Date), purged: [], kept: [], forgeInstallations: { purged: [], kept: [] }, forgeEventRecordsDeleted: 0 });
    } finally {
      await started.close();
    }
  });
});

describe('scheduled tenant retention', () => {
  it('runs the purge on the configured cron schedule', async () => {
    const host = await FakeConnectHost.start();
    const db = await startTestDatabase();
    @Module({
      imports: [
        ConnectModule.forRoot({
          apps: [{ product: 'jira', key: KEY, baseUrl: BASE_URL, descriptor: { name: 'Retention' } }],
          installKeysUrl: host.installKeysUrl,
          database: db.database,
          retention: { uninstalledDays: 1, schedule: '* * * * * *' },
        }),
      ],
    })
    class ScheduledModule {}
    const started = await listenOn({ module: ScheduledModule }, () => db.stop());
    try {
      const target: FakeHostApp = { key: KEY, product: 'jira', baseUrl: BASE_URL, via: started.url };
      const site = host.newSite('jira');
      expect((await host.install(target, site)).status).toBe(204);
      expect((await host.uninstall(target, site)).status).toBe(204);
      const ds = started.app.get<DataSource>(getDataSourceToken(CONNECT_DATA_SOURCE));
      const schema = (ds.options as { schema?: string }).schema;
      const table = schema ? `"${schema}"."connect_tenant"` : '"connect_tenant"';
      await ds.query(`UPDATE ${table} SET "uninstalled_at" = now() - interval '2 days' WHERE "client_key" = $1`, [site.clientKey]);
      const deadline = Date.now() + 10_000;
      let count = 1;
      while (count > 0 && Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 200));
        count = ((await ds.query(`SELECT 1 FROM ${table} WHERE "client_key" = $1`, [site.clientKey])) as unknown[]).length;
      }
      expect(count).toBe(0);
    } finally {
      await started.close();
      await host.close();
    }
  });

  it("lists the job in the app's SchedulerRegistry when the app imports ScheduleModule.forRoot(), and takes it out on close", async () => {
    const db = await startTestDatabase();
    @Module({
      imports: [
        ScheduleModule.forRoot(),
        ConnectModule.forRoot({
          apps: [{ product: 'jira', key: KEY, baseUrl: BASE_URL, descriptor: { name: 'Retention' } }],
          database: db.database,
          retention: { schedule: '0 0 1 1 *' },
        }),
      ],
    })
    class ListedModule {}
    const started = await listenOn({ module: ListedModule }, () => db.stop());
    const registry = started.app.get(SchedulerRegistry);
    try {
      expect(registry.getCronJobs().size).toBe(1);
      const job = registry.getCronJob('atlassian-connect:tenant-retention');
      expect(job.isActive).toBe(true);
      expect(job.cronTime.source).toBe('0 0 1 1 *');
    } finally {
      await started.close();
    }
    expect(registry.doesExist('cron', 'atlassian-connect:tenant-retention')).toBe(false);
  });
});
