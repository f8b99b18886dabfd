import { ConnectModule } from 'atlassian-connect-nest';
import { FakeConnectHost, type FakeHostApp, type FakeSite } from 'atlassian-connect-nest/testing';
import { Module } from '@nestjs/common';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import { FIXTURE_JIRA_KEY } from './fixtures/two-product-app.js';
import { FIXTURE_HOST_PATTERNS, startFixtureApp, type RunningApp } from './support/fixture-app.js';
import { listenOn, type StartedConnectApp } from './support/connect-test-app.js';
import { whoamiController } from './fixtures/whoami-controller.js';
import { adapterOf } from './support/http-adapter.js';
import { expectConnectError, nowSeconds } from './support/lifecycle-kit.js';
import { startTestDatabase, type TestDatabaseHandle } from './support/test-database-options.js';

const WHOAMI = '/jira/api/whoami';
const JIRA = FIXTURE_JIRA_KEY;

/** `n` extra `x-pad-<i>` headers. */
function padding(n: number): Record<string, string> {
  return Object.fromEntries(Array.from({ length: n }, (_, i) => [`x-pad-${i}`, '1']));
}

function nested(depth: number): unknown {
  let value: unknown = 1;
  for (let i = 0; i < depth; i++) value = { a: value };
  return value;
}

describe('hostile input on the two-product fixture app', () => {
  let ex: RunningApp;
  let site: FakeSite;

  beforeAll(async () => {
    // A site with a custom domain sends it as displayUrl: the app lists it beside Atlassian's domains.
    ex = await startFixtureApp({ host: await FakeConnectHost.start(), allowedHostPatterns: [...FIXTURE_HOST_PATTERNS, 'jira.custom-domain.example'] });
    site = ex.host.newSite('jira');
    expect((await ex.host.install(ex.jira, site)).status).toBe(204);
  });
  afterAll(async () => {
    await ex?.close();
    await ex?.host.close();
  });

  const get = async (path: string, headers: Record<string, string> = {}) =>
    ex.host.send(ex.jira, 'GET', path, { headers: { authorization: `JWT ${await ex.host.tokenFor(ex.jira, site, 'GET', path)}`, ...headers } });

  it('answers 431 request/too-many-headers past 100 headers on @ConnectAuth routes and lifecycle routes', async () => {
    expect((await get(WHOAMI, padding(80))).status).toBe(200);
    expectConnectError(await get(WHOAMI, padding(120)), 431, 'request/too-many-headers', JIRA);
    const response = await ex.host.send(ex.jira, 'POST', '/jira/installed', { headers: padding(120), body: { key: JIRA } });
    expectConnectError(response, 431, 'request/too-many-headers', JIRA);
  });

  it('answers 400 lifecycle/invalid-payload for a body nested deeper than 20 levels, and changes nothing', async () => {
    const deep = ex.host.newSite('jira');
    const refused = await ex.host.install(ex.jira, deep, { payload: { extra: nested(20) } });
    expectConnectError(refused, 400, 'lifecycle/invalid-payload', JIRA);
    const token = await ex.host.tokenFor(ex.jira, deep, 'GET', WHOAMI);
    expectConnectError(await ex.host.send(ex.jira, 'GET', WHOAMI, { headers: { authorization: `JWT ${token}` } }), 401, 'jwt/unknown-iss', JIRA);
    // 19 levels below the payload object: 20 in all, accepted
    expect((await ex.host.install(ex.jira, deep, { payload: { extra: nested(19) } })).status).toBe(204);
    // a 5,000-level body (about 30 KB) is refused without a stack overflow
    const hostile = '{"key":1,"x":' + '['.repeat(5000) + ']'.repeat(5000) + '}';
    const response = await ex.host.send(ex.jira, 'POST', '/jira/installed', { headers: { 'content-type': 'application/json' }, body: hostile });
    expect(response.status).toBeGreaterThanOrEqual(400);
    expect(response.status).toBeLessThan(500);
  });

  it('refuses request tokens living longer than an hour (jwt/lifetime-too-long) and tokens without iat', async () => {
    const long = await ex.host.tokenFor(ex.jira, site, 'GET', WHOAMI, { expiresIn: 3601 });
    expectConnectError(await ex.host.send(ex.jira, 'GET', WHOAMI, { headers: { authorization: `JWT ${long}` } }), 401, 'jwt/lifetime-too-long', JIRA);
    const hour = await ex.host.tokenFor(ex.jira, site, 'GET', WHOAMI, { expiresIn: 3600 });
    expect((await ex.host.send(ex.jira, 'GET', WHOAMI, { headers: { authorization: `JWT ${hour}` } })).status).toBe(200);
    const noIat = await ex.host.tokenFor(ex.jira, site, 'GET', WHOAMI, { claims: { iat: undefined } });
    expectConnectError(await ex.host.send(ex.jira, 'GET', WHOAMI, { headers: { authorization: `JWT ${noIat}` } }), 401, 'jwt/malformed', JIRA);
  });

  it('refuses signed installs living longer than an hour, and without iat', async () => {
    const other = ex.host.newSite('jira');
    expectConnectError(await ex.host.install(ex.jira, other, { claims: { exp: nowSeconds() + 7200 } }), 401, 'jwt/lifetime-too-long', JIRA);
    expectConnectError(await ex.host.install(ex.jira, other, { claims: { iat: undefined } }), 401, 'jwt/malformed', JIRA);
    expect((await ex.host.install(ex.jira, other)).status).toBe(204);
  });

  describe('page routes', () => {
    const pagePath = '/jira/pages/hello?lic=none&cp=&cv=1001.0.0';
    const page = async (forTenant: FakeSite, app: FakeHostApp, path: string, headers: Record<string, string> = {}) => {
      const token = await ex.host.tokenFor(app, forTenant, 'GET', path);
      return ex.host.send(app, 'GET', `${path}&jwt=${token}`, { headers });
    };

    it('frame-ancestors from baseUrl and displayUrl, no HSTS over plain http nor from an untrusted X-Forwarded-Proto', async () => {
      const custom = ex.host.newSite('jira');
      expect((await ex.host.install(ex.jira, custom, { payload: { displayUrl: 'https://jira.custom-domain.example' } })).status).toBe(204);
      const response = await page(custom, ex.jira, pagePath);
      expect(response.status).toBe(200);
      expect(response.headers['content-security-policy']).toBe(`frame-ancestors ${new URL(custom.baseUrl).origin} https://jira.custom-domain.example`);
      expect(response.headers['strict-transport-security']).toBeUndefined();
      expect(response.headers['x-frame-options']).toBeUndefined();
      const spoofed = await page(custom, ex.jira, pagePath, { 'x-forwarded-proto': 'https' });
      expect(spoofed.status).toBe(200);
      expect(spoofed.headers['strict-transport-security']).toBeUndefined();
    });

    it('Confluence macros get the policy too; no policy on refused requests', async () => {
      const wiki = ex.host.newSite('confluence');
      expect((await ex.host.install(ex.confluence, wiki)).status).toBe(204);
      const response = await page(wiki, ex.confluence, '/confluence/macros/hello?pageId=42');
      expect(response.status).toBe(200);
      expect(response.headers['content-security-policy']).toBe(`frame-ancestors ${new URL(wiki.baseUrl).origin}`);
      const refused = await ex.host.send(ex.confluence, 'GET', '/confluence/macros/hello?pageId=42');
      expect(refused.status).toBe(401);
      expect(refused.headers['content-security-policy']).toBeUndefined();
    });

    it('sends HSTS when X-Forwarded-Proto says https and the app trusts the proxy', async () => {
      const expectHsts = async (running: RunningApp, tenant: FakeSite) => {
        const token = await running.host.tokenFor(running.jira, tenant, 'GET', pagePath);
        const response = await running.host.send(running.jira, 'GET', `${pagePath}&jwt=${token}`, { headers: { 'x-forwarded-proto': 'https' } });
        expect(response.status).toBe(200);
        expect(response.headers['strict-transport-security']).toBe('max-age=31536000');
        expect(response.headers['content-security-policy']).toBe(`frame-ancestors ${new URL(tenant.baseUrl).origin}`);
        // API routes without page: true get neither
        const apiToken = await running.host.tokenFor(running.jira, tenant, 'GET', WHOAMI);
        const api = await running.host.send(running.jira, 'GET', WHOAMI, { headers: { authorization: `JWT ${apiToken}`, 'x-forwarded-proto': 'https' } });
        expect(api.status).toBe(200);
        expect(api.headers['strict-transport-security']).toBeUndefined();
        expect(api.headers['content-security-policy']).toBeUndefined();
      };
      if (adapterOf(ex.app) === 'express') {
        (ex.app as unknown as { set(name: string, value: unknown): void }).set('trust proxy', 'loopback');
        try {
          await expectHsts(ex, site);
        } finally {
          (ex.app as unknown as { set(name: string, value: unknown): void }).set('trust proxy', false);
        }
        return;
      }
      // Fastify trusts a proxy only through its constructor option: a second app that does.
      const trusting = await startFixtureApp({ host: ex.host, adapter: new FastifyAdapter({ trustProxy: 'loopback' }) });
      try {
        const tenant = trusting.host.newSite('jira');
        expect((await trusting.host.install(trusting.jira, tenant)).status).toBe(204);
        await expectHsts(trusting, tenant);
      } finally {
        await trusting.close();
      }
    });
  });
});

describe('lifecycle rate limit', () => {
  let host: FakeConnectHost;
  let db: TestDatabaseHandle;
  let started: StartedConnectApp;
  let app: FakeHostApp;

  beforeAll(async () => {
    host = await FakeConnectHost.start();
    db = await startTestDatabase();
    @Module({
      imports: [
        ConnectModule.forRoot({
          apps: [{ product: 'jira', key: 'com.test.ratelimit', baseUrl: 'https://ratelimit.example.test/jira', descriptor: { name: 'Rate limit' } }],
          installKeysUrl: host.installKeysUrl,
          database: db.database,
          lifecycleRateLimit: { limit: 3, windowMs: 60_000, exemptLoopback: false },
        }),
      ],
      controllers: [whoamiController('jira')],
    })
    class RateLimitedModule {}
    started = await listenOn({ module: RateLimitedModule }, () => db.stop());
    app = { key: 'com.test.ratelimit', product: 'jira', baseUrl: 'https://ratelimit.example.test/jira', via: started.url };
  });
  afterAll(async () => {
    await started?.close();
    await host?.close();
  });

  it('answers 429 lifecycle/rate-limited with Retry-After once a source used its bucket; other routes are not limited', async () => {
    for (let i = 0; i < 3; i++) expect((await host.install(app, host.newSite('jira'))).status).toBe(204);
    const site = host.newSite('jira');
    const refused = await host.install(app, site);
    expectConnectError(refused, 429, 'lifecycle/rate-limited', app.key);
    expect(Number(refused.headers['retry-after'])).toBeGreaterThanOrEqual(1);
    expect(Number(refused.headers['retry-after'])).toBeLessThanOrEqual(20);
    // even a garbage request is counted and refused before any parsing or key fetch
    expectConnectError(await host.send(app, 'POST', '/jira/uninstalled', { body: {} }), 429, 'lifecycle/rate-limited', app.key);
    expect((await host.send(app, 'GET', '/jira/atlassian-connect.json')).status).toBe(200);
  });
});
