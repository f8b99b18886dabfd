/**
 * The framework's HTTP edge on both Nest adapters in one run, whatever CONNECT_TEST_ADAPTER says: the
 * two-product fixture app on Express, then on Fastify, answering the same requests the same way.
 */
import type { IncomingMessage } from 'node:http';
import { ForbiddenException, Module } from '@nestjs/common';
import { ConnectModule } from 'atlassian-connect-nest';
import { httpCall, type FakeSite } from 'atlassian-connect-nest/testing';
import { qshOf } from './support/connect-test-app.js';
import { FIXTURE_JIRA_KEY } from './fixtures/two-product-app.js';
import { startFixtureApp, type RunningApp } from './support/fixture-app.js';
import { adapterOf, createTestApp, type TestHttpAdapter } from './support/http-adapter.js';
import { expectConnectError } from './support/lifecycle-kit.js';
import { startTestDatabase } from './support/test-database-options.js';

const JIRA = FIXTURE_JIRA_KEY;
const WHOAMI = '/jira/api/whoami';
const JSON_HEADERS = { 'content-type': 'application/json' };

describe.each<TestHttpAdapter>(['express', 'fastify'])('on %s', (adapter) => {
  let ex: RunningApp;
  let site: FakeSite;

  beforeAll(async () => {
    ex = await startFixtureApp({ adapter });
    site = ex.host.newSite('jira');
  });
  afterAll(async () => {
    await ex?.close();
  });

  const call = (method: string, path: string, options: { token?: string; headers?: Record<string, string>; body?: unknown } = {}) =>
    ex.host.send(ex.jira, method, path, {
      headers: { ...(options.token !== undefined && { authorization: `JWT ${options.token}` }), ...options.headers },
      body: options.body,
    });

  it('runs on the adapter asked for', () => {
    expect(adapterOf(ex.app)).toBe(adapter);
  });

  it('serves the descriptor and the health check', async () => {
    const descriptor = await call('GET', '/jira/atlassian-connect.json');
    expect(descriptor.status).toBe(200);
    expect(String(descriptor.headers['content-type'])).toMatch(/^application\/json/);
    expect(descriptor.body).toMatchObject({ key: JIRA, baseUrl: ex.jira.baseUrl, authentication: { type: 'jwt' } });
    const health = await call('GET', '/health');
    expect({ status: health.status, body: health.body }).toEqual({ status: 200, body: { status: 'ok', database: 'up' } });
    expect(health.headers['cache-control']).toBe('no-store');
  });

  it('takes a signed install (204)', async () => {
    expect((await ex.host.install(ex.jira, site)).status).toBe(204);
  });

  it('binds the qsh to the raw query as received: repeated, percent-encoded and plus-encoded values', async () => {
    const path = `${WHOAMI}?a=b%20c&a=+x&z=%2F`;
    // Written out by hand (the same string atlassian-jwt builds): "+" is a space, values sorted and joined.
    const qsh = qshOf('GET&/api/whoami&a=%20x,b%20c&z=%2F');
    const token = await ex.host.tokenFor(ex.jira, site, 'GET', path, { qsh, accountId: 'user-1' });
    const response = await call('GET', path, { token });
    expect({ status: response.status, body: response.body }).toEqual({
      status: 200,
      body: { clientKey: site.clientKey, accountId: 'user-1', productType: 'jira' },
    });
    // A literal "+" (%2B) is not a space: another request.
    expectConnectError(await call('GET', `${WHOAMI}?a=b%2Bc&a=+x&z=%2F`, { token }), 401, 'jwt/invalid-qsh', JIRA);
  });

  it('answers a qsh mismatch 401 jwt/invalid-qsh with WWW-Authenticate', async () => {
    const token = await ex.host.tokenFor(ex.jira, site, 'GET', `${WHOAMI}?a=1`);
    expectConnectError(await call('GET', `${WHOAMI}?a=2`, { token }), 401, 'jwt/invalid-qsh', JIRA);
    expectConnectError(await call('GET', WHOAMI), 401, 'jwt/missing', JIRA);
  });

  it('refuses a context token on a request-bound route and accepts it on a context route', async () => {
    const context = await ex.host.tokenFor(ex.jira, site, 'GET', '/ignored', { qsh: 'context', accountId: 'user-2' });
    expectConnectError(await call('GET', WHOAMI, { token: context }), 401, 'jwt/invalid-qsh', JIRA);
    const accepted = await call('GET', '/jira/api/context/whoami', { token: context });
    expect({ status: accepted.status, body: accepted.body }).toEqual({
      status: 200,
      body: { clientKey: site.clientKey, accountId: 'user-2', productType: 'jira' },
    });
  });

  it('sends the frame-ancestors policy on a page route, and none on a refused request', async () => {
    const path = '/jira/pages/hello?lic=none&cp=&cv=1001.0.0';
    const token = await ex.host.tokenFor(ex.jira, site, 'GET', path, { accountId: 'page-user' });
    const page = await call('GET', `${path}&jwt=${token}`);
    expect(page.status).toBe(200);
    expect(String(page.headers['content-type'])).toMatch(/^text\/html/);
    expect(page.text).toContain('page-user');
    expect(page.headers['content-security-policy']).toBe(`frame-ancestors ${new URL(site.baseUrl).origin}`);
    expect(page.headers['strict-transport-security']).toBeUndefined();
    const refused = await call('GET', path);
    expectConnectError(refused, 401, 'jwt/missing', JIRA);
    expect(refused.headers['content-security-policy']).toBeUndefined();
  });

  it('answers lifecycle bodies the parser refuses with typed 400 and 413, at the same size limit', async () => {
    const broken = await call('POST', '/jira/installed', { headers: JSON_HEADERS, body: '{"key": ' });
    expectConnectError(broken, 400, 'lifecycle/invalid-payload', JIRA);
    const empty = await call('POST', '/jira/installed', { headers: { ...JSON_HEADERS, 'content-length': '0' } });
    expect(empty.status).toBeGreaterThanOrEqual(400);
    expect(empty.status).toBeLessThan(500);
    // 100 KiB is accepted by the parser (and refused for want of a token); one byte more is not.
    const padded = (size: number) => JSON.stringify({ description: 'x'.repeat(size - '{"description":""}'.length) });
    expect(padded(100 * 1024)).toHaveLength(100 * 1024);
    expectConnectError(await call('POST', '/jira/installed', { headers: JSON_HEADERS, body: padded(100 * 1024) }), 401, 'jwt/missing', JIRA);
    expectConnectError(await call('POST', '/jira/installed', { headers: JSON_HEADERS, body: padded(100 * 1024 + 1) }), 413, 'lifecycle/payload-too-large', JIRA);
    // other routes keep the adapter's own answer
    const other = await call('POST', WHOAMI, { headers: JSON_HEADERS, body: '{' });
    expect(other.status).toBe(400);
    expect((other.body as { type?: unknown }).type).toBeUndefined();
  });
});

describe.each<TestHttpAdapter>(['express', 'fastify'])('on %s, failures before a lifecycle handler other than the body', (adapter) => {
  it("keep Nest's own error handling", async () => {
    const db = await startTestDatabase();
    @Module({
      imports: [
        ConnectModule.forRoot({
          apps: [{ product: 'jira', key: 'com.test.adapters', baseUrl: 'https://adapters.example.test/jira', descriptor: { name: 'Adapters' } }],
          database: db.database,
        }),
      ],
    })
    class PlainModule {}
    const app = await createTestApp(PlainModule, { logger: false }, adapter);
    try {
      // A plain middleware failing the request: on Fastify this reaches the lifecycle route's own error handler.
      app.use((request: IncomingMessage, _response: unknown, next: (error?: unknown) => void) => {
        next(request.headers['x-block'] === undefined ? undefined : new ForbiddenException('blocked'));
      });
      await app.listen(0, '127.0.0.1');
      const { port } = app.getHttpServer().address() as { port: number };
      const send = (headers: Record<string, string>, body: string) =>
        httpCall({
          method: 'POST',
          url: `http://127.0.0.1:${port}/jira/installed`,
          host: 'adapters.example.test',
          headers: { 'content-type': 'application/json', ...headers },
          body,
        });
      const blocked = await send({ 'x-block': '1' }, '{}');
      expect({ status: blocked.status, body: blocked.body }).toEqual({ status: 403, body: { statusCode: 403, message: 'blocked', error: 'Forbidden' } });
      // the body errors of the same route are still the typed ones
      expectConnectError(await send({}, '{'), 400, 'lifecycle/invalid-payload', 'com.test.adapters');
    } finally {
      await app.close();
      await db.stop();
    }
  });
});
