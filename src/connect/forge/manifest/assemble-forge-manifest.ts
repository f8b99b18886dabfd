import type { ResolvedConnectApp } from '../../config/resolved-connect-app.js';
import { ConnectError } from '../../errors/connect-error.js';
import { matchesHookFilter, type LifecycleHookFilter } from '../../discovery/method-hooks.js';
import { forgeAppAri } from '../forge-app-id.js';
import { FORGE_INSTALLED_EVENT, FORGE_UPGRADED_EVENT, type ForgeEventKind } from '../forge-event.js';
import type { ForgeDeclaredHandlers } from '../forge-event-handlers.js';
import type { RealmMigrationPhase } from '../realm-migration/realm-migration.js';
import { forgeScopesOfConnect } from './connect-scopes.js';
import { connectModulesOf } from './connect-modules.js';
import type { ForgeManifest, ForgeManifestAuth, ForgeManifestEndpoint, ForgeManifestModules, ForgeManifestOptions, ForgeManifestResult } from './forge-manifest.js';

/** Endpoint keys, one per served event path (at most 23 characters, the endpoint reference says). */
export const FORGE_MANIFEST_ENDPOINT_KEYS: Readonly<Record<ForgeEventKind, string>> = {
  event: 'forge-events',
  scheduled: 'forge-scheduled',
  'pre-uninstall': 'forge-pre-uninstall',
};
/** Module keys of the framework's own trigger and preUninstall modules. */
export const FORGE_MANIFEST_TRIGGER_KEY = 'forge-events-trigger';
export const FORGE_MANIFEST_PRE_UNINSTALL_KEY = 'forge-pre-uninstall-trigger';
/** Used for `@OnForgeScheduledTrigger()` without a key. */
export const FORGE_MANIFEST_SCHEDULED_KEY = 'forge-scheduled-trigger';
/** Module key of the `migration:dataResidency` module. */
export const FORGE_MANIFEST_REALM_MIGRATION_KEY = 'forge-realm-migration';
/** The scope of Forge's hosted storage REST API (`ForgeStorage`). */
export const FORGE_STORAGE_SCOPE = 'storage:app';
/** `maxMigrationDurationHours` when not given: what Forge assumes of a module without it. */
const DEFAULT_MIGRATION_HOURS = 1.5;

const REMOTE_KEY = /^[a-zA-Z0-9_-]{1,23}$/;
const SYSTEM_TOKEN_SCOPE = 'read:app-system-token';
const USER_TOKEN_SCOPE = 'read:app-user-token';

/** What the app's code declares, found by `ForgeManifestBuilder` (pure input, for tests and tools). */
export interface ForgeManifestInput {
  app: ResolvedConnectApp;
  /** The served event paths of the app (`ForgeEventRoutes.pathsOf`); `undefined` when none are served. */
  eventPaths: Readonly<Record<ForgeEventKind, string>> | undefined;
  handlers: ForgeDeclaredHandlers;
  /** Whether a `@ForgeAuth()` route takes this app's Forge Remote calls. */
  hasForgeRemoteRoutes: boolean;
  /** The served base path of the realm migration hooks (`<basePath><forgeRealmMigration.path>`); `undefined` when they are not served. */
  realmMigrationPath: string | undefined;
  /** The phases this app has an `@OnRealmMigration()` handler of. */
  realmMigrationPhases: readonly RealmMigrationPhase[];
  /** Whether a provider or controller of the module injects `ForgeStorage` (the default of the `storage` option). */
  injectsForgeStorage: boolean;
}

/**
 * The Connect-on-Forge manifest of one app. Where each field comes from:
 * - `app.id`: `forge.appId`; `app.connect`: the Connect key and the remote (not for a Forge-only app);
 *   `app.licensing`: the descriptor's `enableLicensing: true`.
 * - `connectModules`: the served descriptor's `lifecycle` and `modules` (see `connectModulesOf`).
 * - `remotes`: one, with the app's baseUrl (the Connect remote must hold it, and the endpoints' paths are
 *   relative to it). `auth` there applies to Forge functions calling `invokeRemote`: both tokens are
 *   asked for when a `@ForgeAuth()` route takes this app's calls (the route may use `asForgeApp` or
 *   `asForgeUser`); the system token alone when the app uses hosted storage without such a route; none
 *   otherwise.
 * - `modules.endpoint` + `trigger` / `scheduledTrigger` / `preUninstall`: the framework's served event
 *   paths. The trigger always takes `avi:forge:installed:app` and `avi:forge:upgraded:app` (the framework
 *   records the installation and seeds its system token on them) plus every `@OnForgeEvent()` name;
 *   preUninstall is always there (the framework marks the installation uninstalled); one
 *   scheduledTrigger per `@OnForgeScheduledTrigger()` key. The event endpoints ask for the system token
 *   (it is saved for work outside a request), never the user token (Forge refuses it on triggers).
 * - `modules.migration:dataResidency`: one module when the app has `@OnRealmMigration()` handlers of at
 *   least `start` and `status` (without them the hooks decline every migration) and the hooks are served
 *   (`forgeRealmMigration.path` not false); its `path` is the served one relative to the remote's baseUrl.
 * - `permissions.scopes`: the descriptor's Connect scopes as Forge names them, `read:app-system-token` /
 *   `read:app-user-token` when a token is asked for, `storage:app` when the app uses hosted storage
 *   (`options.storage`, by default whether something injects `ForgeStorage`), then `extraScopes`.
 */
export function assembleForgeManifest(input: ForgeManifestInput, options: ForgeManifestOptions = {}): ForgeManifestResult {
  const { app } = input;
  const fail = (message: string) => ConnectError.create('forge/invalid-manifest', `No Forge manifest for "${app.key}": ${message}`);
  if (app.forgeAppId === undefined) throw fail('the app has no forge.appId (the id of its Forge app), so it is not a Forge app.');
  const remoteKey = options.remoteKey ?? 'backend';
  if (!REMOTE_KEY.test(remoteKey)) throw fail(`the remote key ${JSON.stringify(remoteKey)} is not 1-23 of a-z A-Z 0-9 _ -.`);
  const warnings: string[] = [];
  const forApp = (filter: LifecycleHookFilter) => matchesHookFilter(filter, app.key, app);

  const migrationHours = options.maxMigrationDurationHours ?? DEFAULT_MIGRATION_HOURS;
  if (typeof migrationHours !== 'number' || !(migrationHours >= 0.5 && migrationHours <= 24) || !Number.isInteger(migrationHours * 2)) {
    throw fail(`maxMigrationDurationHours ${JSON.stringify(migrationHours)} is not 0.5 to 24 in steps of 0.5.`);
  }
  // Forge's storage REST API takes the installation's app system token: a Forge Remote call must bring one.
  const usesStorage = options.storage ?? input.injectsForgeStorage;
  const remoteAuth: ForgeManifestAuth | undefined = input.hasForgeRemoteRoutes
    ? { appSystemToken: { enabled: true }, appUserToken: { enabled: true } }
    : usesStorage
      ? { appSystemToken: { enabled: true } }
      : undefined;
  const manifest: ForgeManifest = {
    app: {
      id: forgeAppAri(app.forgeAppId),
      runtime: { name: options.runtime ?? 'nodejs24.x' },
      ...(app.connect && { connect: { key: app.key, remote: remoteKey } }),
      ...(app.descriptor?.enableLicensing === true && { licensing: { enabled: true } }),
    },
    remotes: [
      {
        key: remoteKey,
        baseUrl: app.baseUrl,
        operations: ['storage', 'compute'],
        storage: { inScopeEUD: options.inScopeEUD ?? true },
        ...(remoteAuth && { auth: remoteAuth }),
      },
    ],
    permissions: { scopes: [] },
  };
  if (app.connect && app.descriptor !== null) manifest.connectModules = connectModulesOf(app.descriptor, app.product, app.key);

  const modules: ForgeManifestModules = {};
  const endpoints: ForgeManifestEndpoint[] = [];
  const endpointFor = (kind: ForgeEventKind): string => {
    const key = FORGE_MANIFEST_ENDPOINT_KEYS[kind];
    if (!endpoints.some((endpoint) => endpoint.key === key)) {
      endpoints.push({ key, remote: remoteKey, route: { path: relativePath(app, input.eventPaths![kind]) }, auth: { appSystemToken: { enabled: true } } });
    }
    return key;
  };
  const eventHandlers = input.handlers.events.filter((hook) => forApp(hook.metadata));
  const scheduledHandlers = input.handlers.scheduled.filter((hook) => forApp(hook.metadata));
  if (input.eventPaths === undefined) {
    if (eventHandlers.length + scheduledHandlers.length + input.handlers.preUninstall.filter((hook) => forApp(hook.metadata)).length > 0) {
      warnings.push('Forge event handlers are declared, but forgeEvents.path is false: no endpoint serves them, so the manifest has no trigger modules.');
    }
  } else {
    const events = [FORGE_INSTALLED_EVENT, FORGE_UPGRADED_EVENT];
    for (const hook of eventHandlers) {
      for (const name of hook.metadata.events) {
        if (name === '*') warnings.push(`${hook.name} takes every event ('*'); a manifest names its events, so add the ones it should receive to the trigger.`);
        else if (!events.includes(name)) events.push(name);
      }
    }
    modules.trigger = [{ key: FORGE_MANIFEST_TRIGGER_KEY, endpoint: endpointFor('event'), events }];
    const scheduled = new Map<string, 'fiveMinute' | 'hour' | 'day' | 'week'>();
    for (const hook of scheduledHandlers) {
      const key = hook.metadata.key ?? FORGE_MANIFEST_SCHEDULED_KEY;
      const interval = hook.metadata.interval ?? 'hour';
      const known = scheduled.get(key);
      if (known !== undefined && known !== interval) throw fail(`the scheduled trigger "${key}" is declared with the intervals ${known} and ${interval}.`);
      scheduled.set(key, interval);
    }
    if (scheduled.size > 5) warnings.push(`${scheduled.size} scheduled triggers: Forge allows at most five per app.`);
    if (scheduled.size > 0) modules.scheduledTrigger = [...scheduled].map(([key, interval]) => ({ key, endpoint: endpointFor('scheduled'), interval }));
    modules.preUninstall = [{ key: FORGE_MANIFEST_PRE_UNINSTALL_KEY, endpoint: endpointFor('pre-uninstall') }];
    modules.endpoint = endpoints;
  }
  const migrationPhases = new Set(input.realmMigrationPhases);
  if (migrationPhases.has('start') && migrationPhases.has('status')) {
    if (input.realmMigrationPath === undefined) {
      warnings.push('Realm migration handlers are declared, but forgeRealmMigration.path is false: no hook is served, so the manifest has no migration:dataResidency module.');
    } else {
      modules['migration:dataResidency'] = [
        { key: FORGE_MANIFEST_REALM_MIGRATION_KEY, remote: remoteKey, path: relativePath(app, input.realmMigrationPath), maxMigrationDurationHours: migrationHours },
      ];
      if (options.inScopeEUD === false)
        warnings.push('The app migrates its data between realms, but inScopeEUD is false: realm migration is for remotes that store in-scope End-User Data.');
    }
  } else if (migrationPhases.size > 0) {
    warnings.push(
      `Realm migration handlers of ${[...migrationPhases].join(', ')} are declared, but not of both start and status: the hooks decline every migration (E0003), so the manifest has no migration:dataResidency module.`,
    );
  }
  if (Object.keys(modules).length > 0) manifest.modules = modules;
  if (manifest.connectModules === undefined && manifest.modules === undefined)
    throw fail('it has neither Connect modules nor served Forge event endpoints or realm migration hooks, and a manifest needs one of them.');
  assertUniqueKeys(manifest, fail);

  const scopes = app.connect && app.descriptor !== null ? forgeScopesOfConnect(app.descriptor.scopes, app.product, app.key) : [];
  const auths = [...manifest.remotes.map((remote) => remote.auth), ...endpoints.map((endpoint) => endpoint.auth)];
  if (auths.some((auth) => auth?.appSystemToken?.enabled)) scopes.push(SYSTEM_TOKEN_SCOPE);
  if (auths.some((auth) => auth?.appUserToken?.enabled)) scopes.push(USER_TOKEN_SCOPE);
  if (usesStorage) scopes.push(FORGE_STORAGE_SCOPE);
  for (const scope of options.extraScopes ?? []) {
    if (typeof scope !== 'string' || !/^[a-z0-9:._-]{1,100}$/i.test(scope)) throw fail(`${JSON.stringify(scope)} is not a scope name.`);
    if (!scopes.includes(scope)) scopes.push(scope);
  }
  if (scopes.length > 0 && scopes.every((scope) => scope === SYSTEM_TOKEN_SCOPE || scope === USER_TOKEN_SCOPE || scope === FORGE_STORAGE_SCOPE)) {
    warnings.push('Forge refuses remote tokens without a product scope: add the scopes your calls need (extraScopes, or --scope).');
  }
  manifest.permissions.scopes = scopes;
  // In the order a reader looks for them (the YAML keeps it).
  const { app: appSection, connectModules, modules: moduleSection, remotes, permissions } = manifest;
  return { manifest: { app: appSection, ...(connectModules && { connectModules }), ...(moduleSection && { modules: moduleSection }), remotes, permissions }, warnings };
}

/** A served path relative to the app's baseUrl (the remote's), so that baseUrl + path is the served URL. */
function relativePath(app: ResolvedConnectApp, served: string): string {
  return app.basePath !== '' && served.startsWith(`${app.basePath}/`) ? served.slice(app.basePath.length) : served;
}

function assertUniqueKeys(manifest: ForgeManifest, fail: (message: string) => ConnectError): void {
  const seen = new Set<string>();
  const lists: Record<string, unknown>[][] = [...Object.values(manifest.connectModules ?? {}), ...Object.values(manifest.modules ?? {})];
  for (const list of lists) {
    for (const module of list) {
      const key = module.key as string;
      if (seen.has(key)) throw fail(`the module key "${key}" is used twice (a descriptor module may take a key the framework uses for its Forge modules).`);
      seen.add(key);
    }
  }
}
