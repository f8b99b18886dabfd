import { CONNECT_DATA_SOURCE, TENANT_STORE, type TenantStore } from 'atlassian-connect-nest';
import { CachingTenantStore } from 'atlassian-connect-nest/advanced';
import { FakeConnectHost, type FakeSite } from 'atlassian-connect-nest/testing';
import { getDataSourceToken } from '@nestjs/typeorm';
import type { DataSource, EntitySubscriberInterface } from 'typeorm';
import { startFixtureApp, type RunningApp } from './support/fixture-app.js';

/** Counts every SQL statement the app sends through its data source (TypeORM's BeforeQuery event). */
class StatementCounter implements EntitySubscriberInterface {
  readonly statements: string[] = [];
  counting = false;
  beforeQuery(event: { query: string }): void {
    if (this.counting) this.statements.push(event.query);
  }
}

/**
 * The steady state of an authenticated request costs no database round trip: the tenant comes from
 * the bounded cache. The counter itself is proven live by a cold lookup that must be counted.
 */
describe('authenticated requests in steady state', () => {
  let ex: RunningApp;
  let jiraSite: FakeSite;
  let confluenceSite: FakeSite;
  const counter = new StatementCounter();

  beforeAll(async () => {
    ex = await startFixtureApp({ host: await FakeConnectHost.start() });
    jiraSite = ex.host.newSite('jira');
    confluenceSite = ex.host.newSite('confluence');
    expect((await ex.host.install(ex.jira, jiraSite)).status).toBe(204);
    expect((await ex.host.install(ex.confluence, confluenceSite)).status).toBe(204);
    ex.app.get<DataSource>(getDataSourceToken(CONNECT_DATA_SOURCE), { strict: false }).subscribers.push(counter);
  });
  afterAll(async () => {
    await ex?.close();
    await ex?.host.close();
  });

  it('counts the lookup of a tenant that is not cached (the counter sees the store)', async () => {
    const store = ex.app.get<TenantStore>(TENANT_STORE, { strict: false });
    expect(store).toBeInstanceOf(CachingTenantStore);
    // Every change reaches this instance (embedded engine: the only writer; PostgreSQL: LISTEN/NOTIFY), so
    // cached tenants live 5 min, not the 10 s used while changes elsewhere could go unheard.
    expect((store as CachingTenantStore).currentTtlMs).toBe(300_000);
    (store as CachingTenantStore).invalidate(ex.jira.key, jiraSite.clientKey);
    const token = await ex.host.tokenFor(ex.jira, jiraSite, 'GET', '/jira/api/whoami');
    counter.statements.length = 0;
    counter.counting = true;
    const response = await ex.host.send(ex.jira, 'GET', '/jira/api/whoami', { headers: { authorization: `JWT ${token}` } });
    counter.counting = false;
    expect(response.status).toBe(200);
    expect(counter.statements.length).toBeGreaterThanOrEqual(1);
    expect(counter.statements.join('\n')).toMatch(/connect_tenant/);
  });

  it('sends zero SQL statements for 400 authenticated requests after warm-up, across routes, apps and token kinds', async () => {
    const calls = [
      { app: ex.jira, site: jiraSite, path: '/jira/api/whoami?a=1&b=x%20y', context: false },
      { app: ex.jira, site: jiraSite, path: '/jira/api/context/whoami', context: true },
      { app: ex.jira, site: jiraSite, path: '/jira/pages/hello?lic=none&cp=%2Fjira', context: false },
      { app: ex.confluence, site: confluenceSite, path: '/confluence/api/whoami', context: false },
    ];
    const prepared = await Promise.all(
      calls.map(async (call) => ({
        ...call,
        token: await ex.host.tokenFor(call.app, call.site, 'GET', call.path, { accountId: 'user-1', ...(call.context && { qsh: 'context' }) }),
      })),
    );
    // Warm-up: each tenant is looked up (or already cached since its install) once.
    for (const call of prepared) {
      expect((await ex.host.send(call.app, 'GET', call.path, { headers: { authorization: `JWT ${call.token}` } })).status).toBe(200);
    }
    counter.statements.length = 0;
    counter.counting = true;
    let ok = 0;
    for (let i = 0; i < 100; i++) {
      const responses = await Promise.all(prepared.map((call) => ex.host.send(call.app, 'GET', call.path, { headers: { authorization: `JWT ${call.token}` } })));
      ok += responses.filter((response) => response.status === 200).length;
    }
    counter.counting = false;
    expect(ok).toBe(400);
    expect(counter.statements).toEqual([]);
  });
});
