import type { DiscoveryService, MetadataScanner } from '@nestjs/core';
import type { ConnectProduct } from '../config/connect-product.js';
import type { ResolvedConnectApp } from '../config/resolved-connect-app.js';

/** Narrows a hook to some apps; without a filter it runs for every app. */
export interface LifecycleHookFilter {
  /** Run only for the app with this key. */
  app?: string | undefined;
  /** Run only for apps of this product. */
  product?: ConnectProduct | undefined;
}

/** A method found by its decorator at bootstrap. */
export interface MethodHook<Metadata, Event> {
  /** `ClassName.method`, for logs and errors. */
  readonly name: string;
  readonly metadata: Metadata;
  readonly run: (event: Event) => unknown;
}

/** The metadata-carrying decorators of `DiscoveryService.createDecorator()`. */
type DiscoverableDecorator<Metadata> = Parameters<DiscoveryService['getMetadataByDecorator']>[0] & ((options?: Metadata) => MethodDecorator);

/**
 * Every method of every provider and controller carrying `decorator`, found once at bootstrap (the way
 * `@OnInstalled()`, `@OnPurge()` and the other hooks are found). Request-scoped and transient providers
 * are skipped: a hook runs on the one instance there is.
 */
export function discoverMethodHooks<Metadata, Event>(
  discovery: DiscoveryService,
  scanner: MetadataScanner,
  decorator: DiscoverableDecorator<Metadata>,
): MethodHook<Metadata, Event>[] {
  const found: MethodHook<Metadata, Event>[] = [];
  const seen = new Set<object>();
  for (const wrapper of [...discovery.getProviders(), ...discovery.getControllers()]) {
    const instance: unknown = wrapper.instance;
    if (!wrapper.isDependencyTreeStatic() || instance === null || typeof instance !== 'object' || seen.has(instance)) continue;
    seen.add(instance);
    for (const method of scanner.getAllMethodNames(Object.getPrototypeOf(instance) as object)) {
      const metadata = discovery.getMetadataByDecorator(decorator, wrapper, method) as Metadata | undefined;
      if (metadata === undefined) continue;
      const target = instance as Record<string, (event: Event) => unknown>;
      found.push({ name: `${instance.constructor.name}.${method}`, metadata, run: (event) => target[method]!.call(instance, event) });
    }
  }
  return found;
}

/** Whether a hook with `filter` runs for `app` (`undefined`: an app no longer configured, which only unfiltered hooks take). */
export function matchesHookFilter(filter: LifecycleHookFilter, appKey: string, app: ResolvedConnectApp | undefined): boolean {
  return (filter.app === undefined || filter.app === appKey) && (filter.product === undefined || filter.product === app?.product);
}
