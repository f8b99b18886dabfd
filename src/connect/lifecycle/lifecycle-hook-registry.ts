import { Injectable, Logger, type OnApplicationBootstrap } from '@nestjs/common';
import { DiscoveryService, MetadataScanner } from '@nestjs/core';
import type { LifecycleEventName } from '../config/resolved-connect-app.js';
import { discoverMethodHooks, matchesHookFilter, type LifecycleHookFilter, type MethodHook } from '../discovery/method-hooks.js';
import type { ConnectLifecycleEvent } from './connect-lifecycle-event.js';
import { LIFECYCLE_HOOK_DECORATORS } from './lifecycle-hooks.decorators.js';

type LifecycleHook = MethodHook<LifecycleHookFilter, ConnectLifecycleEvent>;

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
    const found = {} as Record<LifecycleEventName, LifecycleHook[]>;
    for (const [event, decorator] of Object.entries(LIFECYCLE_HOOK_DECORATORS) as [LifecycleEventName, (typeof LIFECYCLE_HOOK_DECORATORS)[LifecycleEventName]][]) {
      found[event] = discoverMethodHooks<LifecycleHookFilter, ConnectLifecycleEvent>(this.discovery, this.scanner, decorator);
    }
    this.hooks = found;
    const count = Object.values(found).reduce((sum, list) => sum + list.length, 0);
    if (count > 0) this.logger.log(`Found ${count} lifecycle hook(s).`);
  }

  /** Runs the hooks of `event` for `app` one after another; the first failure stops and rejects. */
  async run(event: ConnectLifecycleEvent): Promise<void> {
    for (const hook of this.hooks[event.event]) {
      if (!matchesHookFilter(hook.metadata, event.app.key, event.app)) continue;
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
