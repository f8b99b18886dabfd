import type { ConnectProduct } from '../config/connect-product.js';

/** The fields an `installed` callback writes. */
export interface TenantInstallation {
  readonly appKey: string;
  readonly clientKey: string;
  /** The HS256 secret the product shares with the app at install time. Never log it. */
  readonly sharedSecret: string;
  readonly baseUrl: string;
  readonly displayUrl: string | null;
  readonly productType: ConnectProduct;
  readonly description: string | null;
  readonly serviceEntitlementNumber: string | null;
  readonly entitlementId: string | null;
  readonly entitlementNumber: string | null;
  readonly oauthClientId: string | null;
  readonly installationId: string | null;
}

/**
 * One installation of one app on one site, keyed by (appKey, clientKey): what the last `installed`
 * callback wrote, and its state since. Returned by the store as a plain frozen object so it can be
 * cached and shared safely.
 */
export interface ConnectTenant extends TenantInstallation {
  readonly enabled: boolean;
  readonly installedAt: Date;
  /** Set when the product sent `uninstalled`; the row is kept. Cleared by a later `installed`. */
  readonly uninstalledAt: Date | null;
  readonly createdAt: Date;
  readonly updatedAt: Date;
}

/** A tenant is usable for incoming requests only while installed and enabled. */
export function isTenantActive(tenant: ConnectTenant): boolean {
  return tenant.uninstalledAt === null && tenant.enabled;
}
