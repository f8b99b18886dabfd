import { Injectable, Logger, type OnApplicationBootstrap } from '@nestjs/common';
import { DiscoveryService, MetadataScanner } from '@nestjs/core';
import type { LifecycleEventName, ResolvedConnectApp } from '../config/resolved-connect-app.js';
import type { ConnectLifecycleEvent } from './connect-lifecycle-event.js';
import { LIFECYCLE_HOOK_DECORATORS, type LifecycleHookFilter } from './lifecycle-hooks.decorators.js';

interface LifecycleHook {
  readonly name: string;
  readonly filter: LifecycleHookFilter;
  readonly run: (event: ConnectLifecycleEvent) => unknown;
}

/** Finds the `@OnInstalled()`-style methods of every provider and controller at bootstrap. */
@Injectable()
export class LifecycleHookRegistry implements OnApplicationBootstrap {
  private readonly logger = new Logger('ConnectLifecycle');
  private hooks: Record<LifecycleEventName, LifecycleHook[]> = { installed: [], uninstalled: [], enabled: [], disabled: [] };

  constructor(
    private readonly discovery: DiscoveryService,
    private readonly scanner: MetadataScanner,
  ) {}

  onApplicationBootstrap(): void {
    const found: typeof this.hooks = { installed: [], uninstalled: [], enabled: [], disabled: [] };
    const seen = new Set<object>();
    for (const wrapper of [...this.discovery.getProviders(), ...this.discovery.getControllers()]) {
      const instance: unknown = wrapper.instance;
      if (!wrapper.isDependencyTreeStatic() || instance === null || typeof instance !== 'object' || seen.has(instance)) continue;
      seen.add(instance);
      const prototype = Object.getPrototypeOf(instance) as object;
      for (const method of this.scanner.getAllMethodNames(prototype)) {
        for (const [event, decorator] of Object.entries(LIFECYCLE_HOOK_DECORATORS) as [LifecycleEventName, (typeof LIFECYCLE_HOOK_DECORATORS)[LifecycleEventName]][]) {
          const filter = this.discovery.getMetadataByDecorator(decorator, wrapper, method) as LifecycleHookFilter | undefined;
          if (filter === undefined) continue;
          const target = instance as Record<string, (event: ConnectLifecycleEvent) => unknown>;
          found[event].push({ name: `${instance.constructor.name}.${method}`, filter, run: (e) => target[method]!(e) });
        }
      }
    }
    this.hooks = found;
    const count = Object.values(found).reduce((sum, list) => sum + list.length, 0);
    if (count > 0) this.logger.log(`Found ${count} lifecycle hook(s).`);
  }

  /** Runs the hooks of `event` for `app` one after another; the first failure stops and rejects. */
  async run(event: ConnectLifecycleEvent): Promise<void> {
    for (const hook of this.hooks[event.event]) {
      if (!matches(hook.filter, event.app)) continue;
      try {
        await hook.run(event);
      } catch (error) {
        throw new LifecycleHookError(hook.name, error);
      }
    }
  }
}

export class LifecycleHookError extends Error {
  constructor(
    readonly hook: string,
    cause: unknown,
  ) {
    super(`Lifecycle hook ${hook} failed.`, { cause });
  }
}

function matches(filter: LifecycleHookFilter, app: ResolvedConnectApp): boolean {
  return (filter.app === undefined || filter.app === app.key) && (filter.product === undefined || filter.product === app.product);
}
