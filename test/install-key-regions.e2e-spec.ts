/**
 * Install keys from the key hosts of the site's environment (`installKeyHosts`), end to end: two fake
 * Atlassian hosts, each with its own key server and signing key, stand for two environments (production
 * and gov); the payload's baseUrl picks whose keys verify the install. Signed lifecycle callbacks over
 * real HTTP, tenants in real PostgreSQL (DATABASE_URL) or the embedded engine, read past the tenant cache.
 */
import { jest } from '@jest/globals';
import { Module, type INestApplication } from '@nestjs/common';
import { ConnectModule } from 'atlassian-connect-nest';
import { FakeConnectHost, startTestDatabase, type FakeHostApp, type FakeSite } from 'atlassian-connect-nest/testing';
import { freePort } from './support/child-app.js';
import { createTestApp } from './support/http-adapter.js';
import { expectConnectError, storedTenant } from './support/lifecycle-kit.js';

jest.setTimeout(60_000);

const APP = { key: 'com.test.key-regions', product: 'jira' as const, baseUrl: 'https://key-regions.example.test/jira' };

/** Signs production installs; its key server is the production region's only host. */
let production: FakeConnectHost;
/** Signs gov installs; its key server is the gov region's only host. */
let gov: FakeConnectHost;
let app: INestApplication;
let stopDatabase: () => Promise<void>;
let target: FakeHostApp;
/** What `installKeysUrl` (the fallback for sites of no region) points at: a port nothing listens on. */
let fallbackUrl: string;

beforeAll(async () => {
  [production, gov] = await Promise.all([FakeConnectHost.start(), FakeConnectHost.start()]);
  fallbackUrl = `http://127.0.0.1:${await freePort()}`;
  const db = process.env.DATABASE_URL ? await startTestDatabase() : undefined;
  stopDatabase = async () => db?.stop();
  @Module({
    imports: [
      ConnectModule.forRoot({
        apps: [{ ...APP, descriptor: { name: 'Key regions' } }],
        installKeyHosts: [
          { name: 'production', sites: ['*.atlassian.net'], urls: [production.installKeysUrl] },
          { name: 'gov', sites: ['*.atlassian-us-gov-mod.net'], urls: [gov.installKeysUrl] },
        ],
        installKeysUrl: fallbackUrl,
        installKeyTimeoutMs: 2000,
        database: db ? { url: db.url, schema: db.schema, poolSize: db.poolSize } : { embeddedDataDir: 'memory' },
        retention: { schedule: false },
      }),
    ],
  })
  class KeyRegionsTestModule {}
  app = await createTestApp(KeyRegionsTestModule, { logger: false });
  await app.listen(0, '127.0.0.1');
  target = { ...APP, via: `http://127.0.0.1:${(app.getHttpServer().address() as { port: number }).port}` };
});

afterAll(async () => {
  await app?.close();
  await Promise.all([production?.close(), gov?.close()]);
  await stopDatabase?.();
});

beforeEach(() => {
  production.keyServer.resetRequests();
  gov.keyServer.resetRequests();
});

const stored = (site: FakeSite) => storedTenant({ app }, target, site.clientKey);
const govSite = () => gov.newSite('jira', { baseUrl: `https://agency-${Math.random().toString(16).slice(2, 10)}.atlassian-us-gov-mod.net` });

describe('each site is verified with the keys of its own region', () => {
  it('installs a production site signed by the production host, asking only its key server', async () => {
    const site = production.newSite('jira');
    expect(site.baseUrl).toMatch(/\.atlassian\.net$/);
    expect((await production.install(target, site)).status).toBe(204);
    expect(await stored(site)).toMatchObject({ baseUrl: site.baseUrl, sharedSecret: site.sharedSecret, enabled: true, uninstalledAt: null });
    expect(gov.keyServer.requests()).toBe(0);
  });

  it('installs a gov site signed by the gov host, asking only its key server', async () => {
    const site = govSite();
    expect((await gov.install(target, site)).status).toBe(204);
    expect(await stored(site)).toMatchObject({ baseUrl: site.baseUrl, sharedSecret: site.sharedSecret, enabled: true });
    expect(gov.keyServer.requests(gov.kid)).toBe(1);
    expect(production.keyServer.requests()).toBe(0);
  });

  it('refuses a gov-signed install that claims a production site (401 jwt/invalid-kid), writing no row', async () => {
    const site = gov.newSite('jira');
    expect(site.baseUrl).toMatch(/\.atlassian\.net$/);
    expectConnectError(await gov.install(target, site), 401, 'jwt/invalid-kid', APP.key);
    expect(await stored(site)).toBeNull();
    // The production key server was asked for the gov kid (and does not know it); the gov one was not asked.
    expect(production.keyServer.requests(gov.kid)).toBe(1);
    expect(gov.keyServer.requests()).toBe(0);
  });

  it('refuses a gov-signed re-install of an existing production tenant, leaving the row as it was', async () => {
    const site = production.newSite('jira');
    expect((await production.install(target, site)).status).toBe(204);
    const before = await stored(site);
    expect(before).toMatchObject({ sharedSecret: site.sharedSecret });

    expectConnectError(await gov.install(target, gov.rotateSecret(site)), 401, 'jwt/invalid-kid', APP.key);
    expect(await stored(site)).toEqual(before);
    // Even once the gov region has the gov kid cached, the production site does not get it.
    expect((await gov.install(target, govSite())).status).toBe(204);
    expectConnectError(await gov.install(target, gov.rotateSecret(site)), 401, 'jwt/invalid-kid', APP.key);
    expect(await stored(site)).toEqual(before);
  });

  it('refuses a production-signed install that claims a gov site', async () => {
    const site = govSite();
    expectConnectError(await production.install(target, site), 401, 'jwt/invalid-kid', APP.key);
    expect(await stored(site)).toBeNull();
    expect(production.keyServer.requests()).toBe(0);
  });

  it('verifies uninstalls with the keys of the region too', async () => {
    const site = govSite();
    expect((await gov.install(target, site)).status).toBe(204);
    const installed = await stored(site);

    // Signed by the production host: not a key of the gov region, nothing changes.
    expectConnectError(await production.uninstall(target, site), 401, 'jwt/invalid-kid', APP.key);
    expect(await stored(site)).toEqual(installed);

    expect((await gov.uninstall(target, site)).status).toBe(204);
    expect((await stored(site))?.uninstalledAt).toBeInstanceOf(Date);

    // And the other way round: a production tenant is not uninstalled by the gov host.
    const other = production.newSite('jira');
    expect((await production.install(target, other)).status).toBe(204);
    const before = await stored(other);
    expectConnectError(await gov.uninstall(target, other), 401, 'jwt/invalid-kid', APP.key);
    expect(await stored(other)).toEqual(before);
    expect((await production.uninstall(target, other)).status).toBe(204);
    expect((await stored(other))?.uninstalledAt).toBeInstanceOf(Date);
  });
});

describe('when a key host is down', () => {
  it('answers 503 jwt/key-unavailable for a site of no region while the fallback is down, never a 500, writing no row', async () => {
    const site = production.newSite('jira', { baseUrl: 'https://sandbox-regions.atlassian-fex.net' });
    const response = await production.install(target, site);
    expectConnectError(response, 503, 'jwt/key-unavailable', APP.key);
    expect((response.body as { message: string }).message).toContain(fallbackUrl);
    expect(await stored(site)).toBeNull();
    // Neither region's host was asked.
    expect([production.keyServer.requests(), gov.keyServer.requests()]).toEqual([0, 0]);
  });

  it('answers 503 for a gov site while the gov host is down, and production sites still install', async () => {
    await gov.rotateKey(); // a kid not cached yet
    await gov.keyServer.down();
    try {
      const site = govSite();
      expectConnectError(await gov.install(target, site), 503, 'jwt/key-unavailable', APP.key);
      expect(await stored(site)).toBeNull();
      const other = production.newSite('jira');
      expect((await production.install(target, other)).status).toBe(204);
    } finally {
      await gov.keyServer.up();
    }
    const site = govSite();
    expect((await gov.install(target, site)).status).toBe(204);
    expect(await stored(site)).toMatchObject({ baseUrl: site.baseUrl });
  });
});
