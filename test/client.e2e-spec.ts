import { Controller, Get, Module, type INestApplication } from '@nestjs/common';
import { ConnectClient, ConnectClientError, ConnectModule, TENANT_STORE, type ConnectTenant, type TenantStore } from 'atlassian-connect-nest';
import { FakeConnectHost, LOOPBACK_HOST_PATTERNS, startTestDatabase, type FakeApiSite, type FakeHostApp } from 'atlassian-connect-nest/testing';
import { startExample, type RunningExample } from './support/example-app.js';
import { createTestApp } from './support/http-adapter.js';

/** Acts as the host for the example app and checks the app's outbound calls land on the fake site API. */
describe('outbound client through the example app', () => {
  let ex: RunningExample;
  let jiraSite: FakeApiSite;
  let confluenceSite: FakeApiSite;

  beforeAll(async () => {
    ex = await startExample();
    jiraSite = await ex.host.startSite('jira');
    confluenceSite = await ex.host.startSite('confluence');
    expect((await ex.host.install({ ...ex.jira, scopes: ['READ', 'ACT_AS_USER'] }, jiraSite)).status).toBe(204);
    expect((await ex.host.install({ ...ex.confluence, scopes: ['READ', 'ACT_AS_USER'] }, confluenceSite)).status).toBe(204);
  });
  afterAll(async () => {
    await ex?.close();
    await ex?.host.close();
  });

  async function call(app: FakeHostApp, site: FakeApiSite, path: string, accountId?: string) {
    const token = await ex.host.tokenFor(app, site, 'GET', path, accountId ? { accountId } : {});
    return ex.host.send(app, 'GET', path, { headers: { authorization: `JWT ${token}` } });
  }

  it('calls Jira as the app, across pages', async () => {
    const response = await call(ex.jira, jiraSite, '/jira/api/app-view');
    expect(response.status).toBe(200);
    expect(response.body).toEqual({ accountId: expect.stringContaining('addon'), projects: ['DEMO', 'OPS', 'WEB', 'MOB', 'API', 'DOC', 'QA'] });
    expect(jiraSite.api.refusals).toEqual([]);
  });

  it('calls Confluence (/wiki) as the app, following _links.next', async () => {
    const response = await call(ex.confluence, confluenceSite, '/confluence/api/app-view');
    expect(response.status).toBe(200);
    expect(response.body).toEqual({ spaces: ['DS', 'ENG', 'HR', 'MKT', 'OPS', 'SALES', 'TEAM'] });
    expect(confluenceSite.api.refusals).toEqual([]);
  });

  it('calls both products as the user who made the request', async () => {
    const jira = await call(ex.jira, jiraSite, '/jira/api/user-view', 'user-jira-1');
    expect({ status: jira.status, body: jira.body }).toEqual({ status: 200, body: { accountId: 'user-jira-1' } });
    const confluence = await call(ex.confluence, confluenceSite, '/confluence/api/user-view', 'user-conf-1');
    expect({ status: confluence.status, body: confluence.body }).toEqual({ status: 200, body: { accountId: 'user-conf-1' } });
  });
});

/** The client on its own, against a fake site, through a minimal app. */
describe('ConnectClient', () => {
  let app: INestApplication;
  let host: FakeConnectHost;
  let client: ConnectClient;
  let jira: FakeApiSite;
  let confluence: FakeApiSite;
  let jiraTenant: ConnectTenant;
  let confluenceTenant: ConnectTenant;
  let stopDatabase: () => Promise<void>;
  const jiraApp = { key: 'com.test.client.jira', product: 'jira' as const, baseUrl: 'https://client.example.test/jira', scopes: ['READ', 'WRITE', 'ACT_AS_USER'] };
  const confluenceApp = { key: 'com.test.client.confluence', product: 'confluence' as const, baseUrl: 'https://client.example.test/confluence', scopes: ['READ', 'ACT_AS_USER'] };

  @Controller()
  class NothingController {
    @Get('nothing') nothing() {
      return {};
    }
  }

  beforeAll(async () => {
    host = await FakeConnectHost.start();
    const db = process.env.DATABASE_URL ? await startTestDatabase() : undefined;
    stopDatabase = async () => db?.stop();
    @Module({
      imports: [
        ConnectModule.forRoot({
          apps: [
            // The sites are startSite()'s, on loopback.
            { ...jiraApp, descriptor: { name: 'J' }, allowedHostPatterns: LOOPBACK_HOST_PATTERNS },
            { ...confluenceApp, descriptor: { name: 'C' }, allowedHostPatterns: LOOPBACK_HOST_PATTERNS },
          ],
          installKeysUrl: host.installKeysUrl,
          database: db ? { url: db.url, schema: db.schema, poolSize: db.poolSize } : { embeddedDataDir: 'memory' },
          client: { authorizationServerUrl: host.authorizationServerUrl, retry: { baseDelayMs: 20, maxDelayMs: 2000 } },
        }),
      ],
      controllers: [NothingController],
    })
    class ClientTestModule {}
    app = await createTestApp(ClientTestModule, { logger: false });
    await app.listen(0, '127.0.0.1');
    const via = `http://127.0.0.1:${(app.getHttpServer().address() as { port: number }).port}`;
    jira = await host.startSite('jira');
    confluence = await host.startSite('confluence');
    expect((await host.install({ ...jiraApp, via }, jira)).status).toBe(204);
    expect((await host.install({ ...confluenceApp, via }, confluence)).status).toBe(204);
    client = app.get(ConnectClient);
    const store = app.get<TenantStore>(TENANT_STORE);
    jiraTenant = (await store.find(jiraApp.key, jira.clientKey))!;
    confluenceTenant = (await store.find(confluenceApp.key, confluence.clientKey))!;
  });
  afterAll(async () => {
    await app?.close();
    await host?.close();
    await stopDatabase?.();
  });
  beforeEach(() => {
    jira.api.reset();
    confluence.api.reset();
  });

  it('signs a qsh the host accepts on tricky query strings (Jira)', async () => {
    const body = await client
      .asApp(jiraTenant)
      .get<{ query: Record<string, unknown> }>('/rest/api/3/echo?b=2&a=1&a=0&x=a+b&y=%2F%20*~', { query: { jql: 'project = "DEMO" AND text ~ "a&b"', empty: '' } });
    expect(body).toBeDefined();
    expect(jira.api.refusals).toEqual([]);
    expect(jira.api.requests.at(-1)?.status).toBe(200);
  });

  it('computes the qsh over the product-relative path for Confluence (/wiki stripped)', async () => {
    const content = await client.asApp(confluenceTenant).get<{ id: string }>('/rest/api/content/98305', { query: { expand: 'body.storage,version' } });
    expect(content.id).toBe('98305');
    // an absolute URL on the tenant's origin works the same
    const again = await client.asApp(confluenceTenant).get<{ id: string }>(`${confluence.baseUrl}/rest/api/content/98306?expand=space`);
    expect(again.id).toBe('98306');
    expect(confluence.api.refusals).toEqual([]);
  });

  it('finds the tenant from (app key, clientKey) and refuses unknown ones', async () => {
    const myself = await client.asApp({ appKey: jiraApp.key, clientKey: jira.clientKey }).get<{ accountId: string }>('/rest/api/3/myself');
    expect(myself.accountId).toContain('addon');
    await expect(client.asApp({ appKey: jiraApp.key, clientKey: 'nope' }).get('/rest/api/3/myself')).rejects.toMatchObject({ code: 'client/unknown-tenant' });
  });

  it('refuses a foreign origin before sending anything', async () => {
    const before = jira.api.requests.length;
    for (const url of ['https://evil.example.com/rest/api/3/myself', '//evil.example.com/x', `${confluence.baseUrl}/rest/api/space`]) {
      await expect(client.asApp(jiraTenant).get(url)).rejects.toMatchObject({ code: 'client/foreign-origin' });
    }
    expect(jira.api.requests.length).toBe(before);
    expect(confluence.api.requests.length).toBe(0);
  });

  it('shares one user token among 20 concurrent calls and caches it', async () => {
    const tokensBefore = host.authorizationServer.issuedCount;
    const results = await Promise.all(Array.from({ length: 20 }, () => client.asUser(jiraTenant, 'acc-20', { scopes: ['READ'] }).get<{ accountId: string }>('/rest/api/3/myself')));
    expect(results.every((r) => r.accountId === 'acc-20')).toBe(true);
    expect(host.authorizationServer.issuedCount - tokensBefore).toBe(1);
    await client.asUser(jiraTenant, 'acc-20', { scopes: ['READ'] }).get('/rest/api/3/myself');
    expect(host.authorizationServer.issuedCount - tokensBefore).toBe(1);
    // other scopes are another token
    await client.asUser(jiraTenant, 'acc-20', { scopes: ['READ', 'WRITE'] }).get('/rest/api/3/myself');
    expect(host.authorizationServer.issuedCount - tokensBefore).toBe(2);
  });

  it('names ACT_AS_USER when the token endpoint refuses', async () => {
    host.authorizationServer.failNext(1, { status: 403 });
    const error = await client
      .asUser(jiraTenant, 'acc-refused')
      .get('/rest/api/3/myself')
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConnectClientError);
    expect((error as ConnectClientError).code).toBe('client/user-token');
    expect((error as ConnectClientError).message).toContain('ACT_AS_USER');
    const noClientId = { ...jiraTenant, oauthClientId: null };
    await expect(client.asUser(noClientId, 'acc').get('/rest/api/3/myself')).rejects.toThrow(/ACT_AS_USER/);
  });

  it('honours 429 with Retry-After three times, then succeeds', async () => {
    jira.api.failNext(3, { status: 429, retryAfter: 0.15 });
    const started = Date.now();
    const response = await client.asApp(jiraTenant).request({ url: '/rest/api/3/myself' });
    expect(response.status).toBe(200);
    expect(response.retries).toBe(3);
    expect(Date.now() - started).toBeGreaterThanOrEqual(3 * 150 - 20);
  });

  it('honours X-RateLimit-Reset and an HTTP-date Retry-After', async () => {
    jira.api.failNext(1, { status: 429, rateLimitReset: new Date(Date.now() + 300).toISOString() });
    const started = Date.now();
    expect((await client.asApp(jiraTenant).request({ url: '/rest/api/3/myself' })).retries).toBe(1);
    expect(Date.now() - started).toBeGreaterThanOrEqual(150);
  });

  it('backs off on 503 without Retry-After and gives up after maxAttempts with a typed error', async () => {
    jira.api.failNext(1, { status: 503 });
    expect((await client.asApp(jiraTenant).request({ url: '/rest/api/3/myself' })).retries).toBe(1);
    jira.api.failNext(10, { status: 503 });
    const error = (await client
      .asApp(jiraTenant)
      .get('/rest/api/3/myself', { retry: { maxAttempts: 3 } })
      .catch((e: unknown) => e)) as ConnectClientError;
    expect(error).toBeInstanceOf(ConnectClientError);
    expect({ code: error.code, status: error.status, retries: error.retries, method: error.method }).toEqual({ code: 'client/http-error', status: 503, retries: 2, method: 'GET' });
  });

  it('does not retry POST unless the call opts in', async () => {
    jira.api.failNext(1, { status: 429, retryAfter: 0 });
    const error = (await client
      .asApp(jiraTenant)
      .post('/rest/api/3/echo', { a: 1 })
      .catch((e: unknown) => e)) as ConnectClientError;
    expect({ status: error.status, retries: error.retries }).toEqual({ status: 429, retries: 0 });
    jira.api.failNext(1, { status: 429, retryAfter: 0 });
    const body = await client.asApp(jiraTenant).post<{ body: unknown }>('/rest/api/3/echo', { a: 1 }, { retry: { retryNonIdempotent: true } });
    expect(body).toBeDefined();
  });

  it('times out a slow call and honours an AbortSignal', async () => {
    jira.api.delayNext(1000);
    await expect(client.asApp(jiraTenant).get('/rest/api/3/myself', { timeoutMs: 100, retry: false })).rejects.toMatchObject({ code: 'client/timeout' });
    jira.api.delayNext(1000);
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 50);
    await expect(client.asApp(jiraTenant).get('/rest/api/3/myself', { signal: controller.signal })).rejects.toMatchObject({ code: 'client/aborted' });
  });

  it('pages through Jira and Confluence collections (3 pages each)', async () => {
    const projects: string[] = [];
    for await (const p of client.asApp(jiraTenant).paginate<{ key: string }>('/rest/api/3/project/search', { query: { maxResults: 3 } })) projects.push(p.key);
    expect(projects).toHaveLength(7);
    expect(jira.api.requests.filter((r) => r.path.endsWith('/project/search'))).toHaveLength(3);
    const spaces: string[] = [];
    for await (const s of client.asApp(confluenceTenant).paginate<{ key: string }>('/rest/api/space', { query: { limit: 3 } })) spaces.push(s.key);
    expect(spaces).toHaveLength(7);
    expect(confluence.api.requests.filter((r) => r.path.endsWith('/space'))).toHaveLength(3);
    expect(confluence.api.refusals).toEqual([]);
  });

  it('errors carry status and product messages but never a token', async () => {
    const error = (await client
      .asApp(confluenceTenant)
      .get('/rest/api/content/does-not-exist')
      .catch((e: unknown) => e)) as ConnectClientError;
    expect(error.status).toBe(404);
    expect(error.productMessages.length).toBeGreaterThan(0);
    const printed = `${error.message} ${String(error)} ${JSON.stringify(error)} ${JSON.stringify(error.toLogJSON())}`;
    expect(printed).not.toMatch(/JWT [A-Za-z0-9_-]+\./);
    expect(printed).not.toContain(confluenceTenant.sharedSecret);
  });
});

describe('ConnectClient with a Data Center REST prefix', () => {
  it('sends /rest/token-auth/api/ and signs the path really sent', async () => {
    const host = await FakeConnectHost.start();
    const site = await host.startSite('confluence');
    const app = { key: 'com.test.dc', product: 'confluence' as const, baseUrl: 'https://dc.example.test/c' };
    @Module({
      imports: [
        ConnectModule.forRoot({
          apps: [{ ...app, descriptor: { name: 'DC' }, restApiPrefix: '/rest/token-auth/api/', allowedHostPatterns: LOOPBACK_HOST_PATTERNS }],
          installKeysUrl: host.installKeysUrl,
          database: { embeddedDataDir: 'memory' },
        }),
      ],
    })
    class DcModule {}
    const nest = await createTestApp(DcModule, { logger: false });
    try {
      await nest.listen(0, '127.0.0.1');
      const via = `http://127.0.0.1:${(nest.getHttpServer().address() as { port: number }).port}`;
      expect((await host.install({ ...app, via }, site)).status).toBe(204);
      const tenant = (await nest.get<TenantStore>(TENANT_STORE).find(app.key, site.clientKey))!;
      const spaces = await nest.get(ConnectClient).asApp(tenant).get<{ results: unknown[] }>('/rest/api/space');
      expect(spaces.results.length).toBeGreaterThan(0);
      expect(site.api.requests.at(-1)?.path).toContain('/rest/token-auth/api/space');
      expect(site.api.refusals).toEqual([]);
    } finally {
      await nest.close();
      await host.close();
    }
  });
});
