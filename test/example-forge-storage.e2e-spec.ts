/**
 * The example app's per-installation settings in Forge hosted storage (`GET`/`PUT
 * /forge/remote/settings`, src/example/forge/forge-remote.controller.ts), against `FakeForgeStorage`,
 * on the suite's adapter and engine.
 */
import { randomUUID } from 'node:crypto';
import { FakeConnectHost, FakeForgeHost, FakeForgeStorage, type FakeApiSite } from 'atlassian-connect-nest/testing';
import { startExample, type RunningExample } from './support/example-app.js';

const FORGE_APP_ID = randomUUID();

describe('the example app’s settings in Forge hosted storage', () => {
  let host: FakeConnectHost;
  let forge: FakeForgeHost;
  let storage: FakeForgeStorage;
  let ex: RunningExample;
  let site: FakeApiSite;

  beforeAll(async () => {
    host = await FakeConnectHost.start();
    forge = await FakeForgeHost.start({ appId: FORGE_APP_ID });
    storage = await FakeForgeStorage.start();
    ex = await startExample({ forgeAppIdJira: FORGE_APP_ID, forgeJwksUrl: forge.jwksUrl, forgeStorageApiBaseUrl: storage.baseUrl, forgeSyncIntervalMs: 0 }, host);
    site = await host.startSite('jira');
    storage.trust(site.forge);
  });
  afterAll(async () => {
    await ex?.close();
    await host?.close();
    await forge?.close();
    await storage?.close();
  });

  const installation = () => {
    const installationId = `ari:cloud:ecosystem::installation/${randomUUID()}`;
    const tokens = site.forge.issueTokens({ installationId, appId: FORGE_APP_ID });
    return { installationId, tokens, token: { installationId, apiBaseUrl: tokens.apiBaseUrl } };
  };
  const call = (method: 'GET' | 'PUT', who: ReturnType<typeof installation>, body?: unknown, systemToken: string | null = who.tokens.systemToken) =>
    forge.invoke(`${ex.url}/forge/remote/settings`, { method, token: who.token, ...(systemToken !== null && { systemToken }), ...(body !== undefined && { body }) });

  it('each installation reads its defaults, saves its own settings, and never sees another’s', async () => {
    const first = installation();
    const second = installation();
    expect(await call('GET', first)).toMatchObject({ status: 200, body: { settings: { greeting: 'Hello', notify: false }, saved: false } });

    const put = await call('PUT', first, { greeting: 'Hej', notify: true });
    expect(put).toMatchObject({ status: 200, body: { installationId: first.installationId, settings: { greeting: 'Hej', notify: true }, saved: true } });
    expect(storage.valueOf(first.installationId, 'example:settings')).toEqual({ greeting: 'Hej', notify: true });
    expect(await call('GET', first)).toMatchObject({ status: 200, body: { settings: { greeting: 'Hej', notify: true }, saved: true } });
    expect(await call('GET', second)).toMatchObject({ status: 200, body: { saved: false } });
    expect(storage.requests.filter((r) => r.installationId === first.installationId).map((r) => r.operation)).toEqual(['v1/get', 'v1/set', 'v1/get']);
  });

  it('bad settings are a typed 400 and a call without the system token a typed 503; neither reaches storage', async () => {
    const who = installation();
    storage.reset();
    expect(await call('PUT', who, { greeting: '', notify: 'yes' })).toMatchObject({ status: 400, body: { type: 'storage/invalid-request' } });
    expect(await call('GET', who, undefined, null)).toMatchObject({ status: 503, body: { type: 'storage/token-missing' } });
    expect(storage.requests).toEqual([]);
  });

  it('a storage API that keeps answering 429 is a typed 429 after the retries', async () => {
    const who = installation();
    storage.reset();
    storage.failNext(10);
    const response = await call('GET', who);
    expect(response).toMatchObject({ status: 429, body: { type: 'storage/rate-limited' } });
    expect(storage.requests.length).toBeGreaterThan(1);
    storage.reset();
  });
});
