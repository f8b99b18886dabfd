import { CachingTenantStore } from './caching-tenant-store.js';
import type { ConnectTenant } from './tenant.js';
import type { TenantStore } from './tenant-store.js';

describe('CachingTenantStore.setBypass', () => {
  it('forgets everything, reads through and caches nothing while on; caches again once off', async () => {
    let lookups = 0;
    let release: (() => void) | undefined;
    const inner: TenantStore = {
      async find(appKey, clientKey) {
        lookups += 1;
        if (release === undefined && clientKey === 'slow') await new Promise<void>((done) => (release = done));
        return { appKey, clientKey } as unknown as ConnectTenant;
      },
      install: async (installation, work) => {
        const tenant = { appKey: installation.appKey, clientKey: installation.clientKey } as unknown as ConnectTenant;
        return { tenant, result: await work(tenant, { previous: null, transaction: undefined }) };
      },
      update: () => Promise.resolve(null),
      ping: () => Promise.resolve(),
    };
    const store = new CachingTenantStore(inner, { maxEntries: 10, ttlMs: 60_000 });
    await store.find('a', 'c');
    const slow = store.find('a', 'slow'); // in flight when the bypass starts: must not fill the cache
    expect(store.size).toBe(1);

    store.setBypass(true);
    expect(store.bypassed).toBe(true);
    expect(store.size).toBe(0);
    release?.();
    await slow;
    expect(store.size).toBe(0);
    await store.find('a', 'c');
    await store.find('a', 'c');
    await store.install({ appKey: 'a', clientKey: 'w' } as never, async () => undefined);
    expect(store.size).toBe(0);
    expect(lookups).toBe(4);

    store.setBypass(false);
    await store.find('a', 'c');
    await store.find('a', 'c');
    expect(lookups).toBe(5);
    expect(store.size).toBe(1);
  });
});
