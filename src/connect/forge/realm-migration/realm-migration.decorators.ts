import { DiscoveryService } from '@nestjs/core';
import type { LifecycleHookFilter } from '../../discovery/method-hooks.js';
import { REALM_MIGRATION_PHASES, type RealmMigrationPhase } from './realm-migration.js';

/** What `@OnRealmMigration()` records on a method. */
export interface RealmMigrationHookMetadata extends LifecycleHookFilter {
  readonly phase: RealmMigrationPhase;
}

/** @internal The discoverable decorator behind `@OnRealmMigration()`. */
export const RealmMigrationHook = DiscoveryService.createDecorator<RealmMigrationHookMetadata>();

/**
 * Runs the decorated method for one hook of a data residency (realm) migration, after the framework
 * verified the Forge Invocation Token and read the body. An app has at most one handler per phase
 * (checked at start-up). The method receives `RealmMigrationContextOf<phase>`; the status handler
 * returns a `RealmMigrationStatus`. Throw `refuseRealmMigration(code)` to decline with one of
 * Atlassian's codes (no retries); any other throw answers 500, which Atlassian retries. Handlers must
 * be idempotent per `migrationId`: a retry after a timeout may come while the first call still runs.
 *
 * Without a `start` and a `status` handler the app cannot migrate: `/schedule` and `/start` are
 * declined with `E0003` and `/status` answers `failed` (`E0003`). Without a `schedule`, `commit` or
 * `rollback` handler that phase has nothing to do and answers 200.
 *
 * @example
 * ```ts
 * @Injectable()
 * export class NotesMigration {
 *   @OnRealmMigration('start') start(m: RealmMigrationContextOf<'start'>) { return this.copier.begin(m.forge.installationId, m.location); }
 *   @OnRealmMigration('status') status(m: RealmMigrationContextOf<'status'>): RealmMigrationStatus { return { status: this.copier.done(m.forge.installationId) ? 'ready-to-commit' : 'in-progress' }; }
 *   @OnRealmMigration('commit') commit(m: RealmMigrationContextOf<'commit'>) { return this.copier.switchOver(m.forge.installationId); }
 *   @OnRealmMigration('rollback') rollback(m: RealmMigrationContextOf<'rollback'>) { return this.copier.discard(m.forge.installationId); }
 * }
 * ```
 */
export function OnRealmMigration(phase: RealmMigrationPhase, filter: LifecycleHookFilter = {}): MethodDecorator {
  if (!(REALM_MIGRATION_PHASES as readonly string[]).includes(phase)) {
    throw new TypeError(`@OnRealmMigration: ${JSON.stringify(phase)} is not a realm migration phase (${REALM_MIGRATION_PHASES.join(', ')}).`);
  }
  return RealmMigrationHook({ ...filter, phase });
}
