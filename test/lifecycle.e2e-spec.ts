/**
 * Signed installs and the other lifecycle callbacks, end to end: the two-product fixture app listening on
 * 127.0.0.1, a FakeConnectHost whose install keys come from a real local HTTP server with real RSA
 * keys, and tenants in real PostgreSQL (DATABASE_URL) or the embedded engine.
 *
 * Every outcome is checked three ways: the HTTP answer (status, typed body, headers), what the site can
 * do afterwards (authenticated requests with the old and the new secret), and the row in the database
 * (read past the tenant cache).
 */
import { jest } from '@jest/globals';
import { Injectable } from '@nestjs/common';
import { createSecretKey } from 'node:crypto';
import { createInstallKeyPair, FakeConnectHost, type FakeHostApp, type FakeSite, type InstallKeyPair, type LifecycleCallOptions } from 'atlassian-connect-nest/testing';
import { OnDisabled, OnEnabled, OnInstalled, OnUninstalled, queryStringHash, TENANT_STORE, type ConnectLifecycleEvent, type TenantStore } from 'atlassian-connect-nest';
import { FIXTURE_CONFLUENCE_KEY, FIXTURE_JIRA_KEY } from './fixtures/two-product-app.js';
import { FIXTURE_HOST_PATTERNS, startFixtureApp, type RunningApp } from './support/fixture-app.js';
import { customLifecycleCall, expectConnectError, expectRefused, expectServed, nowSeconds, storedTenant, whoami, type StoredTenant } from './support/lifecycle-kit.js';

// jest.config.js sets testTimeout per project, which jest ignores (it reads only the global option).
jest.setTimeout(60_000);

let ex: RunningApp;
let host: FakeConnectHost;
let jira: FakeHostApp;
let confluence: FakeHostApp;

beforeAll(async () => {
  // The first install's site has a custom domain (its displayUrl), which the app lists.
  ex = await startFixtureApp({ allowedHostPatterns: [...FIXTURE_HOST_PATTERNS, 'jira.customer.example'] });
  ({ host, jira, confluence } = ex);
});

afterAll(async () => {
  await ex?.close();
});

afterEach(async () => {
  // A failed test must not leave the key server broken for the next one.
  host.keyServer.reset();
  await host.keyServer.up();
});

const stored = (site: FakeSite, app: FakeHostApp = jira) => storedTenant(ex, app, site.clientKey);

/** Installs a new site (or re-installs) and checks it worked. */
async function installed(site: FakeSite, app: FakeHostApp = jira, options?: LifecycleCallOptions): Promise<StoredTenant> {
  expect204(await host.install(app, site, options));
  const row = await stored(site, app);
  expect(row).not.toBeNull();
  return row as StoredTenant;
}

function expect204(response: { status: number; text: string }): void {
  expect({ status: response.status, body: response.text }).toEqual({ status: 204, body: '' });
}

describe('first install', () => {
  it('answers 204, stores every field of the payload, and the site can then call the app', async () => {
    const site = host.newSite('jira');
    await expectRefused(host, jira, site, 'jwt/unknown-iss');

    const response = await host.install(jira, site, {
      payload: {
        displayUrl: 'https://jira.customer.example/',
        description: 'Atlassian JIRA at a customer',
        serviceEntitlementNumber: 'SEN-1234567',
        entitlementId: 'e0a3c0b5-8d5d-4d7a-9d5d-1a2b3c4d5e6f',
        entitlementNumber: 'E-111-222-333',
      },
    });
    expect204(response);

    const row = await stored(site);
    expect(row).toEqual({
      appKey: FIXTURE_JIRA_KEY,
      clientKey: site.clientKey,
      sharedSecret: site.sharedSecret,
      baseUrl: site.baseUrl,
      displayUrl: 'https://jira.customer.example',
      productType: 'jira',
      description: 'Atlassian JIRA at a customer',
      serviceEntitlementNumber: 'SEN-1234567',
      entitlementId: 'e0a3c0b5-8d5d-4d7a-9d5d-1a2b3c4d5e6f',
      entitlementNumber: 'E-111-222-333',
      oauthClientId: site.oauthClientId,
      installationId: site.installationId,
      enabled: true,
      installedAt: expect.any(Date),
      uninstalledAt: null,
      createdAt: expect.any(Date),
      updatedAt: expect.any(Date),
    });
    // The framework's own (cached) store agrees with the database.
    const viaApp = await ex.app.get<TenantStore>(TENANT_STORE).find(FIXTURE_JIRA_KEY, site.clientKey);
    expect(viaApp).toEqual(row);

    await expectServed(host, jira, site);
    const asUser = await whoami(host, jira, site, 'user-42');
    expect(asUser.body).toEqual({ clientKey: site.clientKey, accountId: 'user-42', productType: 'jira' });
  });

  it('stores the optional fields as null when the payload leaves them out, and strips a trailing slash of baseUrl', async () => {
    const site = host.newSite('jira');
    const row = await installed(site, jira, {
      payload: {
        baseUrl: `${site.baseUrl}/`,
        displayUrl: undefined,
        displayUrlServicedeskHelpCenter: undefined,
        description: undefined,
        serviceEntitlementNumber: undefined,
        entitlementId: undefined,
        entitlementNumber: undefined,
        oauthClientId: undefined,
        installationId: undefined,
        eventType: undefined,
      },
    });
    expect(row).toMatchObject({
      baseUrl: site.baseUrl,
      displayUrl: null,
      description: null,
      serviceEntitlementNumber: null,
      entitlementId: null,
      entitlementNumber: null,
      oauthClientId: null,
      installationId: null,
      enabled: true,
      uninstalledAt: null,
    });
    await expectServed(host, jira, site);
  });

  it('accepts an aud with a trailing slash and an aud list that contains the baseUrl', async () => {
    const one = host.newSite('jira');
    await installed(one, jira, { claims: { aud: `${jira.baseUrl}/` } });
    const two = host.newSite('jira');
    await installed(two, jira, { claims: { aud: ['https://other.example.test/app', jira.baseUrl] } });
    await expectServed(host, jira, one);
    await expectServed(host, jira, two);
  });

  it('accepts the token in the jwt query parameter (tokenInQuery)', async () => {
    const site = host.newSite('jira');
    await installed(site, jira, { tokenInQuery: true });
    await expectServed(host, jira, site);
    // …and refuses a context token there just as in the header.
    const other = host.newSite('jira');
    expectConnectError(await host.install(jira, other, { tokenInQuery: true, claims: { qsh: 'context-qsh' } }), 401, 'jwt/invalid-qsh', FIXTURE_JIRA_KEY);
    expect(await stored(other)).toBeNull();
  });
});

describe('signed re-install', () => {
  it('rotates the secret: the old one is refused (jwt/invalid-signature), the new one works', async () => {
    const site = host.newSite('jira');
    const first = await installed(site);
    const rotated = host.rotateSecret(site);
    const second = await installed(rotated);

    expect(second.sharedSecret).toBe(rotated.sharedSecret);
    expect(second.createdAt).toEqual(first.createdAt);
    expect(second.updatedAt.getTime()).toBeGreaterThanOrEqual(first.updatedAt.getTime());
    await expectRefused(host, jira, site, 'jwt/invalid-signature');
    await expectServed(host, jira, rotated);
  });

  it('stores a new baseUrl (site rename) and keeps one row per clientKey', async () => {
    const site = host.newSite('jira');
    await installed(site);
    const renamed: FakeSite = { ...site, baseUrl: 'https://renamed-' + site.clientKey.slice(0, 8) + '.atlassian.net' };
    const row = await installed(renamed);
    expect(row.baseUrl).toBe(renamed.baseUrl);
    expect(row.displayUrl).toBe(renamed.baseUrl);
    await expectServed(host, jira, renamed);
  });

  it('concurrent installs of one clientKey (product retries) all succeed and leave one consistent row', async () => {
    const site = host.newSite('jira');
    const attempts = Array.from({ length: 6 }, () => host.rotateSecret(site));
    const responses = await Promise.all(attempts.map((attempt) => host.install(jira, attempt)));
    for (const response of responses) expect204(response);
    const row = await stored(site);
    const winner = attempts.find((attempt) => attempt.sharedSecret === row?.sharedSecret);
    expect(winner).toBeDefined();
    // The app serves exactly the stored secret (its cache did not keep a losing one).
    await expectServed(host, jira, winner as FakeSite);
    for (const loser of attempts.filter((attempt) => attempt !== winner)) await expectRefused(host, jira, loser, 'jwt/invalid-signature');
  });

  it('a site import (new clientKey for a known baseUrl) makes a second, independent tenant', async () => {
    const original = host.newSite('jira');
    await installed(original);
    const imported = host.newSite('jira', { baseUrl: original.baseUrl });
    await installed(imported);
    await expectServed(host, jira, original);
    await expectServed(host, jira, imported);
    expect204(await host.uninstall(jira, original));
    await expectRefused(host, jira, original, 'jwt/tenant-inactive');
    await expectServed(host, jira, imported);
  });

  it('is idempotent: the same install twice leaves one active row', async () => {
    const site = host.newSite('jira');
    await installed(site);
    const again = await installed(site);
    expect(again).toMatchObject({ sharedSecret: site.sharedSecret, enabled: true, uninstalledAt: null });
    await expectServed(host, jira, site);
  });
});

/**
 * One refused install, twice: as a re-install (rotated secret) of an existing tenant, which must stay
 * exactly as it was, and as the first install of a new clientKey, which must create no row.
 */
async function expectRefusedInstall(options: (target: FakeSite) => LifecycleCallOptions | Promise<LifecycleCallOptions>, status: number, type: string): Promise<void> {
  const site = host.newSite('jira');
  const before = await installed(site);
  const rotated = host.rotateSecret(site);
  expectConnectError(await host.install(jira, rotated, await options(rotated)), status, type, FIXTURE_JIRA_KEY);
  expect(await stored(site)).toEqual(before);
  await expectServed(host, jira, site);
  await expectRefused(host, jira, rotated, 'jwt/invalid-signature');

  const fresh = host.newSite('jira');
  expectConnectError(await host.install(jira, fresh, await options(fresh)), status, type, FIXTURE_JIRA_KEY);
  expect(await stored(fresh)).toBeNull();
  await expectRefused(host, jira, fresh, 'jwt/unknown-iss');
}

describe('refused installs leave the tenant as it was and create nothing', () => {
  it.each<[string, (site: FakeSite) => LifecycleCallOptions, string]>([
    ['no token', () => ({ signing: 'omit' }), 'jwt/missing'],
    ['an HS256 token signed with the secret of the payload', () => ({ signing: 'HS256' }), 'jwt/unsupported-alg'],
    ['alg none', () => ({ signing: 'none' }), 'jwt/unsupported-alg'],
    ['a context token (qsh context-qsh)', () => ({ claims: { qsh: 'context-qsh' } }), 'jwt/invalid-qsh'],
    ['the qsh of another request (POST /uninstalled)', () => ({ claims: { qsh: hashOf('POST', '/jira/uninstalled') } }), 'jwt/invalid-qsh'],
    ['the qsh of GET /installed', () => ({ claims: { qsh: hashOf('GET', '/jira/installed') } }), 'jwt/invalid-qsh'],
    ['no qsh', () => ({ claims: { qsh: undefined } }), 'jwt/invalid-qsh'],
    ['aud = the Confluence app of the same process', () => ({ claims: { aud: confluence.baseUrl } }), 'jwt/invalid-aud'],
    ['aud = the origin only (a prefix of the baseUrl)', () => ({ claims: { aud: new URL(jira.baseUrl).origin } }), 'jwt/invalid-aud'],
    ['aud = the baseUrl with another path that starts alike', () => ({ claims: { aud: `${jira.baseUrl}x` } }), 'jwt/invalid-aud'],
    ['no aud', () => ({ claims: { aud: undefined } }), 'jwt/invalid-aud'],
    ['iss is not the clientKey of the payload', () => ({ claims: { iss: 'another-client-key' } }), 'jwt/iss-mismatch'],
    ['payload clientKey of another site than iss', () => ({ payload: { clientKey: 'another-client-key' } }), 'jwt/iss-mismatch'],
    ['an expired token', () => ({ claims: { iat: nowSeconds() - 600, exp: nowSeconds() - 120 } }), 'jwt/expired'],
    ['no exp', () => ({ claims: { exp: undefined } }), 'jwt/malformed'],
    ['nbf 2 minutes in the future', () => ({ claims: { nbf: nowSeconds() + 120 } }), 'jwt/not-yet-valid'],
    ['iat 2 minutes in the future', () => ({ claims: { iat: nowSeconds() + 120, exp: nowSeconds() + 300 } }), 'jwt/not-yet-valid'],
  ])('401 for %s', async (_name, options, type) => {
    await expectRefusedInstall(options, 401, type);
  });

  it('401 jwt/unsupported-alg for an HS256 install signed with the STORED secret (the pre-signed-install flow)', async () => {
    const site = host.newSite('jira');
    const before = await installed(site);
    const rotated = host.rotateSecret(site);
    const response = await customLifecycleCall(host, jira, rotated, 'installed', {
      header: { alg: 'HS256', typ: 'JWT' },
      key: createSecretKey(Buffer.from(site.sharedSecret, 'utf8')),
    });
    expectConnectError(response, 401, 'jwt/unsupported-alg', FIXTURE_JIRA_KEY);
    expect(await stored(site)).toEqual(before);
    await expectServed(host, jira, site);
  });

  it('passes when nbf and iat are in the future but within the 30 s leeway, and exp just past within it', async () => {
    const a = host.newSite('jira');
    await installed(a, jira, { claims: { nbf: nowSeconds() + 20 } });
    const b = host.newSite('jira');
    await installed(b, jira, { claims: { iat: nowSeconds() + 20 } });
    const c = host.newSite('jira');
    await installed(c, jira, { claims: { iat: nowSeconds() - 300, exp: nowSeconds() - 10 } });
    for (const site of [a, b, c]) await expectServed(host, jira, site);
  });

  it('401 jwt/invalid-kid for a key pair whose kid the key server does not know (it answers 404)', async () => {
    const stranger = await createInstallKeyPair();
    await expectRefusedInstall(() => ({ keyPair: stranger }), 401, 'jwt/invalid-kid');
    expect(host.keyServer.requests(stranger.kid)).toBeGreaterThan(0);
  });

  it('401 jwt/invalid-signature for a signature by another key under the served kid', async () => {
    const forger = await createInstallKeyPair();
    await expectRefusedInstall(() => ({ keyPair: forger, kid: host.kid }), 401, 'jwt/invalid-signature');
  });

  it.each(['../x', 'a/b', 'a%2Fb', 'http://evil.example/k', '', '..', 'a b', 'a?b', 'a#b', 'x'.repeat(129)])(
    '401 jwt/invalid-kid for kid %j and nothing reaches the key server',
    async (kid) => {
      host.keyServer.resetRequests();
      await expectRefusedInstall(() => ({ kid }), 401, 'jwt/invalid-kid');
      expect(host.keyServer.requests()).toBe(0);
    },
  );

  it.each<[string, Record<string, unknown>]>([
    ['no kid', {}],
    ['a numeric kid', { kid: 42 }],
    ['an object kid', { kid: { id: 'x' } }],
  ])('401 jwt/invalid-kid for %s and nothing reaches the key server', async (_name, kidHeader) => {
    // A key pair the key server does serve, so the token would be good but for the header.
    const pair = await servedKeyPair();
    host.keyServer.resetRequests();
    const send = (site: FakeSite) => customLifecycleCall(host, jira, site, 'installed', { header: { alg: 'RS256', typ: 'JWT', ...kidHeader }, key: pair.privateKey });
    const site = host.newSite('jira');
    const before = await installed(site);
    host.keyServer.resetRequests();
    expectConnectError(await send(host.rotateSecret(site)), 401, 'jwt/invalid-kid', FIXTURE_JIRA_KEY);
    expect(await stored(site)).toEqual(before);
    const fresh = host.newSite('jira');
    expectConnectError(await send(fresh), 401, 'jwt/invalid-kid', FIXTURE_JIRA_KEY);
    expect(await stored(fresh)).toBeNull();
    expect(host.keyServer.requests()).toBe(0);
    // The same token with the kid goes through: the header was the only fault.
    const ok = host.newSite('jira');
    expect204(await customLifecycleCall(host, jira, ok, 'installed', { header: { alg: 'RS256', typ: 'JWT', kid: pair.kid }, key: pair.privateKey }));
    await expectServed(host, jira, ok);
  });
});

describe('install key server', () => {
  it('down: 503 jwt/key-unavailable with Retry-After and nothing stored; back up: the install works', async () => {
    await host.rotateKey(); // a kid the app has not cached yet
    const existing = host.newSite('jira');
    await host.keyServer.down();
    try {
      const fresh = host.newSite('jira');
      expectConnectError(await host.install(jira, fresh), 503, 'jwt/key-unavailable', FIXTURE_JIRA_KEY);
      expect(await stored(fresh)).toBeNull();
      expectConnectError(await host.install(jira, existing), 503, 'jwt/key-unavailable', FIXTURE_JIRA_KEY);
      expect(await stored(existing)).toBeNull();
    } finally {
      await host.keyServer.up();
    }
    await installed(existing);
    await expectServed(host, jira, existing);
  });

  it('a 500 from the key host: 503 jwt/key-unavailable, and the failure is not cached', async () => {
    await host.rotateKey();
    const site = host.newSite('jira');
    host.keyServer.resetRequests();
    host.keyServer.failWith(500);
    expectConnectError(await host.install(jira, site), 503, 'jwt/key-unavailable', FIXTURE_JIRA_KEY);
    expectConnectError(await host.install(jira, site), 503, 'jwt/key-unavailable', FIXTURE_JIRA_KEY);
    expect(host.keyServer.requests(host.kid)).toBe(2);
    expect(await stored(site)).toBeNull();
    host.keyServer.failWith(null);
    await installed(site);
    expect(host.keyServer.requests(host.kid)).toBe(3);
    await expectServed(host, jira, site);
  });

  it('something that is not a PEM key (an HTML page): 503 jwt/key-unavailable, then recovers', async () => {
    await host.rotateKey();
    const site = host.newSite('jira');
    host.keyServer.respondWith({ status: 200, contentType: 'text/html', body: '<html><body>Login</body></html>' });
    expectConnectError(await host.install(jira, site), 503, 'jwt/key-unavailable', FIXTURE_JIRA_KEY);
    host.keyServer.respondWith(null);
    await installed(site);
  });

  it('a redirect from the key host is not followed: 503 jwt/key-unavailable, one request only', async () => {
    const target = await servedKeyPair();
    await host.rotateKey();
    const site = host.newSite('jira');
    host.keyServer.resetRequests();
    host.keyServer.respondWith({ status: 302, body: '', headers: { location: `${host.keyServer.url}/${target.kid}` } });
    expectConnectError(await host.install(jira, site), 503, 'jwt/key-unavailable', FIXTURE_JIRA_KEY);
    expect(host.keyServer.requests()).toBe(1);
    expect(host.keyServer.requests(target.kid)).toBe(0);
    expect(await stored(site)).toBeNull();
  });

  it('a key body far too large for a public key: 503 jwt/key-unavailable', async () => {
    await host.rotateKey();
    const site = host.newSite('jira');
    host.keyServer.respondWith({ status: 200, contentType: 'application/x-pem-file', body: 'A'.repeat(512 * 1024), chunked: true });
    expectConnectError(await host.install(jira, site), 503, 'jwt/key-unavailable', FIXTURE_JIRA_KEY);
    expect(await stored(site)).toBeNull();
  });

  it('a weak (1024-bit) RSA key served for the kid is refused: 401 jwt/invalid-key (a retry would bring the same key)', async () => {
    const weak = await createInstallKeyPair({ modulusLength: 1024 });
    host.keyServer.add(weak);
    const site = host.newSite('jira');
    // jose will not sign with a 1024-bit key; the key is refused before any signature check anyway.
    expectConnectError(await host.install(jira, site, { kid: weak.kid }), 401, 'jwt/invalid-key', FIXTURE_JIRA_KEY);
    expect(await stored(site)).toBeNull();
  });

  it('caches the key by kid: a second install with the same kid fetches nothing', async () => {
    await host.rotateKey();
    host.keyServer.resetRequests();
    await installed(host.newSite('jira'));
    expect(host.keyServer.requests(host.kid)).toBe(1);
    await installed(host.newSite('jira'));
    await host.uninstall(jira, host.newSite('jira'));
    expect(host.keyServer.requests()).toBe(1);
  });

  it('concurrent installs with a new kid share one fetch', async () => {
    await host.rotateKey();
    host.keyServer.resetRequests();
    host.keyServer.delay(200);
    const sites = Array.from({ length: 5 }, () => host.newSite('jira'));
    const responses = await Promise.all(sites.map((site) => host.install(jira, site)));
    for (const response of responses) expect204(response);
    expect(host.keyServer.requests()).toBe(1);
    for (const site of sites) await expectServed(host, jira, site);
  });

  it('after rotateKey() the new kid is fetched once, and the old kid still verifies from the cache', async () => {
    const old = await servedKeyPair();
    await installed(host.newSite('jira'), jira, { keyPair: old }); // cached now
    const fresh = await host.rotateKey();
    host.keyServer.resetRequests();
    await installed(host.newSite('jira'));
    await installed(host.newSite('jira'));
    expect(host.keyServer.requests(fresh.kid)).toBe(1);
    await installed(host.newSite('jira'), jira, { keyPair: old });
    expect(host.keyServer.requests()).toBe(1);
  });

  it('a kid the server learns later: 404 is not cached', async () => {
    const late = await createInstallKeyPair();
    const site = host.newSite('jira');
    expectConnectError(await host.install(jira, site, { keyPair: late }), 401, 'jwt/invalid-kid', FIXTURE_JIRA_KEY);
    host.keyServer.add(late);
    await installed(site, jira, { keyPair: late });
  });
});

/** A 400 lifecycle/invalid-payload that changes nothing, for an existing tenant and for a new one. */
async function expectInvalidPayload(payload: (site: FakeSite) => Record<string, unknown>): Promise<void> {
  const site = host.newSite('jira');
  const before = await installed(site);
  const rotated = host.rotateSecret(site);
  expectConnectError(await host.install(jira, rotated, { payload: payload(rotated) }), 400, 'lifecycle/invalid-payload', FIXTURE_JIRA_KEY);
  expect(await stored(site)).toEqual(before);
  await expectServed(host, jira, site);

  const fresh = host.newSite('jira');
  expectConnectError(await host.install(jira, fresh, { payload: payload(fresh) }), 400, 'lifecycle/invalid-payload', FIXTURE_JIRA_KEY);
  expect(await stored(fresh)).toBeNull();
}

describe('payload validation', () => {
  it.each<[string, (site: FakeSite) => Record<string, unknown>]>([
    ['key of another app (the Confluence app)', () => ({ key: FIXTURE_CONFLUENCE_KEY })],
    ['key of an unknown app', () => ({ key: 'com.evil.app' })],
    ['no key', () => ({ key: undefined })],
    ['productType confluence sent to the Jira app', () => ({ productType: 'confluence' })],
    ['productType missing', () => ({ productType: undefined })],
    ['no sharedSecret', () => ({ sharedSecret: undefined })],
    ['an empty sharedSecret', () => ({ sharedSecret: '' })],
    ['a sharedSecret that is not a string', () => ({ sharedSecret: 12345678 })],
    ['baseUrl that is not a URL', () => ({ baseUrl: 'not a url' })],
    ['baseUrl with a javascript: scheme', () => ({ baseUrl: 'javascript:alert(1)' })],
    ['no baseUrl', () => ({ baseUrl: undefined })],
    ['displayUrl that is not a URL', () => ({ displayUrl: '/relative/path' })],
    ['a description over 4096 characters', () => ({ description: 'd'.repeat(4097) })],
    ['an oauthClientId that is not a string', () => ({ oauthClientId: { id: 1 } })],
    ['eventType of another callback', () => ({ eventType: 'uninstalled' })],
  ])('400 for %s', async (_name, payload) => {
    await expectInvalidPayload(payload);
  });

  it('a missing clientKey is refused by the token check first: 401 jwt/iss-mismatch, nothing stored', async () => {
    // The token is verified before the body is trusted, so iss (the site) not matching the absent
    // payload clientKey is what surfaces.
    const site = host.newSite('jira');
    const before = await installed(site);
    const rotated = host.rotateSecret(site);
    expectConnectError(await host.install(jira, rotated, { payload: { clientKey: undefined } }), 401, 'jwt/iss-mismatch', FIXTURE_JIRA_KEY);
    expect(await stored(site)).toEqual(before);
    const fresh = host.newSite('jira');
    expectConnectError(await host.install(jira, fresh, { payload: { clientKey: undefined } }), 401, 'jwt/iss-mismatch', FIXTURE_JIRA_KEY);
    expect(await stored(fresh)).toBeNull();
  });

  it('a description of exactly 4096 characters is accepted', async () => {
    const site = host.newSite('jira');
    const row = await installed(site, jira, { payload: { description: 'd'.repeat(4096) } });
    expect(row.description).toHaveLength(4096);
  });

  it('accepts unknown and deprecated extra fields (and does not store them)', async () => {
    const site = host.newSite('jira');
    const row = await installed(site, jira, {
      payload: { publicKey: 'MIIBIjANBgkq…', serverVersion: '100123', pluginsVersion: '1001.0.0', someFutureField: { nested: [1, 2, 3] } },
    });
    expect(row).not.toHaveProperty('publicKey');
    expect(row).not.toHaveProperty('someFutureField');
    await expectServed(host, jira, site);
  });
});

describe('uninstalled', () => {
  it('signed uninstall: requests then get 401 jwt/tenant-inactive; the row is kept; a re-install brings it back', async () => {
    const site = host.newSite('jira');
    await installed(site);
    expect204(await host.uninstall(jira, site));
    await expectRefused(host, jira, site, 'jwt/tenant-inactive');
    const row = await stored(site);
    expect(row).toMatchObject({ sharedSecret: site.sharedSecret, enabled: true, uninstalledAt: expect.any(Date) });

    const rotated = host.rotateSecret(site);
    const back = await installed(rotated);
    expect(back).toMatchObject({ sharedSecret: rotated.sharedSecret, enabled: true, uninstalledAt: null });
    await expectServed(host, jira, rotated);
  });

  it('a repeated uninstall keeps the first timestamp', async () => {
    const site = host.newSite('jira');
    await installed(site);
    expect204(await host.uninstall(jira, site));
    const first = (await stored(site))?.uninstalledAt;
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect204(await host.uninstall(jira, site));
    expect((await stored(site))?.uninstalledAt).toEqual(first);
  });

  it('an HS256 uninstall is refused (jwt/unsupported-alg) and the tenant stays active', async () => {
    const site = host.newSite('jira');
    const before = await installed(site);
    expectConnectError(await host.uninstall(jira, site, { signing: 'HS256' }), 401, 'jwt/unsupported-alg', FIXTURE_JIRA_KEY);
    expect(await stored(site)).toEqual(before);
    await expectServed(host, jira, site);
  });

  it.each<[string, (site: FakeSite) => LifecycleCallOptions, string]>([
    ['a context token', () => ({ claims: { qsh: 'context-qsh' } }), 'jwt/invalid-qsh'],
    ['the qsh of /installed', () => ({ claims: { qsh: hashOf('POST', '/jira/installed') } }), 'jwt/invalid-qsh'],
    ['aud of the Confluence app', () => ({ claims: { aud: confluence.baseUrl } }), 'jwt/invalid-aud'],
    ['another site as iss', () => ({ claims: { iss: 'someone-else' } }), 'jwt/iss-mismatch'],
    ['an expired token', () => ({ claims: { exp: nowSeconds() - 120 } }), 'jwt/expired'],
    ['no token', () => ({ signing: 'omit' }), 'jwt/missing'],
  ])('refuses an uninstall with %s and the tenant stays active', async (_name, options, type) => {
    const site = host.newSite('jira');
    const before = await installed(site);
    expectConnectError(await host.uninstall(jira, site, options(site)), 401, type, FIXTURE_JIRA_KEY);
    expect(await stored(site)).toEqual(before);
    await expectServed(host, jira, site);
  });

  it('another site cannot uninstall a tenant: iss of site A with the clientKey of site B is refused', async () => {
    const victim = host.newSite('jira');
    const before = await installed(victim);
    const attacker = host.newSite('jira');
    await installed(attacker);
    expectConnectError(await host.uninstall(jira, attacker, { payload: { clientKey: victim.clientKey } }), 401, 'jwt/iss-mismatch', FIXTURE_JIRA_KEY);
    expect(await stored(victim)).toEqual(before);
    await expectServed(host, jira, victim);
  });

  it('an uninstall for an unknown clientKey answers 204 and creates nothing', async () => {
    const stranger = host.newSite('jira');
    expect204(await host.uninstall(jira, stranger));
    expect(await stored(stranger)).toBeNull();
    await expectRefused(host, jira, stranger, 'jwt/unknown-iss');
  });
});

/** A Connect-only install: the payload carries no Forge installationId. */
const connectOnly: LifecycleCallOptions = { payload: { installationId: undefined } };

describe('enabled / disabled', () => {
  it('disabled: requests get 401 jwt/tenant-inactive; enabled: 200 again', async () => {
    const site = host.newSite('jira');
    await installed(site);
    expect204(await host.disable(jira, site));
    expect(await stored(site)).toMatchObject({ enabled: false, uninstalledAt: null, sharedSecret: site.sharedSecret });
    await expectRefused(host, jira, site, 'jwt/tenant-inactive');
    // Repeated disable is harmless.
    expect204(await host.disable(jira, site));

    expect204(await host.enable(jira, site));
    expect(await stored(site)).toMatchObject({ enabled: true, uninstalledAt: null });
    await expectServed(host, jira, site);
  });

  it.each<[string, 'enable' | 'disable', (site: FakeSite) => LifecycleCallOptions, string]>([
    ['a context token on enabled', 'enable', () => ({ claims: { qsh: 'context-qsh' } }), 'jwt/invalid-qsh'],
    ['a context token on disabled', 'disable', () => ({ claims: { qsh: 'context-qsh' } }), 'jwt/invalid-qsh'],
    ['the qsh of /disabled on enabled', 'enable', () => ({ claims: { qsh: hashOf('POST', '/jira/disabled') } }), 'jwt/invalid-qsh'],
    ['the qsh of /enabled on disabled', 'disable', () => ({ claims: { qsh: hashOf('POST', '/jira/enabled') } }), 'jwt/invalid-qsh'],
    ['no qsh on disabled', 'disable', () => ({ claims: { qsh: undefined } }), 'jwt/invalid-qsh'],
    ['RS256 (signed-install style) on enabled', 'enable', () => ({ signing: 'RS256' }), 'jwt/unsupported-alg'],
    ['RS256 (signed-install style) on disabled', 'disable', () => ({ signing: 'RS256' }), 'jwt/unsupported-alg'],
    ['alg none on disabled', 'disable', () => ({ signing: 'none' }), 'jwt/unsupported-alg'],
    ['no token on disabled', 'disable', () => ({ signing: 'omit' }), 'jwt/missing'],
    ['an expired token on disabled', 'disable', () => ({ claims: { exp: nowSeconds() - 120 } }), 'jwt/expired'],
  ])('401 for %s, and the state is unchanged', async (_name, call, options, type) => {
    const site = host.newSite('jira');
    await installed(site);
    if (call === 'enable') expect204(await host.disable(jira, site));
    const before = await stored(site);
    expectConnectError(await host[call](jira, site, options(site)), 401, type, FIXTURE_JIRA_KEY);
    expect(await stored(site)).toEqual(before);
    if (call === 'enable') await expectRefused(host, jira, site, 'jwt/tenant-inactive');
    else await expectServed(host, jira, site);
  });

  it('a token signed with a secret the app does not have (401 jwt/invalid-signature) changes nothing', async () => {
    const site = host.newSite('jira');
    const before = await installed(site);
    expectConnectError(await host.disable(jira, host.rotateSecret(site)), 401, 'jwt/invalid-signature', FIXTURE_JIRA_KEY);
    expect(await stored(site)).toEqual(before);
  });

  it('another site cannot disable a tenant: iss of site A with the clientKey of site B is refused', async () => {
    const victim = host.newSite('jira');
    const before = await installed(victim);
    const attacker = host.newSite('jira');
    await installed(attacker);
    expectConnectError(await host.disable(jira, attacker, { payload: { clientKey: victim.clientKey } }), 401, 'jwt/iss-mismatch', FIXTURE_JIRA_KEY);
    expect(await stored(victim)).toEqual(before);
    expect(await stored(attacker)).toMatchObject({ enabled: true });
    await expectServed(host, jira, victim);
  });

  it('enabled/disabled for an unknown clientKey: 401 jwt/unknown-iss, nothing created', async () => {
    const stranger = host.newSite('jira');
    expectConnectError(await host.enable(jira, stranger), 401, 'jwt/unknown-iss', FIXTURE_JIRA_KEY);
    expectConnectError(await host.disable(jira, stranger), 401, 'jwt/unknown-iss', FIXTURE_JIRA_KEY);
    expect(await stored(stranger)).toBeNull();
  });

  it('a bad body on disabled: 400 lifecycle/invalid-payload, state unchanged', async () => {
    const site = host.newSite('jira');
    const before = await installed(site);
    expectConnectError(await host.disable(jira, site, { payload: { productType: 'confluence' } }), 400, 'lifecycle/invalid-payload', FIXTURE_JIRA_KEY);
    expectConnectError(await host.disable(jira, site, { payload: { key: FIXTURE_CONFLUENCE_KEY } }), 400, 'lifecycle/invalid-payload', FIXTURE_JIRA_KEY);
    expect(await stored(site)).toEqual(before);
  });

  it('disabled then uninstalled and uninstalled then disabled end in the same state; re-install + enable makes it active', async () => {
    const a = host.newSite('jira');
    const b = host.newSite('jira');
    await installed(a);
    await installed(b);

    expect204(await host.disable(jira, a));
    expect204(await host.uninstall(jira, a));
    expect204(await host.uninstall(jira, b));
    expect204(await host.disable(jira, b));

    const rowA = await stored(a);
    const rowB = await stored(b);
    expect(rowA).toMatchObject({ enabled: false, uninstalledAt: expect.any(Date) });
    expect(rowB).toMatchObject({ enabled: false, uninstalledAt: expect.any(Date) });
    await expectRefused(host, jira, a, 'jwt/tenant-inactive');
    await expectRefused(host, jira, b, 'jwt/tenant-inactive');

    for (const site of [a, b]) {
      const rotated = host.rotateSecret(site);
      await installed(rotated);
      expect204(await host.enable(jira, rotated));
      expect(await stored(rotated)).toMatchObject({ enabled: true, uninstalledAt: null, sharedSecret: rotated.sharedSecret });
      await expectServed(host, jira, rotated);
    }
  });

  it('Connect only: a re-install of a disabled tenant keeps it disabled until enabled', async () => {
    const site = host.newSite('jira');
    await installed(site, jira, connectOnly);
    expect204(await host.disable(jira, site));
    const rotated = host.rotateSecret(site);
    await installed(rotated, jira, connectOnly);
    expect(await stored(rotated)).toMatchObject({ enabled: false, installationId: null, sharedSecret: rotated.sharedSecret });
    await expectRefused(host, jira, rotated, 'jwt/tenant-inactive');
    expect204(await host.enable(jira, rotated));
    await expectServed(host, jira, rotated);
  });

  it('the Connect-on-Forge trap: disabled, then (switched to Forge) a signed installed with an installationId: requests are accepted without enabled', async () => {
    const site = host.newSite('jira');
    await installed(site, jira, connectOnly);
    expect(await stored(site)).toMatchObject({ installationId: null });
    expect204(await host.disable(jira, site));
    await expectRefused(host, jira, site, 'jwt/tenant-inactive');

    // After the switch the product sends installed (now with the Forge installationId) and never enabled.
    const onForge = host.rotateSecret(site);
    await installed(onForge);
    expect(await stored(onForge)).toMatchObject({ enabled: true, uninstalledAt: null, installationId: onForge.installationId });
    await expectServed(host, jira, onForge);
  });

  it('enabled after uninstalled does not resurrect the tenant', async () => {
    const site = host.newSite('jira');
    await installed(site);
    expect204(await host.uninstall(jira, site));
    expect204(await host.enable(jira, site));
    expect(await stored(site)).toMatchObject({ enabled: true, uninstalledAt: expect.any(Date) });
    await expectRefused(host, jira, site, 'jwt/tenant-inactive');
  });

  it('disabled and uninstalled sent at the same moment, in either order, end inactive', async () => {
    for (let round = 0; round < 3; round++) {
      const site = host.newSite('jira');
      await installed(site);
      const calls = round % 2 === 0 ? [host.disable(jira, site), host.uninstall(jira, site)] : [host.uninstall(jira, site), host.disable(jira, site)];
      for (const response of await Promise.all(calls)) expect204(response);
      expect(await stored(site)).toMatchObject({ enabled: false, uninstalledAt: expect.any(Date) });
      await expectRefused(host, jira, site, 'jwt/tenant-inactive');
    }
  });
});

describe('the Confluence app (baseUrl path /confluence)', () => {
  it('installs, serves requests, disables, enables and uninstalls like the Jira app', async () => {
    const site = host.newSite('confluence');
    expect(site.baseUrl).toMatch(/\/wiki$/);
    const row = await installed(site, confluence);
    expect(row).toMatchObject({ appKey: FIXTURE_CONFLUENCE_KEY, productType: 'confluence', baseUrl: site.baseUrl, sharedSecret: site.sharedSecret });
    await expectServed(host, confluence, site);
    // One app's tenant is not a tenant of the other app.
    await expectRefused(host, jira, site, 'jwt/unknown-iss');
    expect(await stored(site, jira)).toBeNull();

    expect204(await host.disable(confluence, site));
    await expectRefused(host, confluence, site, 'jwt/tenant-inactive');
    expect204(await host.enable(confluence, site));
    await expectServed(host, confluence, site);

    const rotated = host.rotateSecret(site);
    await installed(rotated, confluence);
    await expectRefused(host, confluence, site, 'jwt/invalid-signature');
    await expectServed(host, confluence, rotated);

    expect204(await host.uninstall(confluence, rotated));
    await expectRefused(host, confluence, rotated, 'jwt/tenant-inactive');
  });

  it('refuses a Jira site on the Confluence app (400) and creates no row in either app', async () => {
    const site = host.newSite('jira');
    expectConnectError(await host.install(confluence, site), 400, 'lifecycle/invalid-payload', FIXTURE_CONFLUENCE_KEY);
    expect(await stored(site, confluence)).toBeNull();
    expect(await stored(site, jira)).toBeNull();
  });

  it('refuses an install signed for the Jira app (aud) on the Confluence app', async () => {
    const site = host.newSite('confluence');
    expectConnectError(await host.install(confluence, site, { claims: { aud: jira.baseUrl } }), 401, 'jwt/invalid-aud', FIXTURE_CONFLUENCE_KEY);
    expect(await stored(site, confluence)).toBeNull();
  });

  it('refuses a context token on the Confluence installed callback', async () => {
    const site = host.newSite('confluence');
    expectConnectError(await host.install(confluence, site, { claims: { qsh: 'context-qsh' } }), 401, 'jwt/invalid-qsh', FIXTURE_CONFLUENCE_KEY);
    expect(await stored(site, confluence)).toBeNull();
  });
});

/** Test-only lifecycle hooks of the Jira app that throw for the events listed in `failing`. */
@Injectable()
class FailingHooks {
  readonly failing = new Set<string>();
  readonly seen: { event: string; clientKey: string; hadPrevious: boolean; inTransaction: boolean }[] = [];
  /** Whether any hook was handed a payload that still carried the shared secret. */
  sawSecret = false;

  @OnInstalled({ app: FIXTURE_JIRA_KEY })
  installed(event: ConnectLifecycleEvent): void {
    this.run(event);
  }

  @OnEnabled({ app: FIXTURE_JIRA_KEY })
  enabled(event: ConnectLifecycleEvent): void {
    this.run(event);
  }

  @OnDisabled({ app: FIXTURE_JIRA_KEY })
  disabled(event: ConnectLifecycleEvent): void {
    this.run(event);
  }

  @OnUninstalled({ app: FIXTURE_JIRA_KEY })
  uninstalled(event: ConnectLifecycleEvent): void {
    this.run(event);
  }

  private run(event: ConnectLifecycleEvent): void {
    if ('sharedSecret' in event.payload) this.sawSecret = true;
    this.seen.push({ event: event.event, clientKey: event.tenant.clientKey, hadPrevious: event.previous !== null, inTransaction: event.transaction !== undefined });
    if (this.failing.has(event.event)) throw new Error('onboarding service exploded: secret-detail-xyz');
  }
}

describe('failing lifecycle hooks', () => {
  let hooked: RunningApp;
  let hook: FailingHooks;

  beforeAll(async () => {
    const hookHost = await FakeConnectHost.start();
    hooked = await startFixtureApp({ host: hookHost, providers: [FailingHooks] });
    hook = hooked.app.get(FailingHooks);
  });

  afterAll(async () => {
    await hooked?.close();
    await hooked?.host.close();
  });

  afterEach(() => {
    hook.failing.clear();
  });

  const storedHere = (site: FakeSite, app: FakeHostApp) => storedTenant(hooked, app, site.clientKey);

  it('fails a re-install with 500 lifecycle/hook-failed and keeps the previous row (rotated secret not stored)', async () => {
    const h = hooked.host;
    const site = h.newSite('jira');
    expect204(await h.install(hooked.jira, site));
    expect(hook.seen.at(-1)).toEqual({ event: 'installed', clientKey: site.clientKey, hadPrevious: false, inTransaction: true });
    expect(hook.sawSecret).toBe(false); // hooks get the payload without the shared secret
    const before = await storedHere(site, hooked.jira);

    hook.failing.add('installed');
    const rotated = { ...h.rotateSecret(site), baseUrl: 'https://renamed-during-failure.atlassian.net' };
    const response = await h.install(hooked.jira, rotated);
    expectConnectError(response, 500, 'lifecycle/hook-failed', FIXTURE_JIRA_KEY);
    expect(response.text).not.toContain('secret-detail-xyz');
    expect(hook.seen.at(-1)).toEqual({ event: 'installed', clientKey: site.clientKey, hadPrevious: true, inTransaction: true });

    expect(await storedHere(site, hooked.jira)).toEqual(before);
    await expectServed(h, hooked.jira, site);
    await expectRefused(h, hooked.jira, rotated, 'jwt/invalid-signature');

    // The product retries once the app is healthy again.
    hook.failing.clear();
    expect204(await h.install(hooked.jira, rotated));
    expect(await storedHere(site, hooked.jira)).toMatchObject({ sharedSecret: rotated.sharedSecret, baseUrl: rotated.baseUrl });
    await expectServed(h, hooked.jira, rotated);
  });

  it('fails a first install and stores nothing', async () => {
    const h = hooked.host;
    const site = h.newSite('jira');
    hook.failing.add('installed');
    expectConnectError(await h.install(hooked.jira, site), 500, 'lifecycle/hook-failed', FIXTURE_JIRA_KEY);
    expect(await storedHere(site, hooked.jira)).toBeNull();
    await expectRefused(h, hooked.jira, site, 'jwt/unknown-iss');
  });

  it('fails a re-install of an uninstalled tenant and keeps it uninstalled', async () => {
    const h = hooked.host;
    const site = h.newSite('jira');
    expect204(await h.install(hooked.jira, site));
    expect204(await h.uninstall(hooked.jira, site));
    const before = await storedHere(site, hooked.jira);
    hook.failing.add('installed');
    expectConnectError(await h.install(hooked.jira, site), 500, 'lifecycle/hook-failed', FIXTURE_JIRA_KEY);
    expect(await storedHere(site, hooked.jira)).toEqual(before);
    await expectRefused(h, hooked.jira, site, 'jwt/tenant-inactive');
  });

  it('a failing @OnEnabled hook: 500 lifecycle/hook-failed and the tenant stays disabled', async () => {
    const h = hooked.host;
    const site = h.newSite('jira');
    expect204(await h.install(hooked.jira, site));
    expect204(await h.disable(hooked.jira, site));
    const before = await storedHere(site, hooked.jira);
    hook.failing.add('enabled');
    expectConnectError(await h.enable(hooked.jira, site), 500, 'lifecycle/hook-failed', FIXTURE_JIRA_KEY);
    expect(hook.seen.at(-1)).toMatchObject({ event: 'enabled', inTransaction: true });
    expect(await storedHere(site, hooked.jira)).toEqual(before);
    await expectRefused(h, hooked.jira, site, 'jwt/tenant-inactive');
    hook.failing.clear();
    expect204(await h.enable(hooked.jira, site));
    await expectServed(h, hooked.jira, site);
  });

  it('a failing @OnDisabled or @OnUninstalled hook answers 500 but the refusal of access is kept', async () => {
    const h = hooked.host;
    const site = h.newSite('jira');
    expect204(await h.install(hooked.jira, site));
    hook.failing.add('disabled');
    expectConnectError(await h.disable(hooked.jira, site), 500, 'lifecycle/hook-failed', FIXTURE_JIRA_KEY);
    expect(hook.seen.at(-1)).toMatchObject({ event: 'disabled', inTransaction: false });
    expect(await storedHere(site, hooked.jira)).toMatchObject({ enabled: false });
    await expectRefused(h, hooked.jira, site, 'jwt/tenant-inactive');

    const other = h.newSite('jira');
    expect204(await h.install(hooked.jira, other));
    hook.failing.add('uninstalled');
    expectConnectError(await h.uninstall(hooked.jira, other), 500, 'lifecycle/hook-failed', FIXTURE_JIRA_KEY);
    expect(hook.seen.at(-1)).toMatchObject({ event: 'uninstalled', inTransaction: false });
    expect(await storedHere(other, hooked.jira)).toMatchObject({ uninstalledAt: expect.any(Date) });
    await expectRefused(h, hooked.jira, other, 'jwt/tenant-inactive');
  });

  it('does not run for the Confluence app (hook filtered by app key)', async () => {
    const h = hooked.host;
    hook.failing.add('installed');
    const site = h.newSite('confluence');
    expect204(await h.install(hooked.confluence, site));
    await expectServed(h, hooked.confluence, site);
  });
});

/** The qsh of a request to the Jira app. */
function hashOf(method: string, path: string): string {
  return queryStringHash(method, path, jira.baseUrl);
}

/** A key pair the key server serves (the host's signing key is private to it). */
async function servedKeyPair(): Promise<InstallKeyPair> {
  const pair = await createInstallKeyPair();
  host.keyServer.add(pair);
  return pair;
}
