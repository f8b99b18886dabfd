import { FORGE_OAUTH_SYSTEM_HEADER } from '../forge/forge-auth.constants.js';
import type { RealmMigrationPhase } from '../forge/realm-migration/realm-migration.js';
import type { MintInvocationTokenOptions } from './fake-forge-host.js';
import { sleep } from './fake-http.js';
import { httpCall } from './http-call.js';

/** Atlassian retries a hook answered non-2xx without `errorResponseCode` up to twice, 5 s apart. */
export const REALM_MIGRATION_RETRIES = 2;
export const REALM_MIGRATION_RETRY_DELAY_MS = 5000;
/** Atlassian polls `/status` every 5 minutes. */
export const REALM_MIGRATION_POLL_INTERVAL_MS = 5 * 60_000;
/** The default window (`maxMigrationDurationHours` unset: 1.5 h) at one poll per 5 minutes. */
export const REALM_MIGRATION_MAX_POLLS = 18;
/** Not documented by Atlassian; long enough for any sane hook. */
export const REALM_MIGRATION_CALL_TIMEOUT_MS = 30_000;
/** The `migration:dataResidency` module key the FITs name unless told otherwise. */
export const DEFAULT_REALM_MIGRATION_MODULE_KEY = 'dare';

/** How {@link FakeForgeHost.migrateRealm} drives a migration (every field has Atlassian's default). */
export interface RealmMigrationDriveOptions {
  /** Default a random number below 10^6, sent as a JSON number (as Atlassian's examples). */
  migrationId?: number | string;
  /** The target location. Default `EU`. */
  location?: string;
  /** Default now. */
  startTime?: Date;
  /** Default `startTime` + 1.5 h. */
  endTime?: Date;
  /** Overrides of each call's FIT (by default: module `migration:dataResidency` `moduleKey`, no principal). */
  token?: MintInvocationTokenOptions;
  /** The `migration:dataResidency` module key. Default `dare`. */
  moduleKey?: string;
  /** Sent as `x-forge-oauth-system` on every call, when given. */
  systemToken?: string;
  /** Retries of a failed schedule/start/commit/rollback. Default 2. */
  retries?: number;
  /** Wait before each retry, in ms. Default 5000; tests use a few ms. */
  retryDelayMs?: number;
  /** Wait before each status poll, in ms. Default 300 000; tests use a few ms. */
  pollIntervalMs?: number;
  /** Status polls before the window is over (the last answer then decides). Default 18. */
  maxPolls?: number;
  /** How long one call may take, in ms. Default 30 000. */
  timeoutMs?: number;
  /** The admin cancels the migration after this hook succeeded: /rollback follows at once. */
  cancelAfter?: 'schedule' | 'start';
  /** Poll `/status` without `?migrationId=` (Atlassian's docs say it *can* include it). Default false. */
  statusWithoutMigrationId?: boolean;
  /** Overrides the Host header. */
  host?: string;
}

/** One call of a migration, as the app answered it. */
export interface RealmMigrationCall {
  readonly phase: RealmMigrationPhase;
  /** 1 for the first call of a hook, more for its retries. */
  readonly attempt: number;
  /** The HTTP status, `'timeout'` or `'network-error'`. */
  readonly status: number | 'timeout' | 'network-error';
  /** The answer (parsed JSON, or text). */
  readonly body: unknown;
  /** The FIT of this call (a fresh one each time). */
  readonly fit: string;
}

/** Why a migration was rolled back. */
export type RealmMigrationRollbackReason = 'schedule-failed' | 'start-failed' | 'failed' | 'not-ready' | 'cancelled' | 'commit-failed';

/** How a driven migration ended. */
export interface RealmMigrationReport {
  readonly migrationId: string;
  /** `committed`: /commit was answered 2xx. `rolled-back`: /rollback was sent (whatever it answered). */
  readonly outcome: 'committed' | 'rolled-back';
  readonly reason: RealmMigrationRollbackReason | undefined;
  /** The `errorResponseCode` that failed the migration, when the app sent one. */
  readonly errorResponseCode: string | undefined;
  /** Every status the app reported, in order (`undefined` for a poll answered non-2xx). */
  readonly statuses: (string | undefined)[];
  /** Every call in order. */
  readonly calls: RealmMigrationCall[];
}

/** One migration to drive; see {@link driveRealmMigration}. */
export interface RealmMigrationDrive {
  /** The module's hook base: `<remote baseUrl><path>`, e.g. `http://127.0.0.1:3000/jira/forge/realm-migration`. */
  url: string;
  options: RealmMigrationDriveOptions;
  mintFit: () => Promise<string>;
}

/**
 * Plays Atlassian's migration service (Forge docs, "Support data residency realm migrations for Forge
 * Remote"): /schedule, then /start, then /status polls until `ready-to-commit` or `failed` (or the
 * window ends), then /commit, or /rollback when anything failed, the status was not `ready-to-commit`,
 * the commit failed, or the admin cancelled. A hook answered non-2xx without `errorResponseCode` is
 * retried; with one, the migration fails at once. Each call carries a fresh FIT.
 */
export async function driveRealmMigration(drive: RealmMigrationDrive): Promise<RealmMigrationReport> {
  const { options } = drive;
  const retries = options.retries ?? REALM_MIGRATION_RETRIES;
  const maxPolls = options.maxPolls ?? REALM_MIGRATION_MAX_POLLS;
  if (!Number.isInteger(retries) || retries < 0) throw new TypeError(`retries must be a whole number ≥ 0, not ${retries}.`);
  if (!Number.isInteger(maxPolls) || maxPolls < 1) throw new TypeError(`maxPolls must be a whole number ≥ 1, not ${maxPolls}.`);
  const rawId = options.migrationId ?? Math.floor(Math.random() * 1_000_000);
  const migrationId = String(rawId);
  const startTime = options.startTime ?? new Date();
  const endTime = options.endTime ?? new Date(startTime.getTime() + 90 * 60_000);
  const window = { startTime: startTime.toISOString(), endTime: endTime.toISOString(), location: options.location ?? 'EU', migrationId: rawId };
  const calls: RealmMigrationCall[] = [];
  const statuses: (string | undefined)[] = [];
  const report = (outcome: RealmMigrationReport['outcome'], reason?: RealmMigrationRollbackReason, errorResponseCode?: string): RealmMigrationReport => ({
    migrationId,
    outcome,
    reason,
    errorResponseCode,
    statuses,
    calls,
  });
  const call = (phase: RealmMigrationPhase, attempt: number) =>
    send(drive, phase, attempt, phase === 'commit' || phase === 'rollback' ? { migrationId: rawId } : window, migrationId);
  const hook = async (phase: Exclude<RealmMigrationPhase, 'status'>): Promise<{ ok: boolean; errorResponseCode: string | undefined }> => {
    for (let attempt = 1; attempt <= retries + 1; attempt++) {
      if (attempt > 1) await sleep(options.retryDelayMs ?? REALM_MIGRATION_RETRY_DELAY_MS);
      const answer = await call(phase, attempt);
      calls.push(answer);
      if (isOk(answer.status)) return { ok: true, errorResponseCode: undefined };
      const code = errorCodeOf(answer.body);
      if (code !== undefined) return { ok: false, errorResponseCode: code };
    }
    return { ok: false, errorResponseCode: undefined };
  };
  const rollback = async (reason: RealmMigrationRollbackReason, errorResponseCode?: string) => {
    await hook('rollback');
    return report('rolled-back', reason, errorResponseCode);
  };

  const scheduled = await hook('schedule');
  if (!scheduled.ok) return rollback('schedule-failed', scheduled.errorResponseCode);
  if (options.cancelAfter === 'schedule') return rollback('cancelled');
  const started = await hook('start');
  if (!started.ok) return rollback('start-failed', started.errorResponseCode);
  if (options.cancelAfter === 'start') return rollback('cancelled');

  let last: { status: string | undefined; errorResponseCode: string | undefined } = { status: undefined, errorResponseCode: undefined };
  for (let poll = 1; poll <= maxPolls; poll++) {
    await sleep(options.pollIntervalMs ?? REALM_MIGRATION_POLL_INTERVAL_MS);
    const answer = await call('status', poll);
    calls.push(answer);
    const body = (answer.body ?? {}) as { status?: unknown; errorResponseCode?: unknown };
    last =
      isOk(answer.status) && typeof body.status === 'string' ? { status: body.status, errorResponseCode: errorCodeOf(body) } : { status: undefined, errorResponseCode: undefined };
    statuses.push(last.status);
    if (last.status === 'ready-to-commit' || last.status === 'failed') break;
  }
  if (last.status === 'failed') return rollback('failed', last.errorResponseCode);
  if (last.status !== 'ready-to-commit') return rollback('not-ready');
  const committed = await hook('commit');
  if (!committed.ok) return rollback('commit-failed', committed.errorResponseCode);
  return report('committed');
}

const isOk = (status: RealmMigrationCall['status']): boolean => typeof status === 'number' && status >= 200 && status < 300;

function errorCodeOf(body: unknown): string | undefined {
  const code = typeof body === 'object' && body !== null ? (body as { errorResponseCode?: unknown }).errorResponseCode : undefined;
  return typeof code === 'string' ? code : undefined;
}

async function send(drive: RealmMigrationDrive, phase: RealmMigrationPhase, attempt: number, body: unknown, migrationId: string): Promise<RealmMigrationCall> {
  const { options } = drive;
  const fit = await drive.mintFit();
  const headers: Record<string, string> = { accept: 'application/json', authorization: `Bearer ${fit}` };
  if (options.systemToken !== undefined) headers[FORGE_OAUTH_SYSTEM_HEADER] = options.systemToken;
  const isStatus = phase === 'status';
  const query = isStatus && !options.statusWithoutMigrationId ? `?migrationId=${encodeURIComponent(migrationId)}` : '';
  const timeoutMs = options.timeoutMs ?? REALM_MIGRATION_CALL_TIMEOUT_MS;
  const deadline = new AbortController();
  const timer = setTimeout(() => deadline.abort(), timeoutMs);
  try {
    const res = await httpCall({
      method: isStatus ? 'GET' : 'POST',
      url: `${drive.url}/${phase}${query}`,
      headers,
      ...(!isStatus && { body }),
      signal: deadline.signal,
      timeoutMs: timeoutMs + 1000,
      ...(options.host !== undefined && { host: options.host }),
    });
    return { phase, attempt, status: res.status, body: res.body, fit };
  } catch (error) {
    if (deadline.signal.aborted) return { phase, attempt, status: 'timeout', body: undefined, fit };
    return { phase, attempt, status: 'network-error', body: error instanceof Error ? error.message : String(error), fit };
  } finally {
    clearTimeout(timer);
  }
}
