import { DiscoveryService } from '@nestjs/core';
import type { LifecycleHookFilter } from '../discovery/method-hooks.js';

/** What `@OnForgeEvent()` records on a method. */
export interface ForgeEventHookMetadata extends LifecycleHookFilter {
  /** Event names the method takes; `*` takes every event. */
  readonly events: readonly string[];
}

/** What `@OnForgeScheduledTrigger()` records on a method. */
export interface ForgeScheduledTriggerHookMetadata extends LifecycleHookFilter {
  /** The `scheduledTrigger` module key the method takes; `undefined` takes every scheduled trigger. */
  readonly key: string | undefined;
  /** How often the generated manifest's `scheduledTrigger` fires (`hour` unless given). */
  readonly interval?: ForgeScheduledTriggerInterval | undefined;
}

/** The intervals Forge runs a `scheduledTrigger` at. */
export type ForgeScheduledTriggerInterval = 'fiveMinute' | 'hour' | 'day' | 'week';
const INTERVALS: readonly ForgeScheduledTriggerInterval[] = ['fiveMinute', 'hour', 'day', 'week'];

/** What `@OnForgeScheduledTrigger()` takes besides the key: which apps, and the interval the manifest declares. */
export interface ForgeScheduledTriggerOptions extends LifecycleHookFilter {
  /** The `interval` of this trigger's module in the manifest `ForgeManifestBuilder` writes; default `hour`. */
  interval?: ForgeScheduledTriggerInterval | undefined;
}

/** @internal The discoverable decorators behind the three public ones. */
export const ForgeEventHook = DiscoveryService.createDecorator<ForgeEventHookMetadata>();
/** @internal */
export const ForgeScheduledTriggerHook = DiscoveryService.createDecorator<ForgeScheduledTriggerHookMetadata>();
/** @internal */
export const ForgePreUninstallHook = DiscoveryService.createDecorator<LifecycleHookFilter>();

const EVENT_NAME = /^(\*|avi:[a-z0-9-]+(:[a-z0-9_-]+)+)$/;

/**
 * Runs the decorated method for every Forge event of these names (a `trigger` module whose `endpoint`
 * is this backend's events endpoint), after the framework verified the Forge Invocation Token and
 * recorded the installation. The method receives a `ForgeEventContext`. A throw answers 500, so Forge
 * delivers the event again (with `retryContext`); a redelivery runs only the handlers that failed.
 *
 * @example
 * ```ts
 * @Injectable()
 * export class IssueEvents {
 *   @OnForgeEvent('avi:jira:created:issue', { app: 'com.example.jira' })
 *   async created(event: ForgeEventContext<{ issue: { key: string } }>) { … }
 * }
 * ```
 */
export function OnForgeEvent(events: string | readonly string[], filter: LifecycleHookFilter = {}): MethodDecorator {
  const names = typeof events === 'string' ? [events] : [...events];
  for (const name of names) {
    if (!EVENT_NAME.test(name)) throw new TypeError(`@OnForgeEvent: ${JSON.stringify(name)} is not a Forge event name (such as avi:jira:created:issue) or '*'.`);
  }
  if (names.length === 0) throw new TypeError('@OnForgeEvent needs at least one event name.');
  return ForgeEventHook({ ...filter, events: names });
}

/**
 * Runs the decorated method when a Forge `scheduledTrigger` whose `endpoint` is this backend's
 * scheduled-trigger endpoint fires; with a `key`, only for that module. A good place to refresh work
 * that needs the saved app system token (`ConnectClient.asForgeApp(installationId)`): every trigger
 * brings a fresh one.
 *
 * @example
 * ```ts
 * @OnForgeScheduledTrigger('hourly-sync') async sync(event: ForgeEventContext) { … }
 * @OnForgeScheduledTrigger('nightly-report', { interval: 'day' }) async report(event: ForgeEventContext) { … }
 * ```
 */
export function OnForgeScheduledTrigger(key?: string, filter: ForgeScheduledTriggerOptions = {}): MethodDecorator {
  if (key !== undefined && !/^[a-zA-Z0-9_-]{1,255}$/.test(key)) throw new TypeError(`@OnForgeScheduledTrigger: ${JSON.stringify(key)} is not a module key.`);
  if (filter.interval !== undefined && !INTERVALS.includes(filter.interval)) {
    throw new TypeError(`@OnForgeScheduledTrigger: interval ${JSON.stringify(filter.interval)} is not one of ${INTERVALS.join(', ')}.`);
  }
  return ForgeScheduledTriggerHook({ ...filter, key });
}

/**
 * Runs the decorated method when the app is being uninstalled from a site (a `preUninstall` module whose
 * `endpoint` is this backend's pre-uninstall endpoint). The framework marks the installation
 * uninstalled; the retention purge deletes it, after the `@OnPurge()` hooks, `retention.uninstalledDays`
 * later. Forge does not wait for the uninstall: keep it short (Forge allows about 55 s).
 *
 * @example
 * ```ts
 * @OnForgePreUninstall() async goodbye(event: ForgeEventContext) { … }
 * ```
 */
export function OnForgePreUninstall(filter: LifecycleHookFilter = {}): MethodDecorator {
  return ForgePreUninstallHook({ ...filter });
}
