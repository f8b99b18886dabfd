import { Injectable, Logger, type OnApplicationBootstrap } from '@nestjs/common';
import { DiscoveryService, MetadataScanner } from '@nestjs/core';
import { discoverMethodHooks, matchesHookFilter, type LifecycleHookFilter, type MethodHook } from '../discovery/method-hooks.js';
import type { ForgeEventContext } from './forge-event.js';
import { ForgeEventHook, ForgePreUninstallHook, ForgeScheduledTriggerHook, type ForgeEventHookMetadata, type ForgeScheduledTriggerHookMetadata } from './forge-event.decorators.js';

/** One discovered Forge event handler method. */
export type ForgeMethodHook = MethodHook<LifecycleHookFilter, ForgeEventContext>;

/** A discovered handler without its method: `ClassName.method` and its decorator's metadata. */
export interface ForgeDeclaredHandler<Metadata> {
  readonly name: string;
  readonly metadata: Metadata;
}

/** The discovered `@OnForgeEvent()`, `@OnForgeScheduledTrigger()` and `@OnForgePreUninstall()` methods. */
export interface ForgeDeclaredHandlers {
  readonly events: readonly ForgeDeclaredHandler<ForgeEventHookMetadata>[];
  readonly scheduled: readonly ForgeDeclaredHandler<ForgeScheduledTriggerHookMetadata>[];
  readonly preUninstall: readonly ForgeDeclaredHandler<LifecycleHookFilter>[];
}

/**
 * The `@OnForgeEvent()`, `@OnForgeScheduledTrigger()` and `@OnForgePreUninstall()` methods of every
 * provider and controller, found once at bootstrap, and which of them an event goes to.
 */
@Injectable()
export class ForgeEventHandlers implements OnApplicationBootstrap {
  private readonly logger = new Logger('ForgeEvents');
  private events: MethodHook<ForgeEventHookMetadata, ForgeEventContext>[] = [];
  private scheduled: MethodHook<ForgeScheduledTriggerHookMetadata, ForgeEventContext>[] = [];
  private preUninstall: ForgeMethodHook[] = [];

  constructor(
    private readonly discovery: DiscoveryService,
    private readonly scanner: MetadataScanner,
  ) {}

  onApplicationBootstrap(): void {
    this.events = discoverMethodHooks(this.discovery, this.scanner, ForgeEventHook);
    this.scheduled = discoverMethodHooks(this.discovery, this.scanner, ForgeScheduledTriggerHook);
    this.preUninstall = discoverMethodHooks(this.discovery, this.scanner, ForgePreUninstallHook);
    const count = this.events.length + this.scheduled.length + this.preUninstall.length;
    if (count > 0) this.logger.log(`Found ${count} Forge event handler(s).`);
  }

  /** What the discovered handlers declare, for the manifest: the app filters, event names and trigger keys. */
  declared(): ForgeDeclaredHandlers {
    return {
      events: this.events.map((hook) => ({ name: hook.name, metadata: hook.metadata })),
      scheduled: this.scheduled.map((hook) => ({ name: hook.name, metadata: hook.metadata })),
      preUninstall: this.preUninstall.map((hook) => ({ name: hook.name, metadata: hook.metadata })),
    };
  }

  /** The handlers `event` goes to, in discovery order. */
  matching(event: Pick<ForgeEventContext, 'kind' | 'app' | 'eventType' | 'moduleKey'>): ForgeMethodHook[] {
    const forApp = (filter: LifecycleHookFilter) => matchesHookFilter(filter, event.app.key, event.app);
    if (event.kind === 'event') {
      return this.events.filter((hook) => forApp(hook.metadata) && (hook.metadata.events.includes('*') || hook.metadata.events.includes(event.eventType ?? '')));
    }
    if (event.kind === 'scheduled') {
      return this.scheduled.filter((hook) => forApp(hook.metadata) && (hook.metadata.key === undefined || hook.metadata.key === event.moduleKey));
    }
    return this.preUninstall.filter((hook) => forApp(hook.metadata));
  }
}
