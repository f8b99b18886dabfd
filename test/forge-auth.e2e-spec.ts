import { inspect } from 'node:util';
import { Controller, HttpCode, Post, type INestApplication } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { ConnectError, ConnectModule, ForgeAuth, ForgeContext, type ConnectAppOptions, type ConnectModuleOptions, type ForgeInvocationContext } from 'atlassian-connect-nest';
import {
  createForgeKeyPair,
  FakeForgeHost,
  httpCall,
  SAMPLE_FORGE_ACCOUNT_ID,
  signConnectToken,
  type HttpCallResponse,
  type MintInvocationTokenOptions,
} from 'atlassian-connect-nest/testing';
import { FIXTURE_CONFLUENCE_KEY, FIXTURE_JIRA_KEY, TwoProductAppModule } from './fixtures/two-product-app.js';
import { BootstrapLeakWatch } from './support/bootstrap-leaks.js';
import { createTestApp } from './support/http-adapter.js';
import { LogCapture } from './support/log-capture.js';
import { FIXTURE_PUBLIC_BASE_URL, startFixtureApp, type RunningApp } from './support/fixture-app.js';
import { expectRefused, expectServed, storedTenant } from './support/lifecycle-kit.js';

const JIRA_FORGE_APP_ID = '0b9f8a40-55a8-4c3e-9f1e-3d3b2c1a0f11';
const CONFLUENCE_FORGE_APP_ID = '7c1d2e3f-4a5b-4c6d-8e9f-a0b1c2d3e4f5';
const FOREIGN_FORGE_APP_ID = 'ffffffff-1111-4222-8333-444444444444';
/** Short, so the unknown-kid tests need not wait 30 s; long enough to tell "within the cooldown" apart. */
const COOLDOWN_MS = 1000;
const HELLO = '/forge/remote/hello';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function typeOf(response: HttpCallResponse): string | undefined {
  return (response.body as { type?: string }).type;
}

function expect401(response: HttpCallResponse, type: string): void {
  expect({ status: response.status, type: typeOf(response) }).toEqual({ status: 401, type });
  expect(typeof (response.body as { message?: unknown }).message).toBe('string');
  expect(response.headers['www-authenticate']).toBe('Bearer realm="forge"');
  expect(response.headers['cache-control']).toBe('no-store');
}

describe('@ForgeAuth() on the two-product fixture app (real JWKS server, real RSA keys)', () => {
  const logs = new LogCapture();
  /** Every FIT and OAuth token sent: none may ever show up in a log line. */
  const secrets: string[] = [];
  let forge: FakeForgeHost;
  let ex: RunningApp;

  const invoke = async (options: Parameters<FakeForgeHost['invoke']>[1] = {}) => {
    const fit = options.fit === undefined ? await forge.mintInvocationToken(options.token) : options.fit;
    if (fit !== null) secrets.push(fit);
    for (const token of [options.systemToken, options.userToken]) if (token !== undefined) secrets.push(token);
    return forge.invoke(`${ex.url}${HELLO}`, { ...options, fit });
  };

  beforeAll(async () => {
    forge = await FakeForgeHost.start({ appId: JIRA_FORGE_APP_ID });
    ex = await startFixtureApp({
      forgeAppIds: { jira: JIRA_FORGE_APP_ID, confluence: CONFLUENCE_FORGE_APP_ID },
      connect: { forge: { jwksUrl: forge.jwksUrl, jwksCooldownMs: COOLDOWN_MS } },
      logger: logs,
    });
  });
  afterAll(async () => {
    await ex?.close();
    await forge?.close();
  });

  it('answers 200 with the verified invocation for a valid FIT, fetching the JWKS once', async () => {
    expect(forge.jwks.fetches()).toBe(0);
    const response = await invoke({ systemToken: 'sys-token-1', userToken: 'user-token-1', body: { issueKey: 'X-1' } });
    expect(response.status).toBe(200);
    expect(response.body).toEqual({
      app: FIXTURE_JIRA_KEY,
      appId: JIRA_FORGE_APP_ID,
      installationId: forge.installationId,
      accountId: SAMPLE_FORGE_ACCOUNT_ID,
      environment: { type: 'DEVELOPMENT', id: forge.environmentId },
      module: { type: 'xen:macro', key: 'hello-remote' },
      tokens: { system: true, user: true },
      received: ['issueKey'],
    });
    expect(forge.jwks.fetches()).toBe(1);
    // Cached: a second call does not fetch again.
    expect((await invoke()).status).toBe(200);
    expect(forge.jwks.fetches()).toBe(1);
  });

  it('an app with forge.appId: a signed installed enables a tenant disabled before, even without an installationId in the payload', async () => {
    const site = ex.host.newSite('jira');
    const connectOnly = { payload: { installationId: undefined } };
    expect((await ex.host.install(ex.jira, site, connectOnly)).status).toBe(204);
    expect((await ex.host.disable(ex.jira, site)).status).toBe(204);
    await expectRefused(ex.host, ex.jira, site, 'jwt/tenant-inactive');
    const reinstalled = ex.host.rotateSecret(site);
    expect((await ex.host.install(ex.jira, reinstalled, connectOnly)).status).toBe(204);
    expect(await storedTenant(ex, ex.jira, site.clientKey)).toMatchObject({ enabled: true, installationId: null });
    await expectServed(ex.host, ex.jira, reinstalled);
  });

  it('@ForgeAuth({ requireLicense: true }): an active licence passes; an inactive one, or none in production, is 402 forge/unlicensed', async () => {
    const licensed = (token: MintInvocationTokenOptions) => forge.invoke(`${ex.url}/forge/remote/licensed`, { token });
    const active = await licensed({ license: { isActive: true, type: 'commercial', isEvaluation: false } });
    expect(active.status).toBe(200);
    expect(active.body).toEqual({ license: { isActive: true, type: 'commercial', isEvaluation: false }, cloudId: forge.cloudId, appVersion: '1.0.0' });
    // Forge sends no licence in development: allowed there.
    expect((await licensed({})).status).toBe(200);
    for (const token of [{ license: { isActive: false } }, { environment: { type: 'PRODUCTION' } }, { license: { isActive: false }, environment: { type: 'DEVELOPMENT' } }]) {
      const refused = await licensed(token);
      expect({ status: refused.status, type: (refused.body as { type?: string }).type }).toEqual({ status: 402, type: 'forge/unlicensed' });
    }
    // The route without the option does not look at the licence.
    expect((await invoke({ token: { license: { isActive: false } } })).status).toBe(200);
  });

  it('the audience picks the app: a FIT for the Confluence Forge app id is the Confluence app', async () => {
    const response = await invoke({ token: { appId: CONFLUENCE_FORGE_APP_ID, principal: null, module: null, environment: { type: 'PRODUCTION' } } });
    expect(response.status).toBe(200);
    expect(response.body).toMatchObject({
      app: FIXTURE_CONFLUENCE_KEY,
      appId: CONFLUENCE_FORGE_APP_ID,
      accountId: null,
      module: null,
      environment: { type: 'PRODUCTION' },
      tokens: { system: false, user: false },
    });
  });

  it('refuses a wrong aud (forge/invalid-aud) without touching the JWKS', async () => {
    const before = forge.jwks.fetches();
    expect401(await invoke({ token: { aud: ex.jira.baseUrl } }), 'forge/invalid-aud');
    expect401(await invoke({ token: { aud: [`ari:cloud:ecosystem::app/${JIRA_FORGE_APP_ID}`, `ari:cloud:ecosystem::app/${CONFLUENCE_FORGE_APP_ID}`] } }), 'forge/invalid-aud');
    // app.id must agree with aud.
    expect401(
      await invoke({
        token: {
          claims: { app: { id: `ari:cloud:ecosystem::app/${CONFLUENCE_FORGE_APP_ID}`, installationId: forge.installationId, apiBaseUrl: 'https://api.atlassian.com/ex/jira/x' } },
        },
      }),
      'forge/invalid-aud',
    );
    expect(forge.jwks.fetches()).toBe(before);
  });

  it('refuses a FIT for a Forge app id that is not configured (forge/unknown-app), without a JWKS fetch', async () => {
    const before = forge.jwks.fetches();
    expect401(await invoke({ token: { appId: FOREIGN_FORGE_APP_ID } }), 'forge/unknown-app');
    expect(forge.jwks.fetches()).toBe(before);
  });

  it('refuses a wrong iss (forge/invalid-iss)', async () => {
    expect401(await invoke({ token: { iss: 'forge/not-the-invocation-token' } }), 'forge/invalid-iss');
    expect401(await invoke({ token: { claims: { iss: undefined } } }), 'forge/invalid-iss');
  });

  it('refuses an expired FIT (beyond the 30 s leeway) and accepts one inside the leeway', async () => {
    expect401(await invoke({ token: { expiresIn: -60, issuedAt: -360, notBefore: -360 } }), 'forge/expired');
    expect((await invoke({ token: { expiresIn: -10, issuedAt: -300, notBefore: -300 } })).status).toBe(200);
  });

  it('refuses a FIT whose nbf or iat is in the future (forge/not-yet-valid)', async () => {
    expect401(await invoke({ token: { notBefore: 600, expiresIn: 900 } }), 'forge/not-yet-valid');
    expect401(await invoke({ token: { issuedAt: 600, notBefore: 0, expiresIn: 900 } }), 'forge/not-yet-valid');
  });

  it('refuses a FIT without exp, installationId or apiBaseUrl, or with an http apiBaseUrl', async () => {
    expect401(await invoke({ token: { claims: { exp: undefined } } }), 'forge/invalid-token');
    const app = (over: Record<string, unknown>) => ({
      id: `ari:cloud:ecosystem::app/${JIRA_FORGE_APP_ID}`,
      installationId: forge.installationId,
      apiBaseUrl: 'https://api.atlassian.com/ex/jira/x',
      ...over,
    });
    expect401(await invoke({ token: { claims: { app: app({ installationId: undefined }) } } }), 'forge/invalid-token');
    expect401(await invoke({ token: { claims: { app: app({ apiBaseUrl: undefined }) } } }), 'forge/invalid-token');
    expect401(await invoke({ token: { claims: { app: app({ apiBaseUrl: 'http://api.atlassian.com/ex/jira/x' }) } } }), 'forge/invalid-token');
  });

  it('refuses alg none and HS256, and an RS256 FIT signed by a key that is not the listed one', async () => {
    expect401(await invoke({ token: { alg: 'none' } }), 'forge/invalid-token');
    expect401(await invoke({ token: { alg: 'HS256' } }), 'forge/unsupported-alg');
    const impostor = await createForgeKeyPair();
    expect401(await invoke({ token: { keyPair: impostor, kid: forge.signingKey.kid } }), 'forge/invalid-token');
  });

  it('refuses a request without a FIT (forge/missing-token), also with the Connect JWT scheme', async () => {
    expect401(await invoke({ fit: null }), 'forge/missing-token');
    const fit = await forge.mintInvocationToken();
    secrets.push(fit);
    expect401(await forge.invoke(`${ex.url}${HELLO}`, { fit: null, headers: { authorization: `JWT ${fit}` } }), 'forge/missing-token');
    expect401(await invoke({ fit: 'not.a.token!' }), 'forge/invalid-token');
  });

  it('refuses a Connect JWT on the Forge route', async () => {
    const site = ex.host.newSite('jira');
    const connectJwt = await signConnectToken({ clientKey: site.clientKey, sharedSecret: site.sharedSecret, method: 'POST', url: HELLO });
    expect401(await invoke({ fit: connectJwt }), 'forge/unsupported-alg');
  });

  it('refuses a FIT on a @ConnectAuth() route', async () => {
    const fit = await forge.mintInvocationToken();
    secrets.push(fit);
    for (const authorization of [`Bearer ${fit}`, `JWT ${fit}`]) {
      const response = await httpCall({ method: 'GET', url: `${ex.url}/jira/api/whoami`, headers: { authorization } });
      expect(response.status).toBe(401);
      expect(typeOf(response)).toMatch(/^jwt\//);
    }
  });

  it('unknown kid: the JWKS is refetched once, then the token is refused; a rotated key is accepted after its refetch', async () => {
    await sleep(COOLDOWN_MS + 100);
    const unlisted = await createForgeKeyPair();
    const before = forge.jwks.fetches();
    expect401(await invoke({ token: { keyPair: unlisted } }), 'forge/unknown-kid');
    expect(forge.jwks.fetches()).toBe(before + 1);
    // Within the cooldown: refused again, without another fetch.
    expect401(await invoke({ token: { keyPair: unlisted } }), 'forge/unknown-kid');
    expect(forge.jwks.fetches()).toBe(before + 1);

    // Forge rotates: the new key (new kid) is published, and signs from now on.
    const rotated = await forge.rotateKey();
    await sleep(COOLDOWN_MS + 100);
    const response = await invoke();
    expect(response.status).toBe(200);
    expect(forge.jwks.fetches()).toBe(before + 2);
    expect((await invoke({ token: { kid: rotated.kid } })).status).toBe(200);
    expect(forge.jwks.fetches()).toBe(before + 2);
  });

  it('JWKS host down or failing: 503 with Retry-After when keys must be fetched; cached keys keep working', async () => {
    await forge.jwks.down();
    try {
      await sleep(COOLDOWN_MS + 100);
      const unlisted = await createForgeKeyPair();
      const down = await invoke({ token: { keyPair: unlisted } });
      expect({ status: down.status, type: typeOf(down) }).toEqual({ status: 503, type: 'forge/jwks-unavailable' });
      expect(down.headers['retry-after']).toBe('5');
      // The key already fetched still verifies while the host is down.
      expect((await invoke()).status).toBe(200);
    } finally {
      await forge.jwks.up();
    }
    for (const fault of [() => forge.jwks.failWith(500), () => forge.jwks.respondWith('<html>maintenance</html>'), () => forge.jwks.respondWith('{"keys":"nope"}')]) {
      fault();
      await sleep(COOLDOWN_MS + 100);
      const response = await invoke({ token: { keyPair: await createForgeKeyPair() } });
      expect({ status: response.status, type: typeOf(response) }).toEqual({ status: 503, type: 'forge/jwks-unavailable' });
      expect(response.headers['retry-after']).toBe('5');
      forge.jwks.reset();
    }
  });

  it('never logs a FIT or an OAuth token', () => {
    expect(secrets.length).toBeGreaterThan(20);
    // The refusals themselves are logged (so the capture does see this app's lines), the tokens are not.
    expect(logs.all).toContain('forge/unknown-kid');
    expect(logs.all).toContain('forge/jwks-unavailable');
    for (const secret of secrets) expect(logs.all).not.toContain(secret);
  });
});

/** A test-only Forge Remote route that shows what the decorators expose, pinned to the Jira app. */
@Controller('forge/test')
class ForgeEchoController {
  static last: ForgeInvocationContext | undefined;

  @Post('echo')
  @HttpCode(200)
  @ForgeAuth({ app: FIXTURE_JIRA_KEY })
  echo(@ForgeContext() forge: ForgeInvocationContext, @ForgeContext('installationId') installationId: string, @ForgeContext('systemToken') systemToken: string | undefined) {
    ForgeEchoController.last = forge;
    return {
      installationId,
      apiBaseUrl: forge.apiBaseUrl,
      context: forge.context,
      claimsJti: typeof forge.claims.jti,
      systemToken,
      userToken: forge.userToken ?? null,
    };
  }
}

describe('@ForgeContext() exposes the x-forge-oauth-* tokens, and keeps them out of serialisation', () => {
  let forge: FakeForgeHost;
  let app: INestApplication;
  let url: string;

  beforeAll(async () => {
    forge = await FakeForgeHost.start({ appId: JIRA_FORGE_APP_ID });
    const root = TwoProductAppModule.register({
      publicBaseUrl: FIXTURE_PUBLIC_BASE_URL,
      connect: { database: { embeddedDataDir: 'memory' }, forge: { jwksUrl: forge.jwksUrl } },
      forgeAppIds: { jira: JIRA_FORGE_APP_ID, confluence: CONFLUENCE_FORGE_APP_ID },
      controllers: [ForgeEchoController],
    });
    app = await createTestApp(root, { logger: false });
    await app.listen(0, '127.0.0.1');
    url = `http://127.0.0.1:${(app.getHttpServer().address() as { port: number }).port}`;
  });
  afterAll(async () => {
    await app?.close();
    await forge?.close();
  });

  it('a fresh app whose JWKS host is down answers 503 with Retry-After, and recovers once it is up', async () => {
    await forge.jwks.down();
    try {
      const response = await forge.invoke(`${url}/forge/test/echo`);
      expect({ status: response.status, type: typeOf(response) }).toEqual({ status: 503, type: 'forge/jwks-unavailable' });
      expect(response.headers['retry-after']).toBe('5');
    } finally {
      await forge.jwks.up();
    }
    expect((await forge.invoke(`${url}/forge/test/echo`)).status).toBe(200);
    expect(forge.jwks.fetches()).toBe(1);
  });

  it('gives the handler both tokens and the context claim; apiBaseUrl may be a local fake API', async () => {
    const apiBaseUrl = 'http://127.0.0.1:9/ex/jira/cloud-1';
    const response = await forge.invoke(`${url}/forge/test/echo`, {
      systemToken: 'system-oauth-abc',
      userToken: 'user-oauth-def',
      token: { apiBaseUrl, context: { cloudId: 'cloud-1', localId: 'macro-7' } },
    });
    expect(response.status).toBe(200);
    expect(response.body).toEqual({
      installationId: forge.installationId,
      apiBaseUrl,
      context: { cloudId: 'cloud-1', localId: 'macro-7' },
      claimsJti: 'string',
      systemToken: 'system-oauth-abc',
      userToken: 'user-oauth-def',
    });
    const context = ForgeEchoController.last!;
    expect(JSON.stringify(context)).not.toMatch(/oauth-abc|oauth-def/);
    expect(inspect(context, { depth: 5 })).not.toMatch(/oauth-abc|oauth-def/);
    expect({ ...context }).not.toHaveProperty('systemToken');
    expect(context.systemToken).toBe('system-oauth-abc');
  });

  it('a call without tokens gets undefined; a token header that is not one token is refused', async () => {
    const none = await forge.invoke(`${url}/forge/test/echo`);
    expect(none.body).toMatchObject({ userToken: null });
    expect(none.body).not.toHaveProperty('systemToken');
    const spaced = await forge.invoke(`${url}/forge/test/echo`, { systemToken: 'two words' });
    expect({ status: spaced.status, type: typeOf(spaced) }).toEqual({ status: 401, type: 'forge/invalid-token' });
  });

  it('a route pinned to the Jira app refuses a FIT for the Confluence Forge app', async () => {
    const response = await forge.invoke(`${url}/forge/test/echo`, { token: { appId: CONFLUENCE_FORGE_APP_ID } });
    expect({ status: response.status, type: typeOf(response) }).toEqual({ status: 401, type: 'forge/invalid-aud' });
    expect(response.headers['www-authenticate']).toBe(`Bearer realm="${FIXTURE_JIRA_KEY}"`);
  });
});

describe('bad Forge configuration fails at bootstrap with config/invalid, before a database is opened', () => {
  const watch = new BootstrapLeakWatch();
  beforeAll(() => {
    watch.install();
  });
  afterAll(() => {
    watch.restore();
  });

  const jira = (forge?: unknown): ConnectAppOptions => ({
    product: 'jira',
    key: 'com.test.jira',
    baseUrl: 'https://forge.example.com/jira',
    descriptor: { name: 'Forge test' },
    ...(forge !== undefined && { forge: forge as { appId: string } }),
  });
  const confluence = (forge?: unknown): ConnectAppOptions => ({
    ...jira(forge),
    product: 'confluence',
    key: 'com.test.confluence',
    baseUrl: 'https://forge.example.com/confluence',
  });

  it.each<[string, Partial<ConnectModuleOptions>, RegExp]>([
    ['a Forge app id that is not a UUID', { apps: [jira({ appId: 'my-forge-app' })] }, /has forge\.appId "my-forge-app"; use the Forge app's UUID/],
    ['a Forge app ARI instead of its id', { apps: [jira({ appId: `ari:cloud:ecosystem::app/${JIRA_FORGE_APP_ID}` })] }, /forge\.appId/],
    ['two apps with one Forge app id', { apps: [jira({ appId: JIRA_FORGE_APP_ID }), confluence({ appId: JIRA_FORGE_APP_ID })] }, /share the Forge app id/],
    ['a plain-http JWKS URL', { forge: { jwksUrl: 'http://forge.example.com/.well-known/jwks.json' } }, /must be https/],
    ['a JWKS URL with credentials', { forge: { jwksUrl: 'https://user:pw@forge.example.com/jwks.json' } }, /must not carry credentials/],
    ['a negative JWKS cooldown', { forge: { jwksCooldownMs: -1 } }, /jwksCooldownMs/],
    ['a leeway of an hour', { forge: { leewaySeconds: 3600 } }, /forge\.leewaySeconds/],
    [
      'an Isolated Cloud label with a slash',
      { forge: { isolatedCloudJwksUrls: { 'orange/x': 'https://forge.example.com/jwks.json' } } },
      /isolatedCloudJwksUrls has the label "orange\/x"/,
    ],
    [
      'a plain-http Isolated Cloud JWKS URL',
      { forge: { isolatedCloudJwksUrls: { orange: 'http://forge.example.com/jwks.json' } } },
      /isolatedCloudJwksUrls\.orange .* must be https/,
    ],
    ['a system token margin as long as its lifetime', { forge: { systemTokenLifetimeSeconds: 300, systemTokenSafetyMarginSeconds: 300 } }, /systemTokenSafetyMarginSeconds/],
  ])('refuses %s', async (_name, overrides, message) => {
    // The embedded engine would start if the options got past the check: the watch would see it.
    const options = { apps: [jira({ appId: JIRA_FORGE_APP_ID })], database: { embeddedDataDir: 'memory' }, ...overrides } as ConnectModuleOptions;
    let error: unknown;
    try {
      const moduleRef = await Test.createTestingModule({ imports: [ConnectModule.forRoot(options)] }).compile();
      await moduleRef.close();
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(ConnectError);
    expect(error).toMatchObject({ code: 'config/invalid', message: expect.stringMatching(message) });
    expect(await watch.leftRunning()).toEqual({ engines: 0, dataSources: 0 });
    expect(watch.started).toEqual({ engines: 0, dataSources: 0 });
  });
});
