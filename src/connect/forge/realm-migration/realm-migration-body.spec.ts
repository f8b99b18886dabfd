import { ConnectError } from '../../errors/connect-error.js';
import { parseRealmMigrationBody, parseRealmMigrationStatusQuery, realmMigrationStatusBody } from './realm-migration-body.js';

const codeOf = (run: () => unknown): string | undefined => {
  try {
    run();
  } catch (error) {
    return error instanceof ConnectError ? error.code : `not a ConnectError: ${String(error)}`;
  }
  return undefined;
};

describe('parseRealmMigrationBody', () => {
  it('reads the schedule/start body of Atlassian’s example, migrationId as text and the times as dates', () => {
    const parsed = parseRealmMigrationBody('start', { startTime: '2021-12-26T00:00:00.000Z', endTime: '2021-12-27T00:00:00.000Z', location: 'EU', migrationId: 57500 });
    expect(parsed).toEqual({
      phase: 'start',
      migrationId: '57500',
      location: 'EU',
      startTime: new Date('2021-12-26T00:00:00.000Z'),
      endTime: new Date('2021-12-27T00:00:00.000Z'),
      payload: { startTime: '2021-12-26T00:00:00.000Z', endTime: '2021-12-27T00:00:00.000Z', location: 'EU', migrationId: 57500 },
    });
    expect(Object.isFrozen(parsed.payload)).toBe(true);
  });

  it('takes string ids, missing times and fields it does not know (kept in the payload)', () => {
    expect(parseRealmMigrationBody('schedule', { migrationId: 'mig-2:eu', location: 'AU', extra: { a: 1 } })).toMatchObject({
      migrationId: 'mig-2:eu',
      startTime: undefined,
      endTime: undefined,
      payload: { extra: { a: 1 } },
    });
    expect(parseRealmMigrationBody('commit', { migrationId: 0 })).toEqual({ phase: 'commit', migrationId: '0', payload: { migrationId: 0 } });
    expect(parseRealmMigrationBody('rollback', { migrationId: '9', location: 'ignored' })).toMatchObject({ phase: 'rollback', migrationId: '9' });
  });

  it.each<[string, 'schedule' | 'start' | 'commit' | 'rollback', unknown]>([
    ['null', 'commit', null],
    ['an array', 'commit', [{ migrationId: 1 }]],
    ['a string', 'commit', 'migrationId=1'],
    ['no migrationId', 'commit', {}],
    ['a negative id', 'commit', { migrationId: -3 }],
    ['a fractional id', 'commit', { migrationId: 2.5 }],
    ['an unsafe integer id', 'commit', { migrationId: 2 ** 60 }],
    ['an id with a slash', 'rollback', { migrationId: '1/2' }],
    ['an overlong id', 'rollback', { migrationId: 'a'.repeat(129) }],
    ['no location', 'schedule', { migrationId: 1 }],
    ['a location with a space', 'start', { migrationId: 1, location: 'E U' }],
    ['a numeric location', 'start', { migrationId: 1, location: 1 }],
    ['a date without time', 'start', { migrationId: 1, location: 'EU', startTime: '2021-12-26' }],
    ['an impossible date', 'start', { migrationId: 1, location: 'EU', endTime: '2021-13-45T00:00:00Z' }],
    ['a time as a number', 'start', { migrationId: 1, location: 'EU', startTime: 1_640_476_800_000 }],
    ['an end before the start', 'schedule', { migrationId: 1, location: 'EU', startTime: '2021-12-27T00:00:00Z', endTime: '2021-12-26T23:59:59Z' }],
  ])('refuses %s with forge/invalid-realm-migration', (_what, phase, body) => {
    expect(codeOf(() => parseRealmMigrationBody(phase, body))).toBe('forge/invalid-realm-migration');
  });
});

describe('parseRealmMigrationStatusQuery', () => {
  it('reads ?migrationId=, or none', () => {
    expect(parseRealmMigrationStatusQuery('/jira/forge/realm-migration/status?migrationId=57500')).toEqual({
      phase: 'status',
      migrationId: '57500',
      payload: { migrationId: '57500' },
    });
    expect(parseRealmMigrationStatusQuery('/jira/forge/realm-migration/status')).toEqual({ phase: 'status', migrationId: undefined, payload: {} });
    expect(parseRealmMigrationStatusQuery('/s?other=1')).toMatchObject({ migrationId: undefined });
  });

  it.each(['/s?migrationId=1&migrationId=1', '/s?migrationId=', '/s?migrationId=a%2Fb'])('refuses %s', (url) => {
    expect(codeOf(() => parseRealmMigrationStatusQuery(url))).toBe('forge/invalid-realm-migration');
  });
});

describe('realmMigrationStatusBody', () => {
  it('passes ready-to-commit, failed with a code, and any working status', () => {
    expect(realmMigrationStatusBody({ status: 'ready-to-commit' }, 'H.status')).toEqual({ status: 'ready-to-commit' });
    expect(realmMigrationStatusBody({ status: 'failed', errorResponseCode: 'E0004' }, 'H.status')).toEqual({ status: 'failed', errorResponseCode: 'E0004' });
    expect(realmMigrationStatusBody({ status: 'failed' }, 'H.status')).toEqual({ status: 'failed' });
    expect(realmMigrationStatusBody({ status: 'copying_2', note: 'dropped' }, 'H.status')).toEqual({ status: 'copying_2' });
  });

  it.each<[string, unknown]>([
    ['undefined', undefined],
    ['a bare string', 'ready-to-commit'],
    ['an upper-case status', { status: 'READY' }],
    ['an empty status', { status: '' }],
    ['an unknown code', { status: 'failed', errorResponseCode: 'E1234' }],
    ['a code without failed', { status: 'in-progress', errorResponseCode: 'E9999' }],
  ])('treats %s as the handler’s failure', (_what, value) => {
    expect(codeOf(() => realmMigrationStatusBody(value, 'H.status'))).toBe('forge/realm-migration-failed');
  });
});
