import { ConnectError } from '../../errors/connect-error.js';
import { deepFreeze, objectOf } from '../../util/plain-object.js';
import { isRealmMigrationErrorCode, type RealmMigrationPhase, type RealmMigrationStatus } from './realm-migration.js';

/** A hook's request, read and checked (the phase-specific fields of the handler's context). */
export type ParsedRealmMigration =
  | {
      readonly phase: 'schedule' | 'start';
      readonly migrationId: string;
      readonly location: string;
      readonly startTime: Date | undefined;
      readonly endTime: Date | undefined;
      readonly payload: Readonly<Record<string, unknown>>;
    }
  | { readonly phase: 'status'; readonly migrationId: string | undefined; readonly payload: Readonly<Record<string, unknown>> }
  | { readonly phase: 'commit' | 'rollback'; readonly migrationId: string; readonly payload: Readonly<Record<string, unknown>> };

const MIGRATION_ID = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$/;
const LOCATION = /^[A-Za-z][A-Za-z0-9_-]{0,31}$/;
const ISO_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2})$/;
const STATUS = /^[a-z0-9][a-z0-9_-]{0,63}$/;

const invalid = (message: string): ConnectError => ConnectError.create('forge/invalid-realm-migration', message);

/**
 * Reads the JSON body of `/schedule`, `/start`, `/commit` or `/rollback` as Atlassian's migration
 * service sends it (a bare object, no envelope). `migrationId` (a non-negative integer, or an id of
 * `A-Z a-z 0-9 . _ : -` up to 128 characters) comes out as text; `location` is required on schedule
 * and start; `startTime`/`endTime` are optional ISO 8601 times, the end not before the start. Anything
 * else is a typed 400 `forge/invalid-realm-migration`.
 */
export function parseRealmMigrationBody(phase: Exclude<RealmMigrationPhase, 'status'>, body: unknown): ParsedRealmMigration {
  const root = objectOf(body);
  if (root === undefined) throw invalid(`The ${phase} body is not a JSON object.`);
  const migrationId = migrationIdOf(root.migrationId, phase);
  const payload = deepFreeze({ ...root });
  if (phase === 'commit' || phase === 'rollback') return { phase, migrationId, payload };
  const location = root.location;
  if (typeof location !== 'string' || !LOCATION.test(location)) throw invalid(`The ${phase} body’s location is missing or not a location such as "EU".`);
  const startTime = timeOf(root.startTime, 'startTime', phase);
  const endTime = timeOf(root.endTime, 'endTime', phase);
  if (startTime !== undefined && endTime !== undefined && endTime.getTime() < startTime.getTime()) throw invalid(`The ${phase} body’s endTime is before its startTime.`);
  return { phase, migrationId, location, startTime, endTime, payload };
}

/** Reads `/status?migrationId=…` (the parameter may be absent; given twice or empty it is a 400). */
export function parseRealmMigrationStatusQuery(rawUrl: string): ParsedRealmMigration {
  const question = rawUrl.indexOf('?');
  const params = new URLSearchParams(question < 0 ? '' : rawUrl.slice(question + 1));
  const ids = params.getAll('migrationId');
  if (ids.length > 1) throw invalid('The status query names migrationId more than once.');
  const migrationId = ids.length === 0 ? undefined : migrationIdOf(ids[0], 'status');
  return { phase: 'status', migrationId, payload: deepFreeze(migrationId === undefined ? {} : { migrationId }) };
}

/**
 * Checks what a status handler returned and gives the body Atlassian reads: `{ status }`, plus
 * `errorResponseCode` for `failed`. A wrong shape is the handler's bug: `forge/realm-migration-failed`.
 */
export function realmMigrationStatusBody(value: unknown, handler: string): RealmMigrationStatus {
  const result = objectOf(value);
  const status = result?.status;
  if (typeof status !== 'string' || !STATUS.test(status)) {
    throw ConnectError.create('forge/realm-migration-failed', `The status handler ${handler} returned no status (an object { status } of a-z 0-9 - _, such as "ready-to-commit").`);
  }
  const code = result!.errorResponseCode;
  if (code === undefined || code === null) return { status };
  if (status !== 'failed' || !isRealmMigrationErrorCode(code)) {
    throw ConnectError.create(
      'forge/realm-migration-failed',
      `The status handler ${handler} returned an errorResponseCode that is not one of Atlassian's codes, or with a status other than failed.`,
    );
  }
  return { status, errorResponseCode: code };
}

function migrationIdOf(value: unknown, phase: RealmMigrationPhase): string {
  if (typeof value === 'number' && Number.isSafeInteger(value) && value >= 0) return String(value);
  if (typeof value === 'string' && MIGRATION_ID.test(value)) return value;
  throw invalid(`The ${phase} ${phase === 'status' ? 'query' : 'body'}’s migrationId is ${value === undefined ? 'missing' : 'not a migration id'}.`);
}

function timeOf(value: unknown, name: string, phase: RealmMigrationPhase): Date | undefined {
  if (value === undefined || value === null) return undefined;
  const time = typeof value === 'string' && ISO_TIME.test(value) ? new Date(value) : undefined;
  if (time === undefined || Number.isNaN(time.getTime())) throw invalid(`The ${phase} body’s ${name} is not an ISO 8601 time.`);
  return time;
}
