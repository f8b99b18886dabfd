import type { ResolvedConnectApp } from '../../config/resolved-connect-app.js';
import { ConnectError } from '../../errors/connect-error.js';
import { assembleForgeManifest, type ForgeManifestInput } from './assemble-forge-manifest.js';

const APP_ID = '0b9f8a40-55a8-4c3e-9f1e-3d3b2c1a0f11';
const MIGRATION_PATH = '/jira/forge/realm-migration';
const PATHS = { event: '/jira/forge/events', scheduled: '/jira/forge/events/scheduled', 'pre-uninstall': '/jira/forge/events/pre-uninstall' };

function app(overrides: { [K in keyof ResolvedConnectApp]?: ResolvedConnectApp[K] | undefined } = {}): ResolvedConnectApp {
  return <ResolvedConnectApp>{
    key: 'com.example.jira',
    product: 'jira',
    baseUrl: 'https://app.example.com/jira',
    hostname: 'app.example.com',
    basePath: '/jira',
    audiences: ['https://app.example.com/jira'],
    forgeAppId: APP_ID,
    connect: true,
    descriptor: {
      key: 'com.example.jira',
      scopes: ['read', 'WRITE', 'PROJECT_ADMIN'],
      lifecycle: { installed: '/installed' },
      modules: { webhooks: [{ event: 'jira:issue_created', url: '/hook' }], postInstallPage: { key: 'setup', url: '/setup' } },
      enableLicensing: true,
    },
    ...overrides,
  };
}

function input(overrides: Partial<ForgeManifestInput> = {}): ForgeManifestInput {
  return {
    app: app(),
    eventPaths: PATHS,
    handlers: { events: [], scheduled: [], preUninstall: [] },
    hasForgeRemoteRoutes: false,
    realmMigrationPath: MIGRATION_PATH,
    realmMigrationPhases: [],
    injectsForgeStorage: false,
    ...overrides,
  };
}

function failure(run: () => unknown): ConnectError {
  try {
    run();
  } catch (error) {
    if (error instanceof ConnectError) return error;
    throw error;
  }
  throw new Error('did not throw');
}

describe('assembleForgeManifest', () => {
  it('translates scopes and modules, gives keyless entries a key, wraps single modules, turns licensing on', () => {
    const { manifest } = assembleForgeManifest(input());
    expect(manifest.permissions.scopes).toEqual(['read:connect-jira', 'write:connect-jira', 'project-admin:connect-jira', 'read:app-system-token']);
    expect(manifest.connectModules).toEqual({
      'jira:lifecycle': [{ key: 'connect-lifecycle', installed: '/installed' }],
      'jira:webhooks': [{ key: 'webhooks-1', event: 'jira:issue_created', url: '/hook' }],
      'jira:postInstallPage': [{ key: 'setup', url: '/setup' }],
    });
    expect(manifest.app.licensing).toEqual({ enabled: true });
    expect(manifest.remotes[0]!.auth).toBeUndefined(); // no @ForgeAuth() route: Forge functions get no tokens
  });

  it('makes one scheduledTrigger per key with its interval, only for handlers of this app, and warns about "*"', () => {
    const { manifest, warnings } = assembleForgeManifest(
      input({
        handlers: {
          events: [
            { name: 'A.created', metadata: { events: ['avi:jira:created:issue'] } },
            { name: 'B.other', metadata: { events: ['avi:confluence:created:page'], product: 'confluence' } },
            { name: 'C.all', metadata: { events: ['*'] } },
          ],
          scheduled: [
            { name: 'D.sync', metadata: { key: 'sync', interval: 'day' } },
            { name: 'E.any', metadata: { key: undefined } },
            { name: 'F.elsewhere', metadata: { key: 'other', app: 'com.example.other' } },
          ],
          preUninstall: [],
        },
      }),
    );
    expect(manifest.modules!.trigger![0]!.events).toEqual(['avi:forge:installed:app', 'avi:forge:upgraded:app', 'avi:jira:created:issue']);
    expect(manifest.modules!.scheduledTrigger).toEqual([
      { key: 'sync', endpoint: 'forge-scheduled', interval: 'day' },
      { key: 'forge-scheduled-trigger', endpoint: 'forge-scheduled', interval: 'hour' },
    ]);
    expect(warnings).toEqual([expect.stringContaining("C.all takes every event ('*')")]);
  });

  it('writes a Forge-only app without app.connect or connectModules', () => {
    const { manifest } = assembleForgeManifest(input({ app: app({ connect: false, descriptor: null }), hasForgeRemoteRoutes: true }));
    expect(manifest.app.connect).toBeUndefined();
    expect(manifest.connectModules).toBeUndefined();
    expect(manifest.permissions.scopes).toEqual(['read:app-system-token', 'read:app-user-token']);
    expect(manifest.modules!.endpoint!.map((endpoint) => endpoint.route.path)).toEqual(['/forge/events', '/forge/events/pre-uninstall']);
  });

  it('leaves the event modules out when forgeEvents.path is false, warning when handlers wait for them', () => {
    const result = assembleForgeManifest(input({ eventPaths: undefined, handlers: { events: [], scheduled: [], preUninstall: [{ name: 'G.bye', metadata: {} }] } }));
    expect(result.manifest.modules).toBeUndefined();
    expect(result.warnings[0]).toContain('forgeEvents.path is false');
  });

  it.each([
    ['no forge.appId', () => input({ app: app({ forgeAppId: undefined }) }), 'has no forge.appId'],
    ['a Confluence scope on Jira', () => input({ app: app({ descriptor: { scopes: ['SPACE_ADMIN'] } }) }), 'not a Connect scope of jira'],
    ['a module key the framework uses', () => input({ app: app({ descriptor: { modules: { generalPages: [{ key: 'forge-events-trigger' }] } } }) }), 'used twice'],
    ['a bad module key', () => input({ app: app({ descriptor: { modules: { generalPages: [{ key: 'a b' }] } } }) }), 'has the key'],
    ['neither modules nor endpoints', () => input({ app: app({ connect: false, descriptor: null }), eventPaths: undefined }), 'needs one of them'],
  ])('refuses %s with forge/invalid-manifest', (_what, make, message) => {
    const error = failure(() => assembleForgeManifest(make()));
    expect(error.code).toBe('forge/invalid-manifest');
    expect(error.message).toContain(message);
  });

  describe('migration:dataResidency', () => {
    it('is one module on the remote at the served path, relative to the baseUrl, when start and status have handlers', () => {
      const { manifest, warnings } = assembleForgeManifest(input({ realmMigrationPhases: ['schedule', 'start', 'status', 'commit', 'rollback'] }), {
        remoteKey: 'remote-backend',
        maxMigrationDurationHours: 6,
      });
      expect(manifest.modules!['migration:dataResidency']).toEqual([
        { key: 'forge-realm-migration', remote: 'remote-backend', path: '/forge/realm-migration', maxMigrationDurationHours: 6 },
      ]);
      expect(Object.keys(manifest.modules!).at(-1)).toBe('migration:dataResidency');
      expect(warnings).toEqual([]);
    });

    it('says maxMigrationDurationHours 1.5 when not told, and is written for a Forge-only app without event endpoints', () => {
      const { manifest } = assembleForgeManifest(
        input({
          app: app({ connect: false, descriptor: null, basePath: '', baseUrl: 'https://app.example.com' }),
          eventPaths: undefined,
          realmMigrationPath: '/hooks/realm',
          realmMigrationPhases: ['start', 'status'],
        }),
      );
      expect(manifest.modules).toEqual({ 'migration:dataResidency': [{ key: 'forge-realm-migration', remote: 'backend', path: '/hooks/realm', maxMigrationDurationHours: 1.5 }] });
    });

    it.each([
      ['no handlers', [], undefined],
      ['no status handler', ['schedule', 'start', 'commit'], 'not of both start and status'],
      ['no start handler', ['status'], 'not of both start and status'],
    ] as const)('is left out with %s', (_what, phases, warning) => {
      const { manifest, warnings } = assembleForgeManifest(input({ realmMigrationPhases: phases }));
      expect(manifest.modules!['migration:dataResidency']).toBeUndefined();
      expect(warnings).toEqual(warning === undefined ? [] : [expect.stringContaining(warning)]);
    });

    it('is left out, with a warning, when forgeRealmMigration.path is false', () => {
      const { manifest, warnings } = assembleForgeManifest(input({ realmMigrationPath: undefined, realmMigrationPhases: ['start', 'status'] }));
      expect(manifest.modules!['migration:dataResidency']).toBeUndefined();
      expect(warnings).toEqual([expect.stringContaining('forgeRealmMigration.path is false')]);
    });

    it('warns when the remote says it stores no in-scope End-User Data', () => {
      expect(assembleForgeManifest(input({ realmMigrationPhases: ['start', 'status'] }), { inScopeEUD: false }).warnings).toEqual([expect.stringContaining('inScopeEUD is false')]);
    });

    it.each([0, 0.25, 0.7, 24.5, Number.NaN, '2' as unknown as number])('refuses maxMigrationDurationHours %p', (hours) => {
      const error = failure(() => assembleForgeManifest(input(), { maxMigrationDurationHours: hours }));
      expect(error.code).toBe('forge/invalid-manifest');
      expect(error.message).toContain('is not 0.5 to 24 in steps of 0.5');
    });
  });

  describe('hosted storage', () => {
    it('adds storage:app and asks the remote for the system token when something injects ForgeStorage', () => {
      const { manifest } = assembleForgeManifest(input({ injectsForgeStorage: true }));
      expect(manifest.permissions.scopes).toEqual(['read:connect-jira', 'write:connect-jira', 'project-admin:connect-jira', 'read:app-system-token', 'storage:app']);
      expect(manifest.remotes[0]!.auth).toEqual({ appSystemToken: { enabled: true } });
    });

    it('keeps both tokens of @ForgeAuth() routes, and adds storage:app once even when --scope names it too', () => {
      const { manifest } = assembleForgeManifest(input({ app: app({ descriptor: {} }), hasForgeRemoteRoutes: true }), {
        storage: true,
        extraScopes: ['storage:app', 'read:jira-work'],
      });
      expect(manifest.permissions.scopes).toEqual(['read:app-system-token', 'read:app-user-token', 'storage:app', 'read:jira-work']);
      expect(manifest.remotes[0]!.auth).toEqual({ appSystemToken: { enabled: true }, appUserToken: { enabled: true } });
    });

    it('is off without a consumer, and the option overrides what was discovered either way', () => {
      expect(assembleForgeManifest(input()).manifest.permissions.scopes).not.toContain('storage:app');
      expect(assembleForgeManifest(input(), { storage: true }).manifest.permissions.scopes).toContain('storage:app');
      const off = assembleForgeManifest(input({ injectsForgeStorage: true }), { storage: false }).manifest;
      expect(off.permissions.scopes).not.toContain('storage:app');
      expect(off.remotes[0]!.auth).toBeUndefined();
    });
  });

  it('refuses a remote key Forge would refuse', () => {
    expect(failure(() => assembleForgeManifest(input(), { remoteKey: 'x'.repeat(24) })).message).toContain('is not 1-23');
  });
});
