import type { ConnectTenant } from '../tenants/tenant.js';
import type { TenantStore } from '../tenants/tenant-store.js';
import { ConnectForgeLink } from './forge-tenant-link.js';
import type { DataSource } from 'typeorm';
import { ForgeInstallations } from './forge-installations.js';

/** No framework database (an app's own tenantStore): links come from the tenant store only. */
const noInstallations = new ForgeInstallations({ isInitialized: false } as DataSource);

const APP = 'com.example.jira';
const INSTALLATION = 'ari:cloud:ecosystem::installation/9d4c7a52-3a8e-4c2b-8f0e-5a1b2c3d4e5f';

function tenant(overrides: Partial<ConnectTenant> = {}): ConnectTenant {
  const at = new Date(0);
  return Object.freeze({
    appKey: APP,
    clientKey: 'client-1',
    sharedSecret: 's',
    baseUrl: 'https://site.atlassian.net',
    displayUrl: null,
    productType: 'jira',
    description: null,
    serviceEntitlementNumber: null,
    entitlementId: null,
    entitlementNumber: null,
    oauthClientId: null,
    installationId: INSTALLATION,
    enabled: true,
    installedAt: at,
    uninstalledAt: null,
    createdAt: at,
    updatedAt: at,
    ...overrides,
  });
}

function storeWith(current: ConnectTenant | null, withLookup = true): TenantStore {
  return {
    find: async () => current,
    ...(withLookup && { findByInstallationId: async (appKey: string, id: string) => (current?.appKey === appKey && current.installationId === id ? current : null) }),
    install: () => Promise.reject(new Error('unused')),
    update: () => Promise.reject(new Error('unused')),
    ping: () => Promise.resolve(),
  };
}

const forge = { app: { key: APP }, installationId: INSTALLATION };

describe('ConnectForgeLink', () => {
  it('finds the active tenant of an installation, and refuses unknown or inactive ones with forge/unknown-installation', async () => {
    await expect(new ConnectForgeLink(storeWith(tenant()), noInstallations).connectTenantOf(forge)).resolves.toMatchObject({ clientKey: 'client-1' });
    await expect(new ConnectForgeLink(storeWith(null), noInstallations).connectTenantOf(forge)).rejects.toMatchObject({
      code: 'forge/unknown-installation',
      detail: { state: 'unknown', installationId: INSTALLATION },
    });
    for (const inactive of [tenant({ enabled: false }), tenant({ uninstalledAt: new Date() })]) {
      const link = new ConnectForgeLink(storeWith(inactive), noInstallations);
      await expect(link.connectTenantOf(forge)).rejects.toMatchObject({ code: 'forge/unknown-installation', detail: { state: 'inactive' } });
      expect(await link.findConnectTenantOf(forge)).toBe(inactive);
    }
  });

  it('reads the installationId from the store, not from the object it is given', async () => {
    const moved = 'ari:cloud:ecosystem::installation/0a0a0a0a-0000-4000-8000-000000000000';
    const link = new ConnectForgeLink(storeWith(tenant({ installationId: moved })), noInstallations);
    expect(await link.installationIdOf(tenant())).toBe(moved);
    expect(await link.installationIdOf({ appKey: APP, clientKey: 'client-1' })).toBe(moved);
    await expect(new ConnectForgeLink(storeWith(tenant({ installationId: null })), noInstallations).installationIdOf(tenant())).rejects.toMatchObject({
      code: 'forge/unknown-installation',
      message: expect.stringContaining('no Forge installation'),
    });
    await expect(new ConnectForgeLink(storeWith(null), noInstallations).installationIdOf(tenant())).rejects.toMatchObject({ code: 'forge/unknown-installation' });
  });

  it('says what a custom store lacks', async () => {
    await expect(new ConnectForgeLink(storeWith(tenant(), false), noInstallations).connectTenantOf(forge)).rejects.toMatchObject({
      code: 'config/invalid',
      message: expect.stringContaining('findByInstallationId'),
    });
  });
});
