import { CONNECT_DEFAULTS } from '../../config/connect-defaults.js';
import { resolveConnectOptions } from '../../config/resolve-connect-options.js';
import { toErrorResponse } from '../../errors/connect-error-http.js';
import { isRealmMigrationErrorCode, refuseRealmMigration, REALM_MIGRATION_ERROR_CODES } from './realm-migration.js';
import { OnRealmMigration } from './realm-migration.decorators.js';

describe('refuseRealmMigration', () => {
  it('is a 409 forge/realm-migration-refused carrying the code, with Atlassian’s reason as the default message', () => {
    const error = refuseRealmMigration('E0002');
    expect(error).toMatchObject({ code: 'forge/realm-migration-refused', message: REALM_MIGRATION_ERROR_CODES.E0002, detail: { errorResponseCode: 'E0002' } });
    expect(toErrorResponse(error).status).toBe(409);
    expect(refuseRealmMigration('E0004', 'Busy.').message).toBe('Busy.');
  });

  it('takes only Atlassian’s codes', () => {
    expect(() => refuseRealmMigration('E0005' as never)).toThrow(TypeError);
    expect(Object.keys(REALM_MIGRATION_ERROR_CODES).filter(isRealmMigrationErrorCode)).toEqual(['E0001', 'E0002', 'E0003', 'E0004', 'E9999']);
    expect(isRealmMigrationErrorCode('toString')).toBe(false);
  });
});

describe('@OnRealmMigration', () => {
  it('refuses a phase Atlassian does not call', () => {
    expect(() => OnRealmMigration('cancel' as never)).toThrow(/not a realm migration phase \(schedule, start, status, commit, rollback\)/);
  });
});

describe('forgeRealmMigration.path', () => {
  const APPS = [{ product: 'jira' as const, key: 'com.test.realm-options', baseUrl: 'https://realm-options.example.com/jira', descriptor: { name: 'R' } }];
  const STORE = { find: async () => null, install: async () => ({}) as never, update: async () => null, ping: async () => undefined };
  const resolvePath = (path: unknown) =>
    resolveConnectOptions({ apps: APPS, tenantStore: STORE, retention: { schedule: false }, forgeRealmMigration: { path: path as string } }, { nodeEnv: 'test' }).then(
      (resolved) => resolved.forgeRealmMigration.path,
    );

  it('defaults to /forge/realm-migration, takes a path or false', async () => {
    expect(CONNECT_DEFAULTS.forgeRealmMigration.path).toBe('/forge/realm-migration');
    expect(await resolvePath(undefined)).toBe('/forge/realm-migration');
    expect(await resolvePath('/dr/hooks')).toBe('/dr/hooks');
    expect(await resolvePath(false)).toBe(false);
  });

  it.each(['', 'forge', '/forge/', '/a b', 7])('refuses %p with config/invalid', async (path) => {
    await expect(resolvePath(path)).rejects.toMatchObject({ code: 'config/invalid', message: expect.stringContaining('forgeRealmMigration.path') });
  });
});
