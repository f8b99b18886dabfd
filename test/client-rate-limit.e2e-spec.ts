import { Injectable, Module, type INestApplication } from '@nestjs/common';
import { ConnectClient, ConnectModule, OnNearRateLimit, TENANT_STORE, type ConnectRateLimitEvent, type ConnectTenant, type TenantStore } from 'atlassian-connect-nest';
import { FakeConnectHost, LOOPBACK_HOST_PATTERNS, startTestDatabase, type FakeApiSite } from 'atlassian-connect-nest/testing';
import { createTestApp } from './support/http-adapter.js';

const jiraApp = { key: 'com.test.rate-limit.jira', product: 'jira' as const, baseUrl: 'https://rate-limit.example.test/jira', scopes: ['READ', 'WRITE'] };
/** The fake budget: 100 points per 2 s per caller (a per-minute window is proven in the pacer's unit spec). */
const BUDGET = { points: 100, windowMs: 2000 };

@Injectable()
class NearLimitRecorder {
  readonly events: ConnectRateLimitEvent[] = [];

  @OnNearRateLimit() record(event: ConnectRateLimitEvent) {
    this.events.push(event);
  }
}

interface RunningApp {
  app: INestApplication;
  client: ConnectClient;
  recorder: NearLimitRecorder;
  tenants: ConnectTenant[];
  close(): Promise<void>;
}

/** An app with one Jira app installed on each of `sites`, with the given rate-limit options. */
async function startApp(host: FakeConnectHost, sites: FakeApiSite[], rateLimit: Record<string, unknown>): Promise<RunningApp> {
  const db = process.env.DATABASE_URL ? await startTestDatabase() : undefined;
  @Module({
    imports: [
      ConnectModule.forRoot({
        apps: [{ ...jiraApp, descriptor: { name: 'Rate limits' }, allowedHostPatterns: LOOPBACK_HOST_PATTERNS }],
        installKeysUrl: host.installKeysUrl,
        database: db ? { url: db.url, schema: db.schema, poolSize: db.poolSize } : { embeddedDataDir: 'memory' },
        client: { authorizationServerUrl: host.authorizationServerUrl, retry: { baseDelayMs: 20, maxDelayMs: 3000, maxAttempts: 6 }, rateLimit },
      }),
    ],
    providers: [NearLimitRecorder],
  })
  class RateLimitTestModule {}
  const app = await createTestApp(RateLimitTestModule, { logger: false });
  await app.listen(0, '127.0.0.1');
  const via = `http://127.0.0.1:${(app.getHttpServer().address() as { port: number }).port}`;
  const store = app.get<TenantStore>(TENANT_STORE);
  const tenants: ConnectTenant[] = [];
  for (const site of sites) {
    expect((await host.install({ ...jiraApp, via }, site)).status).toBe(204);
    tenants.push((await store.find(jiraApp.key, site.clientKey))!);
  }
  return {
    app,
    client: app.get(ConnectClient),
    recorder: app.get(NearLimitRecorder),
    tenants,
    async close() {
      await app.close();
      await db?.stop();
    },
  };
}

describe('outbound client: 2026 rate limits, paced per tenant', () => {
  let host: FakeConnectHost;
  let siteA: FakeApiSite;
  let siteB: FakeApiSite;
  let running: RunningApp;

  beforeAll(async () => {
    host = await FakeConnectHost.start();
    siteA = await host.startSite('jira', { rateLimit: BUDGET });
    siteB = await host.startSite('jira', { rateLimit: BUDGET });
    running = await startApp(host, [siteA, siteB], {});
  });
  afterAll(async () => {
    await running?.close();
    await host?.close();
  });

  it('reports nothing before any response carried the headers, then what the last response said', async () => {
    const [, tenantB] = running.tenants as [ConnectTenant, ConnectTenant];
    expect(running.client.rateLimit(tenantB)).toBeUndefined();
    await running.client.asApp(tenantB).get('/rest/api/3/myself');
    const last = siteB.api.requests.at(-1)!;
    const snapshot = running.client.rateLimit(tenantB)!;
    expect(snapshot).toMatchObject({
      policy: 'tenant-app-quota',
      limit: 100,
      remaining: last.rateLimitRemaining,
      windowSeconds: 2,
      reason: 'jira-quota-tenant-based',
      status: 200,
      nearLimit: false,
    });
    expect(Object.isFrozen(snapshot)).toBe(true);
    expect(snapshot.resetAt!.getTime()).toBeGreaterThan(Date.now());
    // The same tenant named as (app key, clientKey) is the same budget.
    expect(running.client.rateLimit({ appKey: jiraApp.key, clientKey: siteB.clientKey })).toBe(snapshot);
    await running.client.asApp(tenantB).get('/rest/api/3/myself');
    expect(running.client.rateLimit(tenantB)!.remaining).toBe(siteB.api.requests.at(-1)!.rateLimitRemaining);
  });

  it('spreads a 500-request burst over a budget of 100 per 2 s: no 429, throughput within 10 % of the budget', async () => {
    const [tenantA] = running.tenants as [ConnectTenant];
    siteA.api.reset();
    const started = Date.now();
    const results = await Promise.all(
      Array.from({ length: 500 }, (_, i) => running.client.asApp(tenantA).request<{ accountId: string }>({ url: '/rest/api/3/myself', query: { i } })),
    );
    const elapsedMs = Date.now() - started;
    expect(results.every((r) => r.status === 200 && r.body.accountId.startsWith('addon_'))).toBe(true);
    // Not one 429 reached the caller, nor even the product.
    expect(results.filter((r) => r.retries > 0)).toHaveLength(0);
    expect(siteA.api.requests.filter((r) => r.status === 429)).toHaveLength(0);
    expect(siteA.api.requests).toHaveLength(500);
    const perSecond = 500 / (elapsedMs / 1000);
    expect(Math.abs(perSecond - 50) / 50).toBeLessThan(0.1);
    // It crossed into the last 20 % of the budget (once per window) and the hook heard of it.
    const events = running.recorder.events.filter((e) => e.tenant.kind === 'connect' && e.tenant.clientKey === siteA.clientKey);
    expect(events.length).toBeGreaterThanOrEqual(4);
    expect(events[0]!.tenant).toEqual({ kind: 'connect', appKey: jiraApp.key, clientKey: siteA.clientKey });
    expect(events[0]!.snapshot).toMatchObject({ nearLimit: true, limit: 100 });
    expect(events[0]!.snapshot.remaining).toBeLessThan(20);
  }, 60_000);

  it('paces two tenants independently', async () => {
    const [tenantA, tenantB] = running.tenants as [ConnectTenant, ConnectTenant];
    siteA.api.reset();
    siteB.api.reset();
    // Spend A's window, then call B: B's calls do not wait behind A's.
    const burstA = Promise.all(Array.from({ length: 150 }, () => running.client.asApp(tenantA).get('/rest/api/3/myself')));
    await new Promise((resolve) => setTimeout(resolve, 300));
    const startedB = Date.now();
    await Promise.all(Array.from({ length: 20 }, () => running.client.asApp(tenantB).get('/rest/api/3/myself')));
    expect(Date.now() - startedB).toBeLessThan(1000);
    await burstA;
    expect([...siteA.api.requests, ...siteB.api.requests].filter((r) => r.status === 429)).toHaveLength(0);
  }, 30_000);

  it('keeps a Forge installation on a budget of its own', async () => {
    const [tenantA] = running.tenants as [ConnectTenant];
    const tokens = siteA.forge.issueTokens({ installationId: siteA.installationId });
    const forge = { apiBaseUrl: tokens.apiBaseUrl, systemToken: tokens.systemToken, userToken: tokens.userToken };
    expect(running.client.rateLimit(forge)).toBeUndefined();
    await running.client.asForgeApp(forge).get('/rest/api/3/myself');
    const forgeBudget = running.client.rateLimit(forge)!;
    // The fake site meters the installation apart from the Connect app: a fresh window of its own.
    expect(forgeBudget.remaining).toBe(99);
    expect(running.client.rateLimit(tenantA)).not.toBe(forgeBudget);
  });
});

describe('outbound client: rate-limit pacing off', () => {
  let host: FakeConnectHost;
  let site: FakeApiSite;
  let running: RunningApp;

  beforeAll(async () => {
    host = await FakeConnectHost.start();
    site = await host.startSite('jira', { rateLimit: BUDGET });
    running = await startApp(host, [site], { pacing: false });
  });
  afterAll(async () => {
    await running?.close();
    await host?.close();
  });

  it('retries the 429s as before, honouring Retry-After, and still reports the budget', async () => {
    const [tenant] = running.tenants as [ConnectTenant];
    const results = await Promise.all(Array.from({ length: 150 }, () => running.client.asApp(tenant).request({ url: '/rest/api/3/myself' })));
    expect(results.every((r) => r.status === 200)).toBe(true);
    const refused = site.api.requests.filter((r) => r.status === 429);
    expect(refused.length).toBeGreaterThanOrEqual(50);
    expect(results.filter((r) => r.retries > 0).length).toBeGreaterThanOrEqual(50);
    expect(running.client.rateLimit(tenant)).toMatchObject({ policy: 'tenant-app-quota', limit: 100 });
  }, 30_000);
});
