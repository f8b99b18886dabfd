import { Inject, Injectable } from '@nestjs/common';

import type { ConnectRequestContext } from '../auth/jwt/connect-token-verifier.js';
import { ConnectError } from '../errors/connect-error.js';
import { isTenantActive, type ConnectTenant } from '../tenants/tenant.js';
import { TENANT_STORE, type TenantStore } from '../tenants/tenant-store.js';
import type { ForgeInvocationContext } from './forge-invocation-context.js';
import { ForgeInstallations } from './forge-installations.js';

/** A Forge call to link: what `@ForgeContext()` gives, or just the app key and the installation. */
export type ForgeInstallationRef = Pick<ForgeInvocationContext, 'installationId'> & {
  readonly app: { readonly key: string };
};

/** A Connect tenant to link: a verified request, a tenant, or an (app key, clientKey) pair. */
export type ConnectTenantRef = ConnectRequestContext | ConnectTenant | { readonly appKey: string; readonly clientKey: string };

/**
 * Links the two halves of a Connect-on-Forge app: the Forge installation a Forge Remote call comes
 * from, and the Connect tenant (clientKey, shared secret) of the same app on the same site. The link is
 * the `installationId` of the Connect lifecycle payloads, stored with the tenant; the latest signed
 * `installed` callback decides it, so a re-install that names a new installation moves the link.
 *
 * Both directions read the tenant store (cached, and kept fresh across instances like every tenant
 * lookup), never a copy held by the caller.
 *
 * @example
 * ```ts
 * @Post('forge/issue-panel') @ForgeAuth()
 * async panel(@ForgeContext() forge: ForgeInvocationContext) {
 *   const tenant = await this.link.connectTenantOf(forge);     // forge/unknown-installation when none
 *   return this.client.asApp(tenant).get('/rest/api/3/myself');
 * }
 * ```
 */
@Injectable()
export class ConnectForgeLink {
  constructor(
    @Inject(TENANT_STORE) private readonly tenants: TenantStore,
    private readonly installations: ForgeInstallations,
  ) {}

  /**
   * The installed and enabled Connect tenant of this Forge call's app and installation. Rejects with
   * `forge/unknown-installation` (HTTP 404) when there is none: never installed through Connect, moved
   * to another installationId by a later install, uninstalled or disabled.
   */
  async connectTenantOf(forge: ForgeInstallationRef): Promise<ConnectTenant> {
    const tenant = await this.findConnectTenantOf(forge);
    if (tenant === null || !isTenantActive(tenant)) {
      throw ConnectError.create('forge/unknown-installation', `This Forge installation is not linked to an installed and enabled Connect tenant of ${forge.app.key}.`, {
        appKey: forge.app.key,
        installationId: forge.installationId,
        state: tenant === null ? 'unknown' : 'inactive',
      });
    }
    return tenant;
  }

  /** Like `connectTenantOf`, but `null` when nothing is linked; the tenant may be inactive (check `isTenantActive`). */
  async findConnectTenantOf(forge: ForgeInstallationRef): Promise<ConnectTenant | null> {
    const store = this.tenants;
    if (typeof store.findByInstallationId !== 'function') {
      throw ConnectError.create(
        'config/invalid',
        'The configured tenantStore does not implement findByInstallationId(), which linking Forge installations to Connect tenants needs.',
      );
    }
    const named = await store.findByInstallationId(forge.app.key, forge.installationId);
    if (named !== null || !this.installations.enabled) return named;
    // A new installationId for a known site (reinstall, site URL change): the installation record
    // carries the Connect tenant over from the site's earlier installation (same cloudId).
    // Only forward: when the tenant names an installation seen before this one. An older installationId
    // whose tenant a later signed install moved elsewhere finds nothing, as before.
    const recorded = await this.installations.get(forge.app.key, forge.installationId);
    if (recorded?.connectClientKey == null) return null;
    const tenant = await this.tenants.find(forge.app.key, recorded.connectClientKey);
    if (tenant === null || tenant.installationId === null || tenant.installationId === forge.installationId) return tenant;
    const earlier = await this.installations.get(forge.app.key, tenant.installationId);
    return earlier !== null && earlier.firstSeenAt.getTime() < recorded.firstSeenAt.getTime() ? tenant : null;
  }

  /**
   * The Forge installationId the tenant's latest install named, read from the store (so a re-install
   * since `target` was loaded counts). Rejects with `forge/unknown-installation` when the tenant is not
   * installed and enabled, or its installs carried no installationId (a Connect-only installation).
   */
  async installationIdOf(target: ConnectTenantRef): Promise<string> {
    const { appKey, clientKey } = 'tenant' in target ? target.tenant : target;
    const tenant = await this.tenants.find(appKey, clientKey);
    if (tenant === null || !isTenantActive(tenant) || tenant.installationId === null) {
      const why = tenant === null || !isTenantActive(tenant) ? 'is not installed and enabled' : 'has no Forge installation (its installs carried no installationId)';
      throw ConnectError.create('forge/unknown-installation', `The Connect tenant of ${appKey} ${why}.`, { appKey, clientKey });
    }
    return tenant.installationId;
  }
}
