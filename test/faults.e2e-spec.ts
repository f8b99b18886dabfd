/**
 * Database outage and recovery without a restart of the app: an EmbeddedPostgres with a data directory
 * and a fixed port is stopped and started again under a running app (ConnectModule.forRoot, pool of 1).
 * While it is down, authenticated requests and lifecycle calls answer 503 with Retry-After within the
 * connect timeout, /health says so, and an install leaves nothing behind; once it is back, everything
 * works again, including the tenant installed before the outage.
 */
import { jest } from '@jest/globals';
import { Controller, Get, Module, type INestApplication } from '@nestjs/common';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConnectAuth, ConnectContext, ConnectModule, type ConnectRequestContext } from 'atlassian-connect-nest';
import { EmbeddedPostgres, TenantChangeListener } from 'atlassian-connect-nest/advanced';
import { FakeConnectHost, type FakeHostApp, type FakeSite, type HttpCallResponse } from 'atlassian-connect-nest/testing';
import { freePort } from './support/child-app.js';
import { createTestApp } from './support/http-adapter.js';
import { expectConnectError } from './support/lifecycle-kit.js';

jest.setTimeout(120_000);

const APP_KEY = 'com.test.faults';
const BASE_URL = 'https://faults.example.test/jira';
const CONNECT_TIMEOUT_MS = 500;

@Controller()
class ProbeController {
  @Get('jira/api/probe')
  @ConnectAuth()
  probe(@ConnectContext() context: ConnectRequestContext) {
    return { clientKey: context.clientKey };
  }
}

describe('database outage and recovery (embedded engine stopped and restarted on the same port and data directory)', () => {
  let dir: string;
  let port: number;
  let engine: EmbeddedPostgres | undefined;
  let app: INestApplication;
  let host: FakeConnectHost;
  let target: FakeHostApp;
  const timings: string[] = [];

  beforeAll(async () => {
    host = await FakeConnectHost.start();
    dir = await mkdtemp(join(tmpdir(), 'connect-faults-'));
    port = await freePort();
    engine = await EmbeddedPostgres.start({ dataDir: join(dir, 'db'), port });
    expect(engine.url).toBe(`postgres://postgres@127.0.0.1:${port}/postgres`);

    @Module({
      imports: [
        ConnectModule.forRoot({
          apps: [{ product: 'jira', key: APP_KEY, baseUrl: BASE_URL, descriptor: { name: 'Faults' } }],
          installKeysUrl: host.installKeysUrl,
          installKeyTimeoutMs: 1_000,
          database: { url: engine.url, poolSize: 1, connectTimeoutMs: CONNECT_TIMEOUT_MS, queryTimeoutMs: 1_000 },
          // A cached tenant would be served through a short outage; this test is about the store itself.
          tenantCache: { ttlMs: 1 },
        }),
        // Must recognise the embedded engine behind the URL and stay out of its single connection.
      ],
      controllers: [ProbeController],
    })
    class FaultsModule {}
    app = await createTestApp(FaultsModule, { logger: process.env.CONNECT_TEST_LOGS ? ['error', 'warn'] : false });
    await app.listen(0, '127.0.0.1');
    const { port: appPort } = app.getHttpServer().address() as { port: number };
    target = { key: APP_KEY, product: 'jira', baseUrl: BASE_URL, via: `http://127.0.0.1:${appPort}` };
  });

  afterAll(async () => {
    await app?.close();
    await engine?.stop();
    await host?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
    // eslint-disable-next-line no-console
    console.info(`faults on embedded engine: ${timings.join('; ')}`);
  });

  async function probe(site: FakeSite): Promise<HttpCallResponse> {
    const token = await host.tokenFor(target, site, 'GET', '/jira/api/probe');
    return host.send(target, 'GET', '/jira/api/probe', { headers: { authorization: `JWT ${token}` } });
  }

  async function timed<T>(label: string, call: () => Promise<T>): Promise<T> {
    const from = Date.now();
    const result = await call();
    const took = Date.now() - from;
    timings.push(`${label} ${took} ms`);
    expect(took).toBeLessThan(CONNECT_TIMEOUT_MS + 3_000);
    return result;
  }

  it('the listener stays off on the embedded engine', () => {
    expect(app.get(TenantChangeListener).enabled).toBe(false);
  });

  it('a slow install-key host: 503 jwt/key-unavailable within the key timeout, nothing stored; fast again: the install works', async () => {
    for (const phase of ['headers', 'body'] as const) {
      await host.rotateKey(); // a kid the app has not cached
      const site = host.newSite('jira');
      host.keyServer.delay(5_000, phase);
      const from = Date.now();
      const response = await host.install(target, site);
      const took = Date.now() - from;
      timings.push(`slow key host (${phase}) ${took} ms`);
      expectConnectError(response, 503, 'jwt/key-unavailable', APP_KEY);
      expect(took).toBeLessThan(2_500);
      host.keyServer.reset();
      expectConnectError(await probe(site), 401, 'jwt/unknown-iss', APP_KEY);
      expect((await host.install(target, site)).status).toBe(204);
      expect((await probe(site)).status).toBe(200);
    }
  });

  it('503 with Retry-After while the database is down, no partial writes, and full recovery once it is back', async () => {
    const before = host.newSite('jira');
    expect((await host.install(target, before)).status).toBe(204);
    expect((await probe(before)).status).toBe(200);
    expect((await host.send(target, 'GET', '/health')).status).toBe(200);

    await engine!.stop();
    engine = undefined;

    expectConnectError(await timed('request during outage', () => probe(before)), 503, 'store/unavailable', APP_KEY);
    const health = await timed('health during outage', () => host.send(target, 'GET', '/health'));
    expect(health.status).toBe(503);
    expect(health.body).toMatchObject({ database: 'down' });

    const during = host.newSite('jira');
    const install = await timed('install during outage', () => host.install(target, during));
    expect(install.status).toBe(503);
    expect(install.headers['retry-after']).toBeDefined();
    const rotated = host.rotateSecret(before);
    expect((await timed('re-install during outage', () => host.install(target, rotated))).status).toBe(503);
    expect((await timed('disable during outage', () => host.disable(target, before))).status).toBe(503);
    // Still 503 (not a hang, not a 500) on a second round: the failed pool recovers per request.
    expectConnectError(await timed('second request during outage', () => probe(before)), 503, 'store/unavailable', APP_KEY);

    engine = await EmbeddedPostgres.start({ dataDir: join(dir, 'db'), port });
    const restarted = Date.now();
    let recovered: HttpCallResponse;
    for (;;) {
      recovered = await probe(before);
      if (recovered.status === 200 || Date.now() - restarted > 15_000) break;
      await new Promise((wait) => setTimeout(wait, 50));
    }
    timings.push(`recovered ${Date.now() - restarted} ms after the restart`);
    expect({ status: recovered.status, body: recovered.body }).toEqual({ status: 200, body: { clientKey: before.clientKey } });
    expect((await host.send(target, 'GET', '/health')).status).toBe(200);

    // Nothing from the outage was written: the re-install's secret and the disable did not happen,
    // and the site installed during the outage does not exist.
    expectConnectError(await probe(rotated), 401, 'jwt/invalid-signature', APP_KEY);
    expectConnectError(await probe(during), 401, 'jwt/unknown-iss', APP_KEY);

    // Writes work again.
    expect((await host.install(target, during)).status).toBe(204);
    expect((await probe(during)).status).toBe(200);
    expect((await host.install(target, rotated)).status).toBe(204);
    expect((await probe(rotated)).status).toBe(200);
  });
});
