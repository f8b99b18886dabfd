import type { LifecycleEventName, ResolvedConnectApp } from '../config/resolved-connect-app.js';
import type { ConnectTenant } from '../tenants/tenant.js';
import type { LifecyclePayload } from './lifecycle-payload.js';

/** What a lifecycle hook receives. */
export interface ConnectLifecycleEvent {
  readonly event: LifecycleEventName;
  readonly app: ResolvedConnectApp;
  /** The tenant after the change. */
  readonly tenant: ConnectTenant;
  /** The tenant before the change (`null` on a first install). */
  readonly previous: ConnectTenant | null;
  /** The body the product sent, without the shared secret. */
  readonly payload: LifecyclePayload;
  /**
   * The store's transaction handle while the change is being written (`EntityManager` for the default
   * store), for `installed` and `enabled` hooks; `undefined` for hooks that run after commit.
   */
  readonly transaction: unknown;
}
