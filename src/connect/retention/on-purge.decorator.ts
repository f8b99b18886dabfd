import { DiscoveryService } from '@nestjs/core';
import type { ResolvedConnectApp } from '../config/resolved-connect-app.js';
import type { PurgeCandidate } from './tenant-purge.js';
import type { LifecycleHookFilter } from '../discovery/method-hooks.js';

/** What an `@OnPurge()` hook receives. */
export interface ConnectPurgeEvent {
  /** The app the tenant belonged to; `undefined` when no configured app has its key any more. */
  readonly app: ResolvedConnectApp | undefined;
  /** The tenant about to be deleted (never its shared secret). */
  readonly tenant: PurgeCandidate;
  /**
   * The transaction that deletes the tenant row (a TypeORM `EntityManager`): write through it, not
   * through another pooled connection (the embedded engine has only one). The row is locked while
   * the hook runs.
   */
  readonly transaction: unknown;
}

/**
 * Runs the decorated method before the retention purge deletes an uninstalled tenant, inside the
 * transaction that deletes it: delete the app's own data of that tenant here. If the method throws,
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
