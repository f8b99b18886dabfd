import { DiscoveryService } from '@nestjs/core';
import type { ResolvedConnectApp } from '../config/resolved-connect-app.js';
import type { PurgeCandidate } from './tenant-purge.js';
import type { LifecycleHookFilter } from '../discovery/method-hooks.js';

/** What an `@OnPurge()` hook receives. */
export interface ConnectPurgeEvent {
  /**
   * `connect`: a Connect tenant (`tenant.clientKey` is its clientKey). `forge`: a Forge installation
   * marked uninstalled by a `preUninstall` trigger (`tenant.clientKey` is its installationId, the key
   * Forge apps store data under; `tenant.baseUrl` its site URL).
   */
  readonly kind: 'connect' | 'forge';
  /** The app the tenant belonged to; `undefined` when no configured app has its key any more. */
  readonly app: ResolvedConnectApp | undefined;
  /** The tenant or Forge installation about to be deleted (never its shared secret or token). */
  readonly tenant: PurgeCandidate;
  /**
   * The transaction that deletes the tenant row (a TypeORM `EntityManager`): write through it, not
   * through another pooled connection (the embedded engine has only one). The row is locked while
   * the hook runs.
   */
  readonly transaction: unknown;
}

/**
 * Runs the decorated method before the retention purge deletes an uninstalled tenant (or an uninstalled
 * Forge installation: `event.kind === 'forge'`), inside the transaction that deletes it: delete the
 * app's own data of that tenant here. If the method throws,
 * that tenant is not purged (logged; retried on the next run) and the others carry on.
 *
 * @example
 * ```ts
 * @OnPurge() async forget(event: ConnectPurgeEvent) {
 *   await (event.transaction as EntityManager).delete(Note, { clientKey: event.tenant.clientKey });
 * }
 * ```
 */
export const OnPurge = DiscoveryService.createDecorator<LifecycleHookFilter>();
