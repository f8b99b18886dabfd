import { Injectable, Logger, type OnApplicationBootstrap } from '@nestjs/common';
import { DiscoveryService, MetadataScanner } from '@nestjs/core';
import { ConnectAppRegistry } from '../../config/connect-app-registry.js';
import type { ResolvedConnectApp } from '../../config/resolved-connect-app.js';
import { ConnectError } from '../../errors/connect-error.js';
import { discoverMethodHooks, matchesHookFilter, type MethodHook } from '../../discovery/method-hooks.js';
import type { RealmMigrationContext, RealmMigrationPhase } from './realm-migration.js';
import { RealmMigrationHook, type RealmMigrationHookMetadata } from './realm-migration.decorators.js';

/** A discovered `@OnRealmMigration()` method. */
export type RealmMigrationHandler = MethodHook<RealmMigrationHookMetadata, RealmMigrationContext>;

/**
 * The `@OnRealmMigration()` methods of every provider and controller, found once at bootstrap. Two
 * handlers of one phase for the same Forge app fail the bootstrap (`config/invalid`): a migration step
 * has one owner, and two status answers could disagree.
 */
@Injectable()
export class RealmMigrationHandlers implements OnApplicationBootstrap {
  private readonly logger = new Logger('RealmMigration');
  private hooks: RealmMigrationHandler[] = [];

  constructor(
    private readonly discovery: DiscoveryService,
    private readonly scanner: MetadataScanner,
    private readonly registry: ConnectAppRegistry,
  ) {}

  onApplicationBootstrap(): void {
    const hooks = discoverMethodHooks<RealmMigrationHookMetadata, RealmMigrationContext>(this.discovery, this.scanner, RealmMigrationHook);
    for (const app of this.registry.apps.filter((each) => each.forgeAppId !== undefined)) {
      for (const phase of new Set(hooks.map((hook) => hook.metadata.phase))) {
        const owners = hooks.filter((hook) => hook.metadata.phase === phase && matchesHookFilter(hook.metadata, app.key, app));
        if (owners.length > 1) {
          throw ConnectError.create(
            'config/invalid',
            `Realm migration phase ${phase} of ${app.key} has ${owners.length} handlers (${owners.map((hook) => hook.name).join(', ')}); give each app one, narrowing with { app } or { product }.`,
          );
        }
      }
    }
    this.hooks = hooks;
    if (hooks.length > 0) this.logger.log(`Found ${hooks.length} realm migration handler(s).`);
  }

  /** The handler of `phase` for `app`, if any. */
  handlerOf(phase: RealmMigrationPhase, app: ResolvedConnectApp): RealmMigrationHandler | undefined {
    return this.hooks.find((hook) => hook.metadata.phase === phase && matchesHookFilter(hook.metadata, app.key, app));
  }

  /** Whether `app` can migrate at all: it answers `start` and `status`. */
  supports(app: ResolvedConnectApp): boolean {
    return this.handlerOf('start', app) !== undefined && this.handlerOf('status', app) !== undefined;
  }
}
