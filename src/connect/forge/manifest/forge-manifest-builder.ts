import { Injectable } from '@nestjs/common';
import { DiscoveryService, MetadataScanner, Reflector } from '@nestjs/core';
import { ConnectAppRegistry } from '../../config/connect-app-registry.js';
import { ConnectError } from '../../errors/connect-error.js';
import { FORGE_AUTH_OPTIONS, type ForgeAuthOptions } from '../forge-auth.constants.js';
import { ForgeEventHandlers } from '../forge-event-handlers.js';
import { ForgeEventRoutes } from '../forge-event-routes.js';
import { REALM_MIGRATION_PHASES } from '../realm-migration/realm-migration.js';
import { RealmMigrationHandlers } from '../realm-migration/realm-migration-handlers.js';
import { REALM_MIGRATION_SUBPATHS, RealmMigrationRoutes } from '../realm-migration/realm-migration-routes.js';
import { assembleForgeManifest } from './assemble-forge-manifest.js';
import { forgeStorageConsumers } from './forge-storage-consumers.js';
import type { ForgeManifestOptions, ForgeManifestResult } from './forge-manifest.js';

/**
 * Writes the Connect-on-Forge manifest of a configured app from what the running app already knows: its
 * options, its served descriptor, event and realm migration paths, and the Forge event and
 * `@OnRealmMigration()` handlers, `@ForgeAuth()` routes and `ForgeStorage` consumers discovered at bootstrap. Use it after `app.init()` (the `manifest` command does exactly that).
 *
 * @example
 * ```ts
 * const { manifest, warnings } = app.get(ForgeManifestBuilder).buildForgeManifest('com.example.jira');
 * writeFileSync('manifest.yml', toForgeManifestYaml(manifest));
 * ```
 */
@Injectable()
export class ForgeManifestBuilder {
  constructor(
    private readonly registry: ConnectAppRegistry,
    private readonly handlers: ForgeEventHandlers,
    private readonly routes: ForgeEventRoutes,
    private readonly discovery: DiscoveryService,
    private readonly scanner: MetadataScanner,
    private readonly reflector: Reflector,
    private readonly migrationHandlers: RealmMigrationHandlers,
    private readonly migrationRoutes: RealmMigrationRoutes,
  ) {}

  /** The manifest of the app with this key; a typed `forge/invalid-manifest` error when there can be none. */
  buildForgeManifest(appKey: string, options: ForgeManifestOptions = {}): ForgeManifestResult {
    const app = this.registry.apps.find((candidate) => candidate.key === appKey);
    if (app === undefined) {
      throw ConnectError.create('forge/invalid-manifest', `No app "${appKey}" is configured; the apps are ${this.registry.apps.map((a) => a.key).join(', ')}.`);
    }
    return assembleForgeManifest(
      {
        app,
        eventPaths: this.routes.pathsOf(app),
        handlers: this.handlers.declared(),
        hasForgeRemoteRoutes: this.forgeRemoteRouteApps().some((key) => key === undefined || key === appKey),
        realmMigrationPath: this.migrationRoutes.pathsOf(app)?.start.slice(0, -REALM_MIGRATION_SUBPATHS.start.length),
        realmMigrationPhases: REALM_MIGRATION_PHASES.filter((phase) => this.migrationHandlers.handlerOf(phase, app) !== undefined),
        // A class cannot say which of the module's apps it stores for: any consumer turns storage on for each.
        injectsForgeStorage: forgeStorageConsumers(this.discovery, this.reflector).length > 0,
      },
      options,
    );
  }

  /** The `app` option of every `@ForgeAuth()` (or `@ForgeAuthMetadata()`) route; `undefined` for routes taking any Forge app. */
  private forgeRemoteRouteApps(): (string | undefined)[] {
    const apps: (string | undefined)[] = [];
    for (const wrapper of this.discovery.getControllers()) {
      const type = wrapper.metatype as (new (...args: never[]) => object) | undefined;
      if (typeof type !== 'function') continue;
      const onClass = this.reflector.get<ForgeAuthOptions | undefined>(FORGE_AUTH_OPTIONS, type);
      for (const method of this.scanner.getAllMethodNames(type.prototype as object)) {
        const handler = (type.prototype as Record<string, unknown>)[method];
        if (typeof handler !== 'function') continue;
        const options = this.reflector.get<ForgeAuthOptions | undefined>(FORGE_AUTH_OPTIONS, handler) ?? onClass;
        if (options !== undefined) apps.push(options.app);
      }
    }
    return apps;
  }
}
