import { DiscoveryService } from '@nestjs/core';
import type { LifecycleHookFilter } from '../discovery/method-hooks.js';

/**
 * Runs the decorated method after a tenant is installed (first install or re-install), inside the
 * transaction that stores it: if the method throws, the install fails (non-2xx) and the previous row
 * stays as it was. Use `event.transaction` (a TypeORM `EntityManager` with the default store) for
 * writes that must commit with the install.
 *
 * @example
 * ```ts
 * @Injectable()
 * export class Onboarding {
 *   @OnInstalled({ product: 'jira' })
 *   async welcome(event: ConnectLifecycleEvent) { … }
 * }
 * ```
 */
export const OnInstalled = DiscoveryService.createDecorator<LifecycleHookFilter>();

/**
 * Runs the decorated method after a tenant is uninstalled. The tenant is marked uninstalled first
 * (refusing access is never undone by a failing hook); a throwing hook is logged and answered 500.
 *
 * @example
 * ```ts
 * @OnUninstalled() async cleanUp(event: ConnectLifecycleEvent) { … }
 * ```
 */
export const OnUninstalled = DiscoveryService.createDecorator<LifecycleHookFilter>();

/**
 * Runs the decorated method when the app is enabled on a site, inside the transaction that records
 * it; a throwing hook leaves the tenant as it was.
 *
 * @example
 * ```ts
 * @OnEnabled({ app: 'com.example.jira' }) async resume(event: ConnectLifecycleEvent) { … }
 * ```
 */
export const OnEnabled = DiscoveryService.createDecorator<LifecycleHookFilter>();

/**
 * Runs the decorated method after the app is disabled on a site. Like `@OnUninstalled()`, the state
 * change is kept even when the hook throws.
 *
 * @example
 * ```ts
 * @OnDisabled() async pause(event: ConnectLifecycleEvent) { … }
 * ```
 */
export const OnDisabled = DiscoveryService.createDecorator<LifecycleHookFilter>();

export const LIFECYCLE_HOOK_DECORATORS = {
  installed: OnInstalled,
  uninstalled: OnUninstalled,
  enabled: OnEnabled,
  disabled: OnDisabled,
} as const;
