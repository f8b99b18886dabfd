import { jest } from '@jest/globals';
import { ConnectModule, TENANT_STORE, type TenantStore } from 'atlassian-connect-nest';
import { SignJWT } from 'jose';
import { createInstallKeyPair, FakeConnectHost, httpCall, signConnectToken, type FakeHostApp, type FakeSite } from 'atlassian-connect-nest/testing';
import { FIXTURE_CONFLUENCE_KEY, FIXTURE_JIRA_KEY, fixtureConfluenceDescriptor, fixtureJiraDescriptor } from './fixtures/two-product-app.js';
import { listenOn, qshOf, type StartedConnectApp } from './support/connect-test-app.js';
import { whoamiController } from './fixtures/whoami-controller.js';
import { FIXTURE_PUBLIC_BASE_URL, startFixtureApp, type RunningApp } from './support/fixture-app.js';
import { startTestDatabase, type TestDatabaseHandle } from './support/test-database-options.js';

// Starting the embedded engine takes seconds on a busy machine (jest.config.js's per-project testTimeout is not applied).
jest.setTimeout(60_000);

const LIFECYCLE = { installed: '/installed', uninstalled: '/uninstalled', enabled: '/enabled', disabled: '/disabled' };
const API_MIGRATIONS = { 'signed-install': true, 'context-qsh': true };

function bearer(token: string): { headers: Record<string, string> } {
  return { headers: { authorization: `JWT ${token}` } };
}

/** A token whose qsh is given outright (computed by the test, not by the framework's canonicaliser). */
function tokenWithQsh(site: FakeSite, qsh: string, accountId?: string): Promise<string> {
  return signConnectToken({ clientKey: site.clientKey, sharedSecret: site.sharedSecret, qsh, ...(accountId !== undefined && { accountId }) });
}

describe('two apps in one process, told apart by path prefix (the two-product fixture app)', () => {
  let fixture: RunningApp;
  let host: FakeConnectHost;
  let jira: FakeHostApp;
  let confluence: FakeHostApp;
  let store: TenantStore;

  beforeAll(async () => {
    fixture = await startFixtureApp();
    ({ host, jira, confluence } = fixture);
    store = fixture.app.get<TenantStore>(TENANT_STORE);
  });

  afterAll(async () => {
    await fixture?.close();
  });

  async function installed(app: FakeHostApp, site: FakeSite): Promise<FakeSite> {
    const response = await host.install(app, site);
    expect(response.status).toBe(204);
    return site;
  }

  describe('descriptors', () => {
    it.each([
      ['jira', FIXTURE_JIRA_KEY, fixtureJiraDescriptor],
      ['confluence', FIXTURE_CONFLUENCE_KEY, fixtureConfluenceDescriptor],
    ] as const)('serves the %s descriptor at its own path with the protocol fields and the author modules', async (product, key, authored) => {
      const app = product === 'jira' ? jira : confluence;
      const response = await host.send(app, 'GET', `/${product}/atlassian-connect.json`);
      expect(response.status).toBe(200);
      expect(String(response.headers['content-type'])).toMatch(/^application\/json/);
      const descriptor = response.body as Record<string, unknown>;
      expect(descriptor.key).toBe(key);
      expect(descriptor.baseUrl).toBe(`${FIXTURE_PUBLIC_BASE_URL}/${product}`);
      expect(descriptor.authentication).toEqual({ type: 'jwt' });
      expect(descriptor.lifecycle).toEqual(LIFECYCLE);
      expect(descriptor.apiMigrations).toEqual(API_MIGRATIONS);
      // The author's own fields come through untouched.
      expect(descriptor.modules).toEqual(authored.modules);
      expect(descriptor.name).toBe(authored.name);
      expect(descriptor.scopes).toEqual(authored.scopes);
      expect(descriptor.vendor).toEqual(authored.vendor);
    });

    it('serves no descriptor at the root or under a path no app has', async () => {
      expect((await host.send(jira, 'GET', '/atlassian-connect.json')).status).toBe(404);
      expect((await host.send(jira, 'GET', '/bitbucket/atlassian-connect.json')).status).toBe(404);
      expect((await host.send(jira, 'GET', '/jiraX/atlassian-connect.json')).status).toBe(404);
    });
  });

  describe('tenants belong to one app', () => {
    it('refuses a Jira tenant token on a Confluence route with jwt/unknown-iss', async () => {
      const site = await installed(jira, host.newSite('jira'));
      const ok = await host.send(jira, 'GET', '/jira/api/whoami', bearer(await tokenWithQsh(site, qshOf('GET&/api/whoami&'))));
      expect(ok.status).toBe(200);
      expect(ok.body).toEqual({ clientKey: site.clientKey, accountId: null, productType: 'jira' });

      // Same canonical request on the Confluence app (its prefix is stripped too): only the tenant is wrong.
      const refused = await host.send(confluence, 'GET', '/confluence/api/whoami', bearer(await tokenWithQsh(site, qshOf('GET&/api/whoami&'))));
      expect(refused.status).toBe(401);
      expect(refused.body).toEqual({ type: 'jwt/unknown-iss', message: expect.any(String) });
      expect(refused.headers['www-authenticate']).toBe(`JWT realm="${FIXTURE_CONFLUENCE_KEY}"`);
    });

    it('keeps the same clientKey installed in both apps as two rows with their own secrets', async () => {
      const jiraSite = await installed(jira, host.newSite('jira'));
      const confluenceSite = await installed(confluence, host.newSite('confluence', { clientKey: jiraSite.clientKey }));
      expect(confluenceSite.sharedSecret).not.toBe(jiraSite.sharedSecret);

      const jiraRow = await store.find(FIXTURE_JIRA_KEY, jiraSite.clientKey);
      const confluenceRow = await store.find(FIXTURE_CONFLUENCE_KEY, jiraSite.clientKey);
      expect(jiraRow).toMatchObject({ appKey: FIXTURE_JIRA_KEY, sharedSecret: jiraSite.sharedSecret, productType: 'jira', baseUrl: jiraSite.baseUrl });
      expect(confluenceRow).toMatchObject({
        appKey: FIXTURE_CONFLUENCE_KEY,
        sharedSecret: confluenceSite.sharedSecret,
        productType: 'confluence',
        baseUrl: confluenceSite.baseUrl,
      });

      const whoami = qshOf('GET&/api/whoami&');
      // Each secret works on its own app…
      const jiraOk = await host.send(jira, 'GET', '/jira/api/whoami', bearer(await tokenWithQsh(jiraSite, whoami)));
      expect(jiraOk.status).toBe(200);
      expect(jiraOk.body).toMatchObject({ clientKey: jiraSite.clientKey, productType: 'jira' });
      const confluenceOk = await host.send(confluence, 'GET', '/confluence/api/whoami', bearer(await tokenWithQsh(confluenceSite, whoami)));
      expect(confluenceOk.status).toBe(200);
      expect(confluenceOk.body).toMatchObject({ clientKey: jiraSite.clientKey, productType: 'confluence' });
      // …and only there.
      const jiraSecretOnConfluence = await host.send(confluence, 'GET', '/confluence/api/whoami', bearer(await tokenWithQsh(jiraSite, whoami)));
      expect(jiraSecretOnConfluence.status).toBe(401);
      expect(jiraSecretOnConfluence.body).toMatchObject({ type: 'jwt/invalid-signature' });
      const confluenceSecretOnJira = await host.send(jira, 'GET', '/jira/api/whoami', bearer(await tokenWithQsh(confluenceSite, whoami)));
      expect(confluenceSecretOnJira.status).toBe(401);
      expect(confluenceSecretOnJira.body).toMatchObject({ type: 'jwt/invalid-signature' });

      // Uninstalling from Jira leaves the Confluence installation of the same clientKey alone.
      expect((await host.uninstall(jira, jiraSite)).status).toBe(204);
      expect((await store.find(FIXTURE_JIRA_KEY, jiraSite.clientKey))?.uninstalledAt).toBeInstanceOf(Date);
      expect((await store.find(FIXTURE_CONFLUENCE_KEY, jiraSite.clientKey))?.uninstalledAt).toBeNull();
      expect((await host.send(confluence, 'GET', '/confluence/api/whoami', bearer(await tokenWithQsh(confluenceSite, whoami)))).status).toBe(200);
    });

    it('refuses a Jira signed install posted to the Confluence lifecycle URL (aud), and stores nothing', async () => {
      const site = host.newSite('jira');
      // The Jira product signs for the Jira baseUrl and posts the Jira payload, but to the Confluence URL.
      const misdirected: FakeHostApp = { ...jira, baseUrl: confluence.baseUrl };
      const response = await host.install(misdirected, site, { claims: { aud: jira.baseUrl } });
      expect(response.status).toBe(401);
      expect(response.body).toMatchObject({ type: 'jwt/invalid-aud' });
      expect(await store.find(FIXTURE_CONFLUENCE_KEY, site.clientKey)).toBeNull();
      expect(await store.find(FIXTURE_JIRA_KEY, site.clientKey)).toBeNull();
      // The very same install sent to the right URL works (so the refusal above was about the URL).
      expect((await host.install(jira, site)).status).toBe(204);
      expect(await store.find(FIXTURE_JIRA_KEY, site.clientKey)).not.toBeNull();
    });
  });

  describe('qsh under a path prefix', () => {
    let site: FakeSite;
    beforeAll(async () => {
      site = await installed(jira, host.newSite('jira'));
    });

    it('is computed over the path without /jira', async () => {
      const stripped = await host.send(jira, 'GET', '/jira/api/whoami', bearer(await tokenWithQsh(site, qshOf('GET&/api/whoami&'))));
      expect(stripped.status).toBe(200);
      expect(stripped.body).toMatchObject({ clientKey: site.clientKey });

      const fullPath = await host.send(jira, 'GET', '/jira/api/whoami', bearer(await tokenWithQsh(site, qshOf('GET&/jira/api/whoami&'))));
      expect(fullPath.status).toBe(401);
      expect(fullPath.body).toMatchObject({ type: 'jwt/invalid-qsh' });

      // signConnectToken without the app baseUrl hashes the full path as well: refused the same way.
      const unstripped = await signConnectToken({ clientKey: site.clientKey, sharedSecret: site.sharedSecret, method: 'GET', url: '/jira/api/whoami' });
      const refused = await host.send(jira, 'GET', '/jira/api/whoami', bearer(unstripped));
      expect(refused.status).toBe(401);
      expect(refused.body).toMatchObject({ type: 'jwt/invalid-qsh' });

      // And the testing kit's tokenFor() (with the app baseUrl) agrees with the hand-written canonical form.
      const viaKit = await host.tokenFor(jira, site, 'GET', '/jira/api/whoami');
      expect((await host.send(jira, 'GET', '/jira/api/whoami', bearer(viaKit))).status).toBe(200);
    });

    it('accepts several query params in any order, with spaces as + and as %20', async () => {
      // Canonical: names sorted, values RFC 3986-encoded (space = %20), repeated names joined sorted by ",".
      const qsh = qshOf('GET&/api/whoami&a=1&b=two%20words&c=two%20words&tag=x,y');
      const orders = [
        '/jira/api/whoami?b=two+words&a=1&c=two%20words&tag=y&tag=x',
        '/jira/api/whoami?tag=x&c=two+words&tag=y&b=two%20words&a=1',
        '/jira/api/whoami?a=1&tag=y&b=two%20words&c=two+words&tag=x',
      ];
      for (const url of orders) {
        const response = await host.send(jira, 'GET', url, bearer(await tokenWithQsh(site, qsh)));
        expect({ url, status: response.status }).toEqual({ url, status: 200 });
      }
      // A changed value is a different request.
      const changed = await host.send(jira, 'GET', '/jira/api/whoami?b=two+words&a=2&c=two%20words&tag=y&tag=x', bearer(await tokenWithQsh(site, qsh)));
      expect(changed.status).toBe(401);
      expect(changed.body).toMatchObject({ type: 'jwt/invalid-qsh' });
      // `+` is a space, not a literal plus (which would be %2B).
      const plusLiteral = await host.send(jira, 'GET', '/jira/api/whoami?b=two%2Bwords&a=1&c=two%20words&tag=y&tag=x', bearer(await tokenWithQsh(site, qsh)));
      expect(plusLiteral.status).toBe(401);
    });

    it('accepts the token in the jwt query parameter of the page route and answers HTML framed only by the site', async () => {
      const query = 'xdm_e=https%3A%2F%2Fexample.atlassian.net&xdm_c=channel-1&cp=&lic=none&cv=1.0';
      const qsh = qshOf('GET&/pages/hello&cp=&cv=1.0&lic=none&xdm_c=channel-1&xdm_e=https%3A%2F%2Fexample.atlassian.net');
      const token = await tokenWithQsh(site, qsh, '5b10a2844c20165700ede21g');
      const response = await host.send(jira, 'GET', `/jira/pages/hello?${query}&jwt=${token}`);
      expect(response.status).toBe(200);
      expect(String(response.headers['content-type'])).toMatch(/^text\/html/);
      expect(response.headers['content-security-policy']).toBe(`frame-ancestors ${new URL(site.baseUrl).origin}`);
      expect(response.headers['x-frame-options']).toBeUndefined();
      expect(response.text).toContain('<h1>Hello from Jira</h1>');
      expect(response.text).toContain(`Served by ${FIXTURE_JIRA_KEY} to 5b10a2844c20165700ede21g on ${site.baseUrl}.`);

      // Without a token the page is not served.
      const anonymous = await host.send(jira, 'GET', `/jira/pages/hello?${query}`);
      expect(anonymous.status).toBe(401);
      expect(anonymous.body).toMatchObject({ type: 'jwt/missing' });
    });

    it('serves the Confluence macro with ?pageId=123', async () => {
      const confluenceSite = await installed(confluence, host.newSite('confluence'));
      const token = await tokenWithQsh(confluenceSite, qshOf('GET&/macros/hello&pageId=123'));
      const response = await host.send(confluence, 'GET', '/confluence/macros/hello?pageId=123', bearer(token));
      expect(response.status).toBe(200);
      expect(String(response.headers['content-type'])).toMatch(/^text\/html/);
      expect(response.headers['content-security-policy']).toBe(`frame-ancestors ${new URL(confluenceSite.baseUrl).origin}`);
      expect(response.text).toContain('Hello macro on page 123');
      expect(response.text).toContain(`Served by ${FIXTURE_CONFLUENCE_KEY}`);

      // The Jira app has no macro route, and a Jira tenant cannot use the Confluence one.
      const jiraToken = await tokenWithQsh(site, qshOf('GET&/macros/hello&pageId=123'));
      const jiraOnMacro = await host.send(confluence, 'GET', '/confluence/macros/hello?pageId=123', bearer(jiraToken));
      expect(jiraOnMacro.status).toBe(401);
      expect(jiraOnMacro.body).toMatchObject({ type: 'jwt/unknown-iss' });
    });
  });
});

describe('two apps in one process, told apart by host name', () => {
  const JIRA_KEY = 'com.test.jira';
  const CONFLUENCE_KEY = 'com.test.confluence';
  let host: FakeConnectHost;
  let running: StartedConnectApp;
  let db: TestDatabaseHandle;
  let jira: FakeHostApp;
  let confluence: FakeHostApp;
  let store: TenantStore;

  beforeAll(async () => {
    host = await FakeConnectHost.start();
    db = await startTestDatabase();
    const connect = ConnectModule.forRoot({
      apps: [
        { product: 'jira', key: JIRA_KEY, baseUrl: 'https://jira.example.com', descriptor: { name: 'J' } },
        { product: 'confluence', key: CONFLUENCE_KEY, baseUrl: 'https://confluence.example.com', descriptor: { name: 'C' } },
      ],
      installKeysUrl: host.installKeysUrl,
      database: db.database,
    });
    running = await listenOn({ module: class HostNamedAppsModule {}, imports: [connect], controllers: [whoamiController()] });
    jira = { key: JIRA_KEY, product: 'jira', baseUrl: 'https://jira.example.com', via: running.url };
    confluence = { key: CONFLUENCE_KEY, product: 'confluence', baseUrl: 'https://confluence.example.com', via: running.url };
    store = running.app.get<TenantStore>(TENANT_STORE);
  });

  afterAll(async () => {
    await running?.close();
    await db?.stop();
    await host?.close();
  });

  function withHost(hostHeader: string, method: string, path: string, options: { headers?: Record<string, string>; body?: unknown } = {}) {
    return httpCall({ method, url: running.url + path, host: hostHeader, ...options });
  }

  it('serves each descriptor on its own host, and a typed 404 on any other host', async () => {
    const jiraDescriptor = await host.send(jira, 'GET', '/atlassian-connect.json');
    expect(jiraDescriptor.status).toBe(200);
    expect(jiraDescriptor.body).toMatchObject({ key: JIRA_KEY, name: 'J', baseUrl: 'https://jira.example.com', lifecycle: LIFECYCLE, apiMigrations: API_MIGRATIONS });

    const confluenceDescriptor = await host.send(confluence, 'GET', '/atlassian-connect.json');
    expect(confluenceDescriptor.status).toBe(200);
    expect(confluenceDescriptor.body).toMatchObject({
      key: CONFLUENCE_KEY,
      name: 'C',
      baseUrl: 'https://confluence.example.com',
      lifecycle: LIFECYCLE,
      apiMigrations: API_MIGRATIONS,
    });

    for (const unknown of ['bitbucket.example.com', 'example.com', 'jira.example.com.evil.test', '127.0.0.1']) {
      const response = await withHost(unknown, 'GET', '/atlassian-connect.json');
      expect({ unknown, status: response.status }).toEqual({ unknown, status: 404 });
      expect(response.body).toEqual({ type: 'jwt/unknown-app', message: expect.stringContaining(unknown === '127.0.0.1' ? '127.0.0.1' : unknown) });
    }
  });

  it('matches the Host header case-insensitively and with a port (jira.example.com:443)', async () => {
    for (const hostHeader of ['jira.example.com:443', 'JIRA.Example.COM', 'jira.example.com:8443']) {
      const response = await withHost(hostHeader, 'GET', '/atlassian-connect.json');
      expect({ hostHeader, status: response.status, key: (response.body as { key?: string }).key }).toEqual({ hostHeader, status: 200, key: JIRA_KEY });
    }
    const confluenceWithPort = await withHost('confluence.example.com:443', 'GET', '/atlassian-connect.json');
    expect(confluenceWithPort.body).toMatchObject({ key: CONFLUENCE_KEY });
  });

  it('installs a Confluence site sent with Host confluence.example.com (verified against the Confluence app, not Jira)', async () => {
    const site = host.newSite('confluence');
    const response = await host.install(confluence, site);
    expect(response.status).toBe(204);
    expect(await store.find(CONFLUENCE_KEY, site.clientKey)).toMatchObject({ appKey: CONFLUENCE_KEY, productType: 'confluence', sharedSecret: site.sharedSecret });
    expect(await store.find(JIRA_KEY, site.clientKey)).toBeNull();
  });

  it('refuses a Confluence signed install sent with Host jira.example.com', async () => {
    const site = host.newSite('confluence');
    // Confluence signs for its own baseUrl; the request reaches the Jira host.
    const onJiraHost: FakeHostApp = { ...confluence, baseUrl: jira.baseUrl };
    const response = await host.install(onJiraHost, site, { claims: { aud: confluence.baseUrl } });
    expect(response.status).toBe(401);
    expect(response.body).toMatchObject({ type: 'jwt/invalid-aud' });
    expect(await store.find(JIRA_KEY, site.clientKey)).toBeNull();
    expect(await store.find(CONFLUENCE_KEY, site.clientKey)).toBeNull();
  });

  it('installs and authenticates through a Host header with a port (jira.example.com:443)', async () => {
    const site = host.newSite('jira');
    // FakeConnectHost sends URL.host, which drops the default port: sign and send this install by hand.
    const keyPair = await createInstallKeyPair();
    host.keyServer.add(keyPair);
    const now = Math.floor(Date.now() / 1000);
    const installToken = await new SignJWT({ iss: site.clientKey, aud: jira.baseUrl, qsh: qshOf('POST&/installed&'), iat: now, exp: now + 180 })
      .setProtectedHeader({ alg: 'RS256', typ: 'JWT', kid: keyPair.kid })
      .sign(keyPair.privateKey);
    const install = await withHost('jira.example.com:443', 'POST', '/installed', { ...bearer(installToken), body: host.lifecyclePayload(jira, site, 'installed') });
    expect(install.status).toBe(204);
    expect(await store.find(JIRA_KEY, site.clientKey)).toMatchObject({ sharedSecret: site.sharedSecret });
    expect(await store.find(CONFLUENCE_KEY, site.clientKey)).toBeNull();

    const response = await withHost('jira.example.com:443', 'GET', '/api/whoami', bearer(await tokenWithQsh(site, qshOf('GET&/api/whoami&'))));
    expect(response.status).toBe(200);
    expect(response.body).toMatchObject({ app: JIRA_KEY, clientKey: site.clientKey });
  });

  it('authenticates /api/whoami with a Jira token only on the Jira host and a Confluence token only on the Confluence host', async () => {
    const jiraSite = host.newSite('jira');
    const confluenceSite = host.newSite('confluence');
    expect((await host.install(jira, jiraSite)).status).toBe(204);
    expect((await host.install(confluence, confluenceSite)).status).toBe(204);
    const whoami = qshOf('GET&/api/whoami&');

    const jiraOnJira = await host.send(jira, 'GET', '/api/whoami', bearer(await tokenWithQsh(jiraSite, whoami)));
    expect(jiraOnJira.status).toBe(200);
    expect(jiraOnJira.body).toEqual({ app: JIRA_KEY, clientKey: jiraSite.clientKey, productType: 'jira', accountId: null });
    const confluenceOnConfluence = await host.send(confluence, 'GET', '/api/whoami', bearer(await tokenWithQsh(confluenceSite, whoami)));
    expect(confluenceOnConfluence.status).toBe(200);
    expect(confluenceOnConfluence.body).toEqual({ app: CONFLUENCE_KEY, clientKey: confluenceSite.clientKey, productType: 'confluence', accountId: null });

    const jiraOnConfluence = await host.send(confluence, 'GET', '/api/whoami', bearer(await tokenWithQsh(jiraSite, whoami)));
    expect(jiraOnConfluence.status).toBe(401);
    expect(jiraOnConfluence.body).toMatchObject({ type: 'jwt/unknown-iss' });
    expect(jiraOnConfluence.headers['www-authenticate']).toBe(`JWT realm="${CONFLUENCE_KEY}"`);
    const confluenceOnJira = await host.send(jira, 'GET', '/api/whoami', bearer(await tokenWithQsh(confluenceSite, whoami)));
    expect(confluenceOnJira.status).toBe(401);
    expect(confluenceOnJira.body).toMatchObject({ type: 'jwt/unknown-iss' });
    expect(confluenceOnJira.headers['www-authenticate']).toBe(`JWT realm="${JIRA_KEY}"`);

    // On a host that is neither, no app owns the route.
    const elsewhere = await withHost('bitbucket.example.com', 'GET', '/api/whoami', bearer(await tokenWithQsh(jiraSite, whoami)));
    expect(elsewhere.status).toBe(404);
    expect(elsewhere.body).toMatchObject({ type: 'jwt/unknown-app' });
  });

  it('delivers each lifecycle call (same path, different hosts) only to its own app', async () => {
    const jiraSite = host.newSite('jira');
    const confluenceSite = host.newSite('confluence', { clientKey: jiraSite.clientKey });
    expect((await host.install(jira, jiraSite)).status).toBe(204);
    expect((await host.install(confluence, confluenceSite)).status).toBe(204);
    expect(await store.find(JIRA_KEY, jiraSite.clientKey)).toMatchObject({
      sharedSecret: jiraSite.sharedSecret,
      productType: 'jira',
      baseUrl: jiraSite.baseUrl,
      enabled: true,
      uninstalledAt: null,
    });
    expect(await store.find(CONFLUENCE_KEY, jiraSite.clientKey)).toMatchObject({
      sharedSecret: confluenceSite.sharedSecret,
      productType: 'confluence',
      baseUrl: confluenceSite.baseUrl,
      enabled: true,
      uninstalledAt: null,
    });

    // disabled on the Confluence host touches the Confluence row only…
    expect((await host.disable(confluence, confluenceSite)).status).toBe(204);
    expect(await store.find(CONFLUENCE_KEY, jiraSite.clientKey)).toMatchObject({ enabled: false });
    expect(await store.find(JIRA_KEY, jiraSite.clientKey)).toMatchObject({ enabled: true });

    // …uninstalled on the Jira host the Jira row only…
    expect((await host.uninstall(jira, jiraSite)).status).toBe(204);
    expect((await store.find(JIRA_KEY, jiraSite.clientKey))?.uninstalledAt).toBeInstanceOf(Date);
    expect((await store.find(CONFLUENCE_KEY, jiraSite.clientKey))?.uninstalledAt).toBeNull();

    // …and enabled on the Confluence host brings back the Confluence row while Jira stays uninstalled.
    expect((await host.enable(confluence, confluenceSite)).status).toBe(204);
    expect(await store.find(CONFLUENCE_KEY, jiraSite.clientKey)).toMatchObject({ enabled: true, uninstalledAt: null });
    expect((await store.find(JIRA_KEY, jiraSite.clientKey))?.uninstalledAt).toBeInstanceOf(Date);

    // A Confluence-secret enable sent to the Jira host is verified against the Jira row (other secret).
    const crossed = await host.enable({ ...confluence, baseUrl: jira.baseUrl }, confluenceSite, { payload: { key: JIRA_KEY, productType: 'jira' } });
    expect(crossed.status).toBe(401);
    expect(crossed.body).toMatchObject({ type: 'jwt/invalid-signature' });
  });
});
