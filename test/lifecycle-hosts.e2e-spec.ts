/**
 * Installs only from Atlassian's sites (`allowedHostPatterns`), end to end: signed lifecycle callbacks
 * from a FakeConnectHost over real HTTP, tenants in real PostgreSQL (DATABASE_URL) or the embedded
 * engine, read past the tenant cache. One app keeps the default patterns; the other lists its own.
 */
import { jest } from '@jest/globals';
import { Module, type INestApplication } from '@nestjs/common';
import { ConnectModule } from 'atlassian-connect-nest';
import { FakeConnectHost, LOOPBACK_HOST_PATTERNS, startTestDatabase, type FakeHostApp, type FakeSite } from 'atlassian-connect-nest/testing';
import { createTestApp } from './support/http-adapter.js';
import { expectConnectError, storedTenant } from './support/lifecycle-kit.js';

jest.setTimeout(60_000);

const DEFAULT_APP = { key: 'com.test.hosts.default', product: 'jira' as const, baseUrl: 'https://hosts.example.test/default' };
const CUSTOM_APP = { key: 'com.test.hosts.custom', product: 'jira' as const, baseUrl: 'https://hosts.example.test/custom' };
const CUSTOM_PATTERNS = ['*.sites.example.org', ...LOOPBACK_HOST_PATTERNS];

let host: FakeConnectHost;
let app: INestApplication;
let stopDatabase: () => Promise<void>;
let byDefault: FakeHostApp;
let custom: FakeHostApp;

beforeAll(async () => {
  host = await FakeConnectHost.start();
  const db = process.env.DATABASE_URL ? await startTestDatabase() : undefined;
  stopDatabase = async () => db?.stop();
  @Module({
    imports: [
      ConnectModule.forRoot({
        apps: [
          { ...DEFAULT_APP, descriptor: { name: 'Default hosts' } },
          { ...CUSTOM_APP, descriptor: { name: 'Custom hosts' }, allowedHostPatterns: CUSTOM_PATTERNS },
        ],
        installKeysUrl: host.installKeysUrl,
        database: db ? { url: db.url, schema: db.schema, poolSize: db.poolSize } : { embeddedDataDir: 'memory' },
        retention: { schedule: false },
      }),
    ],
  })
  class HostsTestModule {}
  app = await createTestApp(HostsTestModule, { logger: false });
  await app.listen(0, '127.0.0.1');
  const via = `http://127.0.0.1:${(app.getHttpServer().address() as { port: number }).port}`;
  byDefault = { ...DEFAULT_APP, via };
  custom = { ...CUSTOM_APP, via };
});

afterAll(async () => {
  await app?.close();
  await host?.close();
  await stopDatabase?.();
});

const stored = (site: FakeSite, to: FakeHostApp = byDefault) => storedTenant({ app }, to, site.clientKey);

function expectHostRefused(response: Parameters<typeof expectConnectError>[0], field: string, realm: string): void {
  expectConnectError(response, 400, 'lifecycle/host-not-allowed', realm);
  expect((response.body as { message: string }).message).toContain(`"${field}"`);
}

describe('the default patterns (Atlassian cloud domains)', () => {
  it('refuse a signed install whose baseUrl is elsewhere, before any key fetch, storing nothing', async () => {
    const site = host.newSite('jira', { baseUrl: 'https://evil.example.com' });
    expectHostRefused(await host.install(byDefault, site), 'baseUrl', DEFAULT_APP.key);
    expect(host.keyServer.requests()).toBe(0);
    expect(await stored(site)).toBeNull();
    // The same site from its real Atlassian host installs (and only that fetches the key).
    const real = { ...site, baseUrl: 'https://evil-free.atlassian.net' };
    expect((await host.install(byDefault, real)).status).toBe(204);
    expect(host.keyServer.requests()).toBe(1);
    expect(await stored(real)).toMatchObject({ baseUrl: 'https://evil-free.atlassian.net' });
  });

  it('refuse plain http even on an Atlassian domain, a look-alike, and the bare domain', async () => {
    for (const baseUrl of ['http://acme.atlassian.net', 'https://acme.atlassian.net.evil.example.com', 'https://atlassian.net', 'https://acme.atlassian.net@evil.example.com']) {
      const site = host.newSite('jira', { baseUrl });
      expectHostRefused(await host.install(byDefault, site), 'baseUrl', DEFAULT_APP.key);
      expect([baseUrl, await stored(site)]).toEqual([baseUrl, null]);
    }
  });

  it('refuse a displayUrl or a help-center URL elsewhere, though the baseUrl is Atlassian', async () => {
    const site = host.newSite('jira');
    expect(site.baseUrl).toMatch(/^https:\/\/[a-z0-9-]+\.atlassian\.net$/);
    expectHostRefused(await host.install(byDefault, site, { payload: { displayUrl: 'https://phish.example.com' } }), 'displayUrl', DEFAULT_APP.key);
    expectHostRefused(
      await host.install(byDefault, site, { payload: { displayUrlServicedeskHelpCenter: 'http://help.example.com' } }),
      'displayUrlServicedeskHelpCenter',
      DEFAULT_APP.key,
    );
    expect(await stored(site)).toBeNull();
    expect((await host.install(byDefault, site, { payload: { displayUrl: 'https://acme.jira.com' } })).status).toBe(204);
    expect(await stored(site)).toMatchObject({ baseUrl: site.baseUrl, displayUrl: 'https://acme.jira.com' });
  });

  it('refuse a re-install of an existing tenant with a foreign baseUrl, leaving the row as it was', async () => {
    const site = host.newSite('jira');
    expect((await host.install(byDefault, site)).status).toBe(204);
    const before = await stored(site);
    expect(before).toMatchObject({ baseUrl: site.baseUrl, sharedSecret: site.sharedSecret, enabled: true });

    // A replayed install with a new secret and another host: the signature is valid, the body is not.
    const hijack = { ...host.rotateSecret(site), baseUrl: 'https://evil.example.com' };
    expectHostRefused(await host.install(byDefault, hijack), 'baseUrl', DEFAULT_APP.key);
    expect(await stored(site)).toEqual(before);

    // The other callbacks change nothing either.
    expectHostRefused(await host.disable(byDefault, { ...site, baseUrl: 'https://evil.example.com' }), 'baseUrl', DEFAULT_APP.key);
    expectHostRefused(await host.uninstall(byDefault, { ...site, baseUrl: 'https://evil.example.com' }), 'baseUrl', DEFAULT_APP.key);
    expect(await stored(site)).toEqual(before);
  });

  it('refuse a loopback site (the test kit and the simulator serve on 127.0.0.1)', async () => {
    const site = await host.startSite('jira');
    expect(site.baseUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expectHostRefused(await host.install(byDefault, site), 'baseUrl', DEFAULT_APP.key);
    expect(await stored(site)).toBeNull();
    for (const baseUrl of ['http://localhost:3000', 'https://localhost', 'http://[::1]:8080']) {
      const local = host.newSite('jira', { baseUrl });
      expectHostRefused(await host.install(byDefault, local), 'baseUrl', DEFAULT_APP.key);
    }
  });
});

describe('custom patterns (they replace the default)', () => {
  it('accept a host matching a custom wildcard, and no longer the Atlassian domains', async () => {
    const site = host.newSite('jira', { baseUrl: 'https://acme.sites.example.org/jira' });
    expect((await host.install(custom, site)).status).toBe(204);
    expect(await stored(site, custom)).toMatchObject({ baseUrl: 'https://acme.sites.example.org/jira' });

    const atlassian = host.newSite('jira');
    expectHostRefused(await host.install(custom, atlassian), 'baseUrl', CUSTOM_APP.key);
    expect(await stored(atlassian, custom)).toBeNull();
    const bare = host.newSite('jira', { baseUrl: 'https://sites.example.org' });
    expectHostRefused(await host.install(custom, bare), 'baseUrl', CUSTOM_APP.key);
  });

  it('accept loopback sites over http when LOOPBACK_HOST_PATTERNS is listed', async () => {
    const site = await host.startSite('jira');
    expect((await host.install(custom, site)).status).toBe(204);
    expect(await stored(site, custom)).toMatchObject({ baseUrl: site.baseUrl, enabled: true });
    expect((await host.disable(custom, site)).status).toBe(204);
    expect(await stored(site, custom)).toMatchObject({ enabled: false });
  });
});
