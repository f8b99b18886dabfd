import type { ConnectTenant, TenantInstallation } from './tenant.js';

/**
 * What a lifecycle write runs inside: a unit of work that commits only if `work` resolves.
 * `transaction` is the store's own handle (for the TypeORM store: an `EntityManager`), handed to
 * lifecycle hooks so they can write in the same transaction.
 */
export interface TenantWriteContext {
  readonly previous: ConnectTenant | null;
  readonly transaction: unknown;
}

/**
 * Where tenants live. The default implementation is `TypeOrmTenantStore` (PostgreSQL); give your own as
 * the `tenantStore` option to change it. The framework always puts its bounded cache in front (the
 * `TENANT_STORE` token is that cache), so a store only stores. Every method rejects with a
 * `ConnectError` coded `store/unavailable` when the backing store cannot answer.
 */
export interface TenantStore {
  /** The tenant, or `null` when (appKey, clientKey) was never installed. Inactive tenants are returned. */
  find(appKey: string, clientKey: string): Promise<ConnectTenant | null>;
  /**
   * The tenant of `appKey` whose latest `installed` callback carried this Forge `installationId`
   * (`ari:cloud:ecosystem::installation/<uuid>`), or `null`. Each signed install replaces the stored
   * installationId, so a re-install that names a new one moves the link and the old id finds nothing.
   * Should two tenants name the same installationId, an installed one wins over an uninstalled one, then
   * the most recent install. Inactive tenants are returned, like `find`.
   *
   * Optional so stores written before Forge keep working for Connect; `ConnectForgeLink` needs it.
   */
  findByInstallationId?(appKey: string, installationId: string): Promise<ConnectTenant | null>;

  /**
   * Inserts or updates the tenant, then runs
   * `work` in the same transaction; if `work` rejects, nothing is written. A new tenant, or one that
   * was uninstalled, comes back enabled; a re-install of a disabled tenant (a descriptor upgrade, a
   * secret rotation) keeps it disabled until the product sends `enabled`, unless `options.enable` is
   * set: then it comes back enabled too (Connect on Forge, where `enabled` is never sent again).
   */
  install<T>(
    installation: TenantInstallation,
    work: (tenant: ConnectTenant, context: TenantWriteContext) => Promise<T>,
    options?: TenantInstallOptions,
  ): Promise<{ tenant: ConnectTenant; result: T }>;

  /**
   * Applies a state change (`uninstalled`, `enabled`, `disabled`) and runs `work` in the same
   * transaction. Returns `null` (and does not call `work`) when the tenant does not exist.
   */
  update<T>(
    appKey: string,
    clientKey: string,
    change: TenantStateChange,
    work: (tenant: ConnectTenant, context: TenantWriteContext) => Promise<T>,
  ): Promise<{ tenant: ConnectTenant; result: T } | null>;

  /** Checks that the store answers (for health checks); rejects with `store/unavailable` otherwise. */
  ping(): Promise<void>;
}

/** How `TenantStore.install` treats the tenant's state. */
export interface TenantInstallOptions {
  /**
   * Enable the tenant even when a previous install left it disabled. The lifecycle sets it for an
   * app with `forge` configured and for payloads with an `installationId`: on Connect on Forge the
   * product no longer sends `enabled`/`disabled`, so a tenant disabled before the switch would
   * otherwise stay refused forever.
   */
  readonly enable?: boolean | undefined;
}

export type TenantStateChange = { kind: 'uninstalled' } | { kind: 'enabled' } | { kind: 'disabled' };

/** Injection token for the `TenantStore`. */
export const TENANT_STORE = Symbol.for('atlassian-connect-nest:TenantStore');
