import { signConnectToken } from '../../testing/sign-connect-token.js';
import type { ResolvedConnectApp } from '../../config/resolved-connect-app.js';
import type { ConnectModuleOptions } from '../../config/connect-options.js';
import { resolveConnectOptions } from '../../config/resolve-connect-options.js';
import { ConnectError } from '../../errors/connect-error.js';
import { CachingTenantStore } from '../../tenants/caching-tenant-store.js';
import type { ConnectTenant } from '../../tenants/tenant.js';
import type { TenantStore } from '../../tenants/tenant-store.js';
import { ConnectTokenVerifier, type HsVerifyOptions } from './connect-token-verifier.js';

const APP = { key: 'com.example.recall', baseUrl: 'https://app.example.test/jira', basePath: '/jira' } as ResolvedConnectApp;
const REQUEST_BOUND: HsVerifyOptions = { allowContextQsh: false, allowInactiveTenant: false, remember: true };

function tenant(overrides: Partial<ConnectTenant> = {}): ConnectTenant {
  const now = new Date();
  return Object.freeze({
    appKey: APP.key,
    clientKey: 'client-1',
    sharedSecret: 'a-shared-secret-of-the-site-0123456789',
    baseUrl: 'https://site.atlassian.net',
    displayUrl: null,
    productType: 'jira',
    description: null,
    serviceEntitlementNumber: null,
    entitlementId: null,
    entitlementNumber: null,
    oauthClientId: null,
    installationId: null,
    enabled: true,
    installedAt: now,
    uninstalledAt: null,
    createdAt: now,
    updatedAt: now,
    ...overrides,
  });
}

/** A caching store over a one-row "database" whose row a test can swap. */
function storeWith(initial: ConnectTenant) {
  const state = { row: initial, reads: 0 };
  const inner = {
    find: (appKey: string, clientKey: string) => {
      state.reads++;
      return Promise.resolve(appKey === state.row.appKey && clientKey === state.row.clientKey ? state.row : null);
    },
  } as unknown as TenantStore;
  return { state, store: new CachingTenantStore(inner, { maxEntries: 100, ttlMs: 60_000 }) };
}

async function request(t: ConnectTenant, options: { url?: string; expiresIn?: number; context?: boolean } = {}) {
  const url = options.url ?? '/jira/api/whoami';
  const token = await signConnectToken({
    clientKey: t.clientKey,
    sharedSecret: t.sharedSecret,
    method: 'GET',
    url,
    appBaseUrl: APP.baseUrl,
    expiresIn: options.expiresIn ?? 60,
    ...(options.context && { qsh: 'context' }),
  });
  return { method: 'GET', rawUrl: url, token, authorization: `JWT ${token}` };
}

async function errorType(run: () => Promise<unknown>): Promise<string | undefined> {
  try {
    await run();
  } catch (error) {
    return error instanceof ConnectError ? error.code : String(error);
  }
  return undefined;
}

/** The options as the module resolves them, for one app (the others are the defaults). */
function resolved(options: Partial<ConnectModuleOptions> = {}) {
  return resolveConnectOptions({ apps: [{ product: 'jira', key: APP.key, baseUrl: APP.baseUrl, descriptor: {} }], ...options }, { nodeEnv: 'test' });
}

async function verifierOver(store: CachingTenantStore, options: Partial<ConnectModuleOptions> = {}): Promise<ConnectTokenVerifier> {
  return new ConnectTokenVerifier(store, await resolved(options));
}

describe('ConnectTokenVerifier: recalling verified requests', () => {
  it('recalls a request once it verified twice (counted), answering the very same context', async () => {
    const t = tenant();
    const { store, state } = storeWith(t);
    const verifier = await verifierOver(store);
    const incoming = await request(t);
    expect(verifier.recall(APP, incoming, false)).toBeUndefined(); // nothing verified yet
    await verifier.verify(APP, incoming, REQUEST_BOUND);
    expect(verifier.recall(APP, incoming, false)).toBeUndefined(); // seen once: not stored yet
    const verified = await verifier.verify(APP, incoming, REQUEST_BOUND);
    expect(verifier.recall(APP, { ...incoming }, false)).toBe(verified);
    expect(verifier.verifiedRequestCacheStats()).toEqual({ size: 1, hits: 1, misses: 2 });
    expect(state.reads).toBe(1);
  });

  it('does not remember unless asked, nor failures', async () => {
    const t = tenant();
    const { store } = storeWith(t);
    const verifier = await verifierOver(store);
    const incoming = await request(t);
    for (let i = 0; i < 2; i++) {
      await verifier.verify(APP, incoming, { ...REQUEST_BOUND, remember: false });
      await verifier.verify(APP, incoming, { ...REQUEST_BOUND, allowInactiveTenant: true }); // the enabled/disabled callbacks' mode
    }
    const tampered = { ...incoming, token: `${incoming.token.slice(0, -2)}AA`, authorization: `JWT ${incoming.token.slice(0, -2)}AA` };
    await expect(verifier.verify(APP, tampered, REQUEST_BOUND)).rejects.toMatchObject({ code: 'jwt/invalid-signature' });
    await expect(verifier.verify(APP, tampered, REQUEST_BOUND)).rejects.toMatchObject({ code: 'jwt/invalid-signature' });
    expect(verifier.verifiedRequestCacheStats()?.size).toBe(0);
  });

  it('stops recalling once the token expires (exp plus the leeway): the full check then says jwt/expired', async () => {
    const t = tenant();
    const { store } = storeWith(t);
    const verifier = await verifierOver(store, { leewaySeconds: 1 });
    const incoming = await request(t, { expiresIn: 1 });
    const exp = Math.floor(Date.now() / 1000) + 1;
    await verifier.verify(APP, incoming, REQUEST_BOUND);
    await verifier.verify(APP, incoming, REQUEST_BOUND);
    expect(verifier.recall(APP, incoming, false)).toBeDefined();
    while (Date.now() / 1000 < exp + 1) await new Promise((done) => setTimeout(done, 50));
    expect(verifier.recall(APP, incoming, false)).toBeUndefined();
    expect(await errorType(async () => verifier.verifyCached(APP, incoming, REQUEST_BOUND))).toBe('jwt/expired');
    expect(verifier.verifiedRequestCacheStats()?.size).toBe(0); // the stale entry is gone
  });

  it('stops recalling as soon as the tenant store holds another record (new secret, disabled) or none', async () => {
    const t = tenant();
    const { store, state } = storeWith(t);
    const verifier = await verifierOver(store);
    const incoming = await request(t);
    await verifier.verify(APP, incoming, REQUEST_BOUND);
    await verifier.verify(APP, incoming, REQUEST_BOUND);
    expect(verifier.recall(APP, incoming, false)).toBeDefined();

    // Another instance rotated the secret; this one hears of it (invalidate) and reads the new row.
    state.row = tenant({ sharedSecret: 'the-rotated-secret-of-the-site-987654321' });
    store.invalidate(APP.key, t.clientKey);
    expect(verifier.recall(APP, incoming, false)).toBeUndefined();
    await expect(verifier.verify(APP, incoming, REQUEST_BOUND)).rejects.toMatchObject({ code: 'jwt/invalid-signature' });

    // Back to the old secret but disabled: a new record, refused for its state.
    state.row = tenant({ enabled: false });
    store.invalidate(APP.key, t.clientKey);
    expect(verifier.recall(APP, incoming, false)).toBeUndefined();
    await expect(verifier.verify(APP, incoming, REQUEST_BOUND)).rejects.toMatchObject({ code: 'jwt/tenant-inactive' });

    state.row = tenant();
    store.invalidate(APP.key, t.clientKey);
    await verifier.verify(APP, incoming, REQUEST_BOUND); // seen before: stored again at once
    expect(verifier.recall(APP, incoming, false)).toBeDefined();
    store.clear();
    expect(verifier.recall(APP, incoming, false)).toBeUndefined(); // not in the tenant cache: not trusted
  });

  it('recalls a context token on other URLs of context routes only', async () => {
    const t = tenant();
    const { store } = storeWith(t);
    const verifier = await verifierOver(store);
    const incoming = await request(t, { url: '/jira/api/context/whoami', context: true });
    await verifier.verify(APP, incoming, { ...REQUEST_BOUND, allowContextQsh: true });
    await verifier.verify(APP, incoming, { ...REQUEST_BOUND, allowContextQsh: true });
    expect(verifier.recall(APP, { ...incoming, rawUrl: '/jira/api/context/items?page=2' }, true)).toBeDefined();
    expect(verifier.recall(APP, incoming, false)).toBeUndefined();
    expect(await errorType(async () => verifier.verifyCached(APP, incoming, REQUEST_BOUND))).toBe('jwt/invalid-qsh');
  });

  it('keeps at most maxEntries requests', async () => {
    const t = tenant();
    const { store } = storeWith(t);
    const verifier = await verifierOver(store, { verifiedRequestCache: { maxEntries: 2 } });
    for (let i = 0; i < 5; i++) {
      const incoming = await request(t, { url: `/jira/api/whoami?i=${i}` });
      await verifier.verify(APP, incoming, REQUEST_BOUND);
      await verifier.verify(APP, incoming, REQUEST_BOUND);
    }
    expect(verifier.verifiedRequestCacheStats()?.size).toBe(2);
  });

  it('is off with verifiedRequestCache: false', async () => {
    const t = tenant();
    const off = await verifierOver(storeWith(t).store, { verifiedRequestCache: false });
    const incoming = await request(t);
    await off.verify(APP, incoming, REQUEST_BOUND);
    await off.verify(APP, incoming, REQUEST_BOUND);
    expect(off.recall(APP, incoming, false)).toBeUndefined();
    expect(off.verifiedRequestCacheStats()).toBeUndefined();
  });

  it('refuses bounds that are not positive integers when the options are resolved (config/invalid)', async () => {
    const { store } = storeWith(tenant());
    expect(await errorType(() => verifierOver(store, { verifiedRequestCache: { maxEntries: 0 } }))).toBe('config/invalid');
    expect(await errorType(() => verifierOver(store, { verifiedRequestCache: { maxKeyLength: 2.5 } }))).toBe('config/invalid');
  });
});
