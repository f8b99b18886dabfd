import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { SignJWT, type JWTPayload } from 'jose';
import { canonicalRequest } from '../auth/jwt/canonical-request.js';
import { FakeAuthorizationServer, JWT_BEARER_GRANT_TYPE } from './fake-authorization-server.js';
import { FakeConnectHost, type FakeHostApp } from './fake-connect-host.js';
import { addonAccountId, FakeProductApi } from './fake-product-api.js';
import { httpCall, type HttpCallResponse } from './http-call.js';
import { signConnectToken, type SignConnectTokenOptions } from './sign-connect-token.js';

const APP_KEY = 'com.example.outbound';
const SECRET = 'the-shared-secret-of-the-installation-0123456789';
const OAUTH_CLIENT_ID = 'oauth-client-1';

const now = () => Math.floor(Date.now() / 1000);
const hs256 = (claims: JWTPayload, secret = SECRET) => new SignJWT(claims).setProtectedHeader({ alg: 'HS256', typ: 'JWT' }).sign(new TextEncoder().encode(secret));

/** An app JWT for a call to the site, signed with the framework's helper (iss = app key). */
function appToken(api: FakeProductApi, method: string, pathAndQuery: string, options: Partial<SignConnectTokenOptions> = {}): Promise<string> {
  return signConnectToken({ clientKey: APP_KEY, sharedSecret: SECRET, method, url: pathAndQuery, appBaseUrl: api.baseUrl, ...options });
}

async function call(
  api: FakeProductApi,
  method: string,
  pathAndQuery: string,
  token?: string,
  init: { body?: unknown; headers?: Record<string, string> } = {},
): Promise<HttpCallResponse> {
  const headers: Record<string, string> = { ...init.headers };
  if (token !== undefined) headers.authorization = `JWT ${token}`;
  return httpCall({ method, url: api.origin + pathAndQuery, headers, body: init.body });
}

async function signedCall(api: FakeProductApi, method: string, pathAndQuery: string, init: { body?: unknown } = {}): Promise<HttpCallResponse> {
  return call(api, method, pathAndQuery, await appToken(api, method, pathAndQuery), init);
}

function assertion(auth: FakeAuthorizationServer, siteBaseUrl: string, claims: JWTPayload = {}, secret = SECRET): Promise<string> {
  const t = now();
  return hs256(
    {
      iss: `urn:atlassian:connect:clientid:${OAUTH_CLIENT_ID}`,
      sub: 'urn:atlassian:connect:useraccountid:5b10ac8d82e05b22cc7d4ef5',
      tnt: siteBaseUrl,
      aud: auth.url,
      iat: t,
      exp: t + 60,
      ...claims,
    },
    secret,
  );
}

function requestToken(auth: FakeAuthorizationServer, assertionJwt: string, scope = 'READ WRITE', grantType = JWT_BEARER_GRANT_TYPE): Promise<HttpCallResponse> {
  const body = new URLSearchParams({ grant_type: grantType, assertion: assertionJwt, scope }).toString();
  return httpCall({ method: 'POST', url: auth.tokenUrl, headers: { 'content-type': 'application/x-www-form-urlencoded' }, body });
}

describe('FakeProductApi (Jira)', () => {
  let api: FakeProductApi;

  beforeAll(async () => {
    api = await FakeProductApi.start({ product: 'jira' });
    api.install({ appKey: APP_KEY, clientKey: 'client-1', sharedSecret: SECRET, oauthClientId: OAUTH_CLIENT_ID });
  });
  afterAll(async () => {
    await api.close();
  });
  beforeEach(() => {
    api.reset();
  });

  it('has its URL as the baseUrl and answers /myself as the app user for app JWTs', async () => {
    expect(api.baseUrl).toBe(api.origin);
    expect(api.baseUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    const response = await signedCall(api, 'GET', '/rest/api/3/myself');
    expect(response.status).toBe(200);
    expect(response.body).toMatchObject({ accountId: addonAccountId(APP_KEY), accountType: 'app' });
    expect(addonAccountId(APP_KEY)).toBe(`addon_${APP_KEY}`);
    const [entry] = api.requests;
    expect(entry).toMatchObject({ method: 'GET', path: '/rest/api/3/myself', query: '', status: 200, auth: 'jwt', appKey: APP_KEY, actingAs: addonAccountId(APP_KEY) });
    expect(entry!.headers.authorization).toBe('JWT …');
  });

  it('pages projects with startAt/maxResults (default 3 of 7)', async () => {
    const first = await signedCall(api, 'GET', '/rest/api/3/project/search');
    expect(first.body).toMatchObject({ startAt: 0, maxResults: 3, total: 7, isLast: false });
    expect((first.body as { values: { key: string }[] }).values.map((p) => p.key)).toEqual(['DEMO', 'OPS', 'WEB']);
    const last = await signedCall(api, 'GET', '/rest/api/3/project/search?startAt=6&maxResults=3');
    expect(last.body).toMatchObject({ startAt: 6, maxResults: 3, total: 7, isLast: true });
    expect((last.body as { values: unknown[] }).values).toHaveLength(1);
    expect((await signedCall(api, 'GET', '/rest/api/3/project/search?startAt=x')).status).toBe(400);
  });

  it('echoes method, body and query of any method', async () => {
    const response = await signedCall(api, 'PUT', '/rest/api/3/echo?a=1&b=two%20words', { body: { hello: 'world' } });
    expect(response.status).toBe(200);
    expect(response.body).toMatchObject({ method: 'PUT', path: '/rest/api/3/echo', query: { a: '1', b: 'two words' }, json: { hello: 'world' }, appKey: APP_KEY });
  });

  it('refuses a JWT in the query string, even a valid one', async () => {
    const token = await appToken(api, 'GET', '/rest/api/3/myself');
    const response = await call(api, 'GET', `/rest/api/3/myself?jwt=${token}`);
    expect(response.status).toBe(401);
    expect(typeof (response.body as { message: unknown }).message).toBe('string');
    expect(api.refusals.map((r) => r.reason)).toEqual(['jwt-in-query']);
  });

  it('binds the qsh to the product-relative path and query, and reports the canonical request', async () => {
    const token = await appToken(api, 'GET', '/rest/api/3/project/search?startAt=0');
    expect((await call(api, 'GET', '/rest/api/3/project/search?startAt=3', token)).status).toBe(401);
    expect((await call(api, 'POST', '/rest/api/3/project/search?startAt=0', token)).status).toBe(401);
    expect(api.refusals.map((r) => r.reason)).toEqual(['invalid-qsh', 'invalid-qsh']);
    expect(api.refusals[0]!.canonicalRequest).toBe('GET&/rest/api/3/project/search&startAt=3');
    expect(api.requests.map((r) => r.refusal)).toEqual(['invalid-qsh', 'invalid-qsh']);
  });

  it.each<[string, () => Promise<string | undefined>, string]>([
    ['no credentials', async () => undefined, 'missing-credentials'],
    ['a garbage token', async () => 'a.b.c', 'malformed'],
    ['an unknown app key', async () => appToken(api, 'GET', '/rest/api/3/myself', { clientKey: 'com.example.other' }), 'unknown-app'],
    ['the wrong secret', async () => appToken(api, 'GET', '/rest/api/3/myself', { sharedSecret: 'another-secret-another-secret-another' }), 'invalid-signature'],
    ['an expired token', async () => appToken(api, 'GET', '/rest/api/3/myself', { expiresIn: -120, issuedAtOffset: -300 }), 'expired'],
    ['a token without exp', async () => hs256({ iss: APP_KEY, iat: now(), qsh: 'x' }), 'missing-claim'],
    ['a token without qsh', async () => hs256({ iss: APP_KEY, iat: now(), exp: now() + 60 }), 'missing-claim'],
    ['a token valid for an hour', async () => appToken(api, 'GET', '/rest/api/3/myself', { expiresIn: 3600 }), 'lifetime-too-long'],
    ['a token issued in the future', async () => appToken(api, 'GET', '/rest/api/3/myself', { issuedAtOffset: 600, expiresIn: 700 }), 'issued-in-future'],
    ['a context token', async () => appToken(api, 'GET', '/rest/api/3/myself', { qsh: 'context' }), 'context-qsh'],
    [
      'HS512',
      async () => new SignJWT({ iss: APP_KEY, iat: now(), exp: now() + 60 }).setProtectedHeader({ alg: 'HS512' }).sign(new TextEncoder().encode(SECRET)),
      'unsupported-alg',
    ],
  ])('refuses %s with 401 and records why', async (_name, makeToken, reason) => {
    const response = await call(api, 'GET', '/rest/api/3/myself', await makeToken());
    expect(response.status).toBe(401);
    expect(response.body).toEqual({ message: expect.any(String) });
    expect(api.refusals).toHaveLength(1);
    expect(api.refusals[0]).toMatchObject({ method: 'GET', path: '/rest/api/3/myself', reason, message: expect.any(String) });
  });

  it('injects 429 with Retry-After seconds or date and X-RateLimit-Reset, then 503, then recovers', async () => {
    const reset = new Date(Date.now() + 5000);
    const date = new Date(Date.now() + 2000);
    api.failNext(1, { status: 429, retryAfter: 2 }).failNext(1, { status: 429, retryAfter: date, rateLimitReset: reset }).failNext(1, { status: 503 });
    const first = await signedCall(api, 'GET', '/rest/api/3/myself');
    expect([first.status, first.headers['retry-after']]).toEqual([429, '2']);
    const second = await signedCall(api, 'GET', '/rest/api/3/myself');
    expect([second.status, second.headers['retry-after'], second.headers['x-ratelimit-reset']]).toEqual([429, date.toUTCString(), reset.toISOString()]);
    const third = await signedCall(api, 'GET', '/rest/api/3/myself');
    expect([third.status, third.headers['retry-after']]).toEqual([503, undefined]);
    expect((await signedCall(api, 'GET', '/rest/api/3/myself')).status).toBe(200);
    expect(api.requests.map((r) => [r.status, r.injected ?? false])).toEqual([
      [429, true],
      [429, true],
      [503, true],
      [200, false],
    ]);
  });

  it('delays the next request', async () => {
    api.delayNext(150);
    const started = Date.now();
    expect((await signedCall(api, 'GET', '/rest/api/3/myself')).status).toBe(200);
    expect(Date.now() - started).toBeGreaterThanOrEqual(140);
    expect(api.requests[0]!.durationMs).toBeGreaterThanOrEqual(140);
    const again = Date.now();
    await signedCall(api, 'GET', '/rest/api/3/myself');
    expect(Date.now() - again).toBeLessThan(140);
  });

  it('reports each finished request to onRequest, with the refusal', async () => {
    const seen: string[] = [];
    const other = await FakeProductApi.start({
      product: 'jira',
      onRequest: (request, refusal) => seen.push(`${request.method} ${request.path} ${request.status} ${refusal?.reason ?? ''}`),
    });
    try {
      other.install({ appKey: APP_KEY, clientKey: 'c', sharedSecret: SECRET });
      other.route('GET', '/_custom', (_req, res) => void res.end('custom'));
      await signedCall(other, 'GET', '/rest/api/3/myself');
      await call(other, 'GET', '/rest/api/3/myself');
      expect((await httpCall({ method: 'GET', url: `${other.origin}/_custom` })).text).toBe('custom');
      expect(seen).toEqual(['GET /rest/api/3/myself 200 ', 'GET /rest/api/3/myself 401 missing-credentials']);
      expect(other.requests).toHaveLength(3);
    } finally {
      await other.close();
    }
  });

  it('forgets an app on uninstall', async () => {
    const other = await FakeProductApi.start({ product: 'jira' });
    try {
      other.install({ appKey: APP_KEY, clientKey: 'c', sharedSecret: SECRET });
      expect((await signedCall(other, 'GET', '/rest/api/3/myself')).status).toBe(200);
      expect(other.uninstall(APP_KEY)).toBe(true);
      expect((await signedCall(other, 'GET', '/rest/api/3/myself')).status).toBe(401);
      expect(other.refusals[0]!.reason).toBe('unknown-app');
    } finally {
      await other.close();
    }
  });
});

describe('FakeProductApi (Confluence)', () => {
  let api: FakeProductApi;

  beforeAll(async () => {
    api = await FakeProductApi.start({ product: 'confluence' });
    api.install({ appKey: APP_KEY, clientKey: 'client-1', sharedSecret: SECRET });
  });
  afterAll(async () => {
    await api.close();
  });
  beforeEach(() => {
    api.reset();
  });

  it('serves under /wiki and hashes the path without it', async () => {
    expect(api.baseUrl).toBe(`${api.origin}/wiki`);
    expect(canonicalRequest('GET', '/wiki/rest/api/space?limit=2', api.baseUrl)).toBe('GET&/rest/api/space&limit=2');
    expect((await signedCall(api, 'GET', '/wiki/rest/api/space?limit=2')).status).toBe(200);
    // A client that forgets to strip /wiki before hashing is refused.
    const unstripped = await appToken(api, 'GET', '/wiki/rest/api/space', { appBaseUrl: api.origin });
    expect((await call(api, 'GET', '/wiki/rest/api/space', unstripped)).status).toBe(401);
    expect(api.refusals[0]).toMatchObject({ reason: 'invalid-qsh', canonicalRequest: 'GET&/rest/api/space&' });
    expect((await signedCall(api, 'GET', '/rest/api/space')).status).toBe(404);
  });

  it('pages spaces with start/limit and a relative _links.next that a client can follow', async () => {
    const first = await signedCall(api, 'GET', '/wiki/rest/api/space');
    const body = first.body as { results: { key: string }[]; start: number; limit: number; size: number; _links: { next?: string; base: string; context: string } };
    expect(body).toMatchObject({ start: 0, limit: 3, size: 3 });
    expect(body._links).toMatchObject({ base: api.baseUrl, context: '/wiki', next: '/rest/api/space?start=3&limit=3' });
    const next = new URL(body._links.base + body._links.next!);
    const second = await signedCall(api, 'GET', next.pathname + next.search);
    expect(second.body).toMatchObject({ start: 3, limit: 3, size: 3 });
    const last = await signedCall(api, 'GET', '/wiki/rest/api/space?start=6&limit=3');
    expect(last.body).toMatchObject({ start: 6, size: 1 });
    expect((last.body as { _links: Record<string, unknown> })._links.next).toBeUndefined();
  });

  it('serves content by id, 404 for an unknown id, and the same API under the token-auth prefix', async () => {
    const page = await signedCall(api, 'GET', '/wiki/rest/api/content/98305?expand=body.storage');
    expect(page.body).toMatchObject({ id: '98305', type: 'page', title: 'Welcome to Confluence', space: { key: 'DS' }, body: { storage: { representation: 'storage' } } });
    const missing = await signedCall(api, 'GET', '/wiki/rest/api/content/1');
    expect([missing.status, (missing.body as { statusCode: number }).statusCode]).toEqual([404, 404]);
    const dc = await signedCall(api, 'GET', '/wiki/rest/token-auth/api/space?limit=2');
    expect(dc.body).toMatchObject({ size: 2, _links: { next: '/rest/token-auth/api/space?start=2&limit=2' } });
    expect((await signedCall(api, 'GET', '/wiki/rest/token-auth/api/content/98306')).status).toBe(200);
    const me = await signedCall(api, 'GET', '/wiki/rest/api/user/current');
    expect(me.body).toMatchObject({ accountId: addonAccountId(APP_KEY) });
  });

  it('answers 401 with statusCode and message', async () => {
    const response = await call(api, 'GET', '/wiki/rest/api/space');
    expect(response.status).toBe(401);
    expect(response.body).toEqual({ statusCode: 401, message: expect.any(String) });
  });
});

describe('FakeAuthorizationServer (JWT-bearer grant)', () => {
  let auth: FakeAuthorizationServer;
  let jira: FakeProductApi;
  let confluence: FakeProductApi;

  beforeAll(async () => {
    auth = await FakeAuthorizationServer.start({ expiresIn: 600 });
    jira = await FakeProductApi.start({ product: 'jira', authorizationServer: auth });
    confluence = await FakeProductApi.start({ product: 'confluence', authorizationServer: auth });
    jira.install({ appKey: APP_KEY, clientKey: 'c1', sharedSecret: SECRET, oauthClientId: OAUTH_CLIENT_ID });
    confluence.install({ appKey: APP_KEY, clientKey: 'c2', sharedSecret: SECRET, oauthClientId: OAUTH_CLIENT_ID });
  });
  afterAll(async () => {
    await jira.close();
    await confluence.close();
    await auth.close();
  });
  beforeEach(() => {
    auth.reset();
    jira.reset();
  });

  it('issues a Bearer token that acts as the asserted user on that site only', async () => {
    expect(jira.authorizationServerUrl).toBe(auth.url);
    const response = await requestToken(auth, await assertion(auth, jira.baseUrl));
    expect(response.status).toBe(200);
    const body = response.body as { access_token: string; expires_in: number; token_type: string; scope: string };
    expect(body).toMatchObject({ expires_in: 600, token_type: 'Bearer', scope: 'READ WRITE' });
    const me = await httpCall({ method: 'GET', url: `${jira.baseUrl}/rest/api/3/myself`, headers: { authorization: `Bearer ${body.access_token}` } });
    expect(me.body).toMatchObject({ accountId: '5b10ac8d82e05b22cc7d4ef5', accountType: 'atlassian' });
    expect(jira.requests[0]).toMatchObject({ auth: 'bearer', actingAs: '5b10ac8d82e05b22cc7d4ef5' });
    const elsewhere = await httpCall({ method: 'GET', url: `${confluence.baseUrl}/rest/api/user/current`, headers: { authorization: `Bearer ${body.access_token}` } });
    expect(elsewhere.status).toBe(401);
    expect(confluence.refusals.at(-1)!.reason).toBe('wrong-site');
    expect(auth.issuedCount).toBe(1);
    expect(auth.tokenRequests).toHaveLength(1);
    auth.expire(body.access_token);
    expect((await httpCall({ method: 'GET', url: `${jira.baseUrl}/rest/api/3/myself`, headers: { authorization: `Bearer ${body.access_token}` } })).status).toBe(401);
    expect(jira.refusals.at(-1)!.reason).toBe('expired-access-token');
  });

  it('verifies the assertion: secret, aud, tnt, iss, sub, exp at most 60 s ahead', async () => {
    const t = now();
    const cases: [Promise<string>, string][] = [
      [assertion(auth, jira.baseUrl, {}, 'not-the-secret-not-the-secret-not-the'), 'signature'],
      [assertion(auth, jira.baseUrl, { aud: 'https://oauth-2-authorization-server.services.atlassian.com' }), 'aud'],
      [assertion(auth, jira.baseUrl, { exp: t + 3600 }), '60 seconds'],
      [assertion(auth, jira.baseUrl, { exp: t - 60, iat: t - 120 }), 'expired'],
      [assertion(auth, jira.baseUrl, { sub: '5b10ac8d82e05b22cc7d4ef5' }), 'sub'],
      [assertion(auth, jira.baseUrl, { iss: OAUTH_CLIENT_ID }), 'iss'],
    ];
    for (const [jwt, problem] of cases) {
      const response = await requestToken(auth, await jwt);
      expect(response.status).toBe(400);
      expect((response.body as { error: string; error_description: string }).error).toBe('invalid_grant');
      expect((response.body as { error_description: string }).error_description).toContain(problem);
    }
    const unknownSite = await requestToken(auth, await assertion(auth, 'https://elsewhere.atlassian.net'));
    expect([unknownSite.status, (unknownSite.body as { error: string }).error]).toEqual([401, 'invalid_client']);
    const wrongGrant = await requestToken(auth, await assertion(auth, jira.baseUrl), 'READ', 'client_credentials');
    expect((wrongGrant.body as { error: string }).error).toBe('unsupported_grant_type');
    const noScope = await requestToken(auth, await assertion(auth, jira.baseUrl), '');
    expect((noScope.body as { error: string }).error).toBe('invalid_scope');
    expect(auth.issuedCount).toBe(0);
    expect(auth.tokenRequests.every((r) => r.refusal !== undefined)).toBe(true);
  });

  it('answers injected 401/403 and refuses apps without ACT_AS_USER', async () => {
    auth.failNext(1, { status: 401 });
    const first = await requestToken(auth, await assertion(auth, jira.baseUrl));
    expect([first.status, (first.body as { error: string }).error]).toEqual([401, 'invalid_client']);
    auth.respondWith({ status: 403, errorDescription: 'The app is not allowed to act as a user.' });
    expect((await requestToken(auth, await assertion(auth, jira.baseUrl))).status).toBe(403);
    auth.respondWith(null);
    expect((await requestToken(auth, await assertion(auth, jira.baseUrl))).status).toBe(200);

    jira.install({ appKey: APP_KEY, clientKey: 'c1', sharedSecret: SECRET, oauthClientId: OAUTH_CLIENT_ID, scopes: ['READ'] });
    const denied = await requestToken(auth, await assertion(auth, jira.baseUrl), 'READ');
    expect([denied.status, (denied.body as { error: string }).error]).toEqual([403, 'access_denied']);
    jira.install({ appKey: APP_KEY, clientKey: 'c1', sharedSecret: SECRET, oauthClientId: OAUTH_CLIENT_ID, scopes: ['WRITE', 'ACT_AS_USER'] });
    expect((await requestToken(auth, await assertion(auth, jira.baseUrl), 'READ WRITE')).status).toBe(200);
    const tooMuch = await requestToken(auth, await assertion(auth, jira.baseUrl), 'ADMIN');
    expect([tooMuch.status, (tooMuch.body as { error: string }).error]).toEqual([400, 'invalid_scope']);
    expect(auth.tokenRequests).toHaveLength(6);
  });
});

describe('FakeConnectHost.startSite', () => {
  let host: FakeConnectHost;
  let appServer: Server;
  let app: FakeHostApp;
  let nextStatus = 204;

  beforeAll(async () => {
    host = await FakeConnectHost.start();
    // An app that accepts every lifecycle call: this spec is about the host's bookkeeping, not the app.
    appServer = createServer((req, res) => {
      req.resume();
      req.on('end', () => {
        res.statusCode = nextStatus;
        res.end();
      });
    });
    await new Promise<void>((resolve) => appServer.listen(0, '127.0.0.1', resolve));
    app = { key: APP_KEY, product: 'confluence', baseUrl: 'https://app.example.test/confluence', via: `http://127.0.0.1:${(appServer.address() as AddressInfo).port}` };
  });
  afterAll(async () => {
    await host.close();
    await new Promise((resolve) => appServer.close(resolve));
  });

  it('starts its key server on a given port', async () => {
    const probe = createServer();
    await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
    const port = (probe.address() as AddressInfo).port;
    await new Promise((resolve) => probe.close(resolve));
    const other = await FakeConnectHost.start({ keysPort: port });
    try {
      expect(other.installKeysUrl).toBe(`http://127.0.0.1:${port}`);
      const key = await httpCall({ method: 'GET', url: `${other.installKeysUrl}/${other.kid}` });
      expect([key.status, key.text.startsWith('-----BEGIN PUBLIC KEY-----')]).toEqual([200, true]);
      await expect(FakeConnectHost.start({ keysPort: port })).rejects.toMatchObject({ code: 'EADDRINUSE' });
    } finally {
      await other.close();
    }
  });

  it('shares the secret with the site API once the app accepted the install, and follows rotation and uninstall', async () => {
    const site = await host.startSite('confluence');
    expect(site.baseUrl).toBe(`${site.api.origin}/wiki`);
    expect(host.apiOf(site)).toBe(site.api);
    expect(site.api.authorizationServerUrl).toBe(host.authorizationServerUrl);

    nextStatus = 500;
    expect((await host.install(app, site)).status).toBe(500);
    expect(site.api.installation(APP_KEY)).toBeUndefined();

    nextStatus = 204;
    expect((await host.install(app, site)).status).toBe(204);
    expect(site.api.installation(APP_KEY)).toMatchObject({ clientKey: site.clientKey, sharedSecret: site.sharedSecret, oauthClientId: site.oauthClientId });
    const token = (secret: string) => signConnectToken({ clientKey: APP_KEY, sharedSecret: secret, method: 'GET', url: '/wiki/rest/api/space', appBaseUrl: site.baseUrl });
    const get = async (secret: string) =>
      (await httpCall({ method: 'GET', url: `${site.baseUrl}/rest/api/space`, headers: { authorization: `JWT ${await token(secret)}` } })).status;
    expect(await get(site.sharedSecret)).toBe(200);

    const rotated = host.rotateSecret(site);
    expect(host.apiOf(rotated)).toBe(site.api);
    expect((await host.install(app, rotated)).status).toBe(204);
    expect(await get(rotated.sharedSecret)).toBe(200);
    expect(await get(site.sharedSecret)).toBe(401);

    expect((await host.uninstall(app, rotated)).status).toBe(204);
    expect(await get(rotated.sharedSecret)).toBe(401);
    expect(site.api.refusals.map((r) => r.reason)).toEqual(['invalid-signature', 'unknown-app']);
  });
});
