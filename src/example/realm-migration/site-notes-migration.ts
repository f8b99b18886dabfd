import { Injectable, Logger, type OnApplicationShutdown } from '@nestjs/common';
import { OnRealmMigration, refuseRealmMigration, type RealmMigrationContextOf, type RealmMigrationStatus } from 'atlassian-connect-nest';
import { SiteNotesStore } from './site-notes.store.js';

/** The locations this example "hosts" data in (Atlassian's location names). */
export const EXAMPLE_REALMS: ReadonlySet<string> = new Set(['US', 'EU', 'DE', 'AU', 'CA', 'JP', 'SG', 'KR', 'IN', 'UK', 'CH']);

/**
 * The example's data residency migration (manifest: a `migration:dataResidency` module whose `path` is
 * `/jira/forge/realm-migration` on the backend's remote). Schedule records the migration, start begins
 * a non-destructive copy of the installation's notes into the target realm in the background, status
 * reports `in-progress` until the copy is done, commit makes the copy the data (and drops the old
 * realm's), rollback drops the copy and leaves the notes where they were. Every hook is idempotent per
 * migrationId: Atlassian retries a hook that failed or timed out.
 */
@Injectable()
export class SiteNotesMigration implements OnApplicationShutdown {
  private readonly logger = new Logger('SiteNotesMigration');
  /** Copies under way, by installation (awaited at shutdown). */
  private readonly copies = new Map<string, Promise<void>>();

  constructor(private readonly store: SiteNotesStore) {}

  @OnRealmMigration('schedule')
  async schedule(migration: RealmMigrationContextOf<'schedule'>): Promise<void> {
    if (!EXAMPLE_REALMS.has(migration.location)) throw refuseRealmMigration('E0002', `This app does not host data in ${migration.location}.`);
    const installationId = migration.forge.installationId;
    await this.store.locked(installationId, async (state, manager) => {
      if (state.migrationId === migration.migrationId) return;
      if (state.state !== null && state.state !== 'failed') throw refuseRealmMigration('E0004', `Migration ${state.migrationId} of this site is still under way.`);
      await this.store.save(manager, { ...state, migrationId: migration.migrationId, targetRealm: migration.location, state: 'scheduled' });
    });
  }

  @OnRealmMigration('start')
  async start(migration: RealmMigrationContextOf<'start'>): Promise<void> {
    const installationId = migration.forge.installationId;
    const begin = await this.store.locked(installationId, async (state, manager) => {
      if (state.migrationId !== migration.migrationId) throw refuseRealmMigration('E0001', `Migration ${migration.migrationId} was not scheduled for this site.`);
      if (state.state === 'copying' || state.state === 'copied') return false; // a retry: the copy is under way or done
      await this.store.save(manager, { ...state, targetRealm: migration.location, state: 'copying' });
      return true;
    });
    if (begin) this.copyInBackground(installationId, migration.migrationId);
  }

  @OnRealmMigration('status')
  async status(migration: RealmMigrationContextOf<'status'>): Promise<RealmMigrationStatus> {
    const state = await this.store.stateOf(migration.forge.installationId);
    if (state.migrationId === null || (migration.migrationId !== undefined && state.migrationId !== migration.migrationId)) return { status: 'failed', errorResponseCode: 'E0001' };
    if (state.state === 'copied') return { status: 'ready-to-commit' };
    if (state.state === 'failed') return { status: 'failed', errorResponseCode: 'E9999' };
    return { status: state.state === 'copying' ? 'in-progress' : 'not-started' };
  }

  @OnRealmMigration('commit')
  async commit(migration: RealmMigrationContextOf<'commit'>): Promise<void> {
    await this.store.locked(migration.forge.installationId, async (state, manager) => {
      if (state.migrationId !== migration.migrationId) return; // committed already (a retry), or never ours
      if (state.state !== 'copied' || state.targetRealm === null) throw refuseRealmMigration('E9999', `Migration ${migration.migrationId} has no complete copy to commit.`);
      if (state.targetRealm !== state.homeRealm) await this.store.drop(manager, state.installationId, state.homeRealm);
      await this.store.save(manager, { ...state, homeRealm: state.targetRealm, migrationId: null, targetRealm: null, state: null });
      this.logger.log(`Notes of ${state.installationId} now live in ${state.targetRealm} (migration ${migration.migrationId}).`);
    });
  }

  @OnRealmMigration('rollback')
  async rollback(migration: RealmMigrationContextOf<'rollback'>): Promise<void> {
    const installationId = migration.forge.installationId;
    await this.copies.get(installationId); // a copy still running must not land after the rollback
    await this.store.locked(installationId, async (state, manager) => {
      if (state.migrationId !== migration.migrationId) return; // rolled back already, or never ours
      if (state.targetRealm !== null && state.targetRealm !== state.homeRealm) await this.store.drop(manager, installationId, state.targetRealm);
      await this.store.save(manager, { ...state, migrationId: null, targetRealm: null, state: null });
      this.logger.log(`Migration ${migration.migrationId} of ${installationId} rolled back; the notes stay in ${state.homeRealm}.`);
    });
  }

  /** Resolves when no copy is running (for shutdown, and for tests that look at the tables). */
  async settled(): Promise<void> {
    await Promise.allSettled([...this.copies.values()]);
  }

  async onApplicationShutdown(): Promise<void> {
    await this.settled();
  }

  private copyInBackground(installationId: string, migrationId: string): void {
    const copy = this.store
      .locked(installationId, async (state, manager) => {
        if (state.migrationId !== migrationId || state.state !== 'copying' || state.targetRealm === null) return;
        await this.store.copy(manager, installationId, state.homeRealm, state.targetRealm);
        await this.store.save(manager, { ...state, state: 'copied' });
      })
      .catch(async (error: unknown) => {
        this.logger.error(`Copy of ${installationId} for migration ${migrationId} failed.`, error instanceof Error ? error.stack : String(error));
        await this.store
          .locked(installationId, (state, manager) => (state.migrationId === migrationId ? this.store.save(manager, { ...state, state: 'failed' }) : Promise.resolve()))
          .catch(() => undefined);
      })
      .finally(() => this.copies.delete(installationId));
    this.copies.set(installationId, copy);
  }
}
