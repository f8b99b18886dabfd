/*
 * Atlassian's contract for Forge Remote data residency (realm) migrations, as written in the Forge docs
 * pages "Support data residency realm migrations for Forge Remote" (platform/forge/remote/remote-realm-migration),
 * "Set up remotes for data residency realm pinning" (platform/forge/remote/remote-realm-pinning) and the
 * `remotes` manifest reference (platform/forge/manifest-reference/remotes, `storage.inScopeEUD`):
 *
 * - manifest: `modules: { migration:dataResidency: { key, remote, path, maxMigrationDurationHours } }`;
 *   the hooks are `<remote baseUrl><path>/<hook>`, called by Atlassian's migration service (not the
 *   product) with a FIT as bearer token.
 * - POST /schedule and POST /start: `{ startTime, endTime, location, migrationId }`.
 * - GET /status?migrationId=…: no body. Answers `{ status: 'ready-to-commit' }`, `{ status: 'failed',
 *   errorResponseCode? }`, or any other status (still working). Polled every 5 minutes.
 * - POST /commit and POST /rollback: `{ migrationId }`.
 * - A non-2xx without `errorResponseCode` is retried up to twice, 5 s apart; with one, the migration
 *   fails at once and /rollback follows. Codes: E0001 not scheduled, E0002 target region unsupported,
 *   E0003 migrations unsupported, E0004 too many concurrent migrations, E9999 generic.
 *
 * Where the pages say nothing, this framework chooses (and the README documents): `migrationId` is taken
 * as a JSON number or a short id string and handed over as a string; `location` is required on
 * schedule/start, the times are optional but must be ISO dates when sent; status's `migrationId` may be
 * absent; success answers are 200 with a small JSON body.
 */
import type { ResolvedConnectApp } from '../../config/resolved-connect-app.js';
import { ConnectError } from '../../errors/connect-error.js';
import type { ForgeInstallation } from '../forge-installations.js';
import type { ForgeInvocationContext } from '../forge-invocation-context.js';

/** The five hooks of a realm migration, in the order Atlassian calls them (rollback instead of commit). */
export const REALM_MIGRATION_PHASES = ['schedule', 'start', 'status', 'commit', 'rollback'] as const;

/** One hook of a realm migration. */
export type RealmMigrationPhase = (typeof REALM_MIGRATION_PHASES)[number];

/** Atlassian's standard reasons for a failed migration, sent back as `errorResponseCode`. */
export const REALM_MIGRATION_ERROR_CODES = Object.freeze({
  E0001: 'The migration was not scheduled.',
  E0002: 'The app does not support the target region.',
  E0003: 'The app does not support migrations.',
  E0004: 'The app has too many concurrent migrations.',
  E9999: 'The migration failed.',
} as const);

/** `E0001` … `E0004`, `E9999`. */
export type RealmMigrationErrorCode = keyof typeof REALM_MIGRATION_ERROR_CODES;

/** Whether `value` is one of Atlassian's migration error codes. */
export function isRealmMigrationErrorCode(value: unknown): value is RealmMigrationErrorCode {
  return typeof value === 'string' && Object.hasOwn(REALM_MIGRATION_ERROR_CODES, value);
}

/** What every realm migration handler receives, whatever the phase. */
export interface RealmMigrationContextBase {
  /** The app (by the FIT's Forge app id). */
  readonly app: ResolvedConnectApp;
  /** The installation as recorded after this call (`null` when installations are not kept: an app-provided tenant store). */
  readonly installation: ForgeInstallation | null;
  /** The verified Forge call (installationId, cloudId …). */
  readonly forge: ForgeInvocationContext;
  /** The request body as sent (the query's parameters for status), frozen; fields not named here included. */
  readonly payload: Readonly<Record<string, unknown>>;
}

/** `/schedule` and `/start`: the migration window and where the data goes. */
export interface RealmMigrationWindowContext extends RealmMigrationContextBase {
  readonly phase: 'schedule' | 'start';
  /** Atlassian's id of the migration (its number as text, e.g. `"57500"`). */
  readonly migrationId: string;
  /** The target location, as Atlassian names it (`EU`, `US`, `AU`, `DE` …). */
  readonly location: string;
  /** When the site goes offline, when sent. */
  readonly startTime: Date | undefined;
  /** When the migration window ends, when sent. */
  readonly endTime: Date | undefined;
}

/** `/status`: how far the migration is. */
export interface RealmMigrationStatusContext extends RealmMigrationContextBase {
  readonly phase: 'status';
  /** `?migrationId=`; Atlassian may leave it out: then it is the installation's current migration. */
  readonly migrationId: string | undefined;
}

/** `/commit` (make the copy in the new realm the data) and `/rollback` (drop it; the old realm stays). */
export interface RealmMigrationOutcomeContext extends RealmMigrationContextBase {
  readonly phase: 'commit' | 'rollback';
  readonly migrationId: string;
}

/** What a `@OnRealmMigration()` handler receives; narrow it with `RealmMigrationContextOf<'start'>`. */
export type RealmMigrationContext = RealmMigrationWindowContext | RealmMigrationStatusContext | RealmMigrationOutcomeContext;

/** The context of one phase. */
export type RealmMigrationContextOf<Phase extends RealmMigrationPhase> = Phase extends 'status'
  ? RealmMigrationStatusContext
  : Phase extends 'schedule' | 'start'
    ? RealmMigrationWindowContext & { readonly phase: Phase }
    : RealmMigrationOutcomeContext & { readonly phase: Phase };

/**
 * What a status handler returns, sent as is: `ready-to-commit` (the copy is complete; Atlassian sends
 * /commit when the window ends), `failed` (optionally with an `errorResponseCode`; /rollback follows),
 * or any other status of `a-z 0-9 - _` (still working: Atlassian polls again).
 */
export interface RealmMigrationStatus {
  readonly status: 'ready-to-commit' | 'failed' | 'in-progress' | (string & NonNullable<unknown>);
  /** Only with `failed`. */
  readonly errorResponseCode?: RealmMigrationErrorCode | undefined;
}

/**
 * The error a handler throws to decline a migration with one of Atlassian's codes: answered 409
 * `forge/realm-migration-refused` with `errorResponseCode`, so Atlassian fails the migration at once
 * (no retries) and sends /rollback. From a status handler it is answered as the `failed` status. Any
 * other error is a 500 without a code, which Atlassian retries.
 *
 * @example
 * ```ts
 * if (!SUPPORTED.has(migration.location)) throw refuseRealmMigration('E0002', `We do not host data in ${migration.location}.`);
 * ```
 */
export function refuseRealmMigration(errorResponseCode: RealmMigrationErrorCode, message: string = REALM_MIGRATION_ERROR_CODES[errorResponseCode]): ConnectError {
  if (!isRealmMigrationErrorCode(errorResponseCode))
    throw new TypeError(`refuseRealmMigration: ${JSON.stringify(errorResponseCode)} is not one of ${Object.keys(REALM_MIGRATION_ERROR_CODES).join(', ')}.`);
  return ConnectError.create('forge/realm-migration-refused', message, { errorResponseCode });
}
