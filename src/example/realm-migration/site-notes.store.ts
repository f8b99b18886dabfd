import { Injectable, type OnModuleInit } from '@nestjs/common';
import { InjectConnectDataSource } from 'atlassian-connect-nest';
import type { DataSource, EntityManager } from 'typeorm';

/** Where an installation's data lives before any migration: Forge's "global" location. */
export const INITIAL_REALM = 'global';
/** The example keeps a few notes per installation. */
export const MAX_NOTES_PER_INSTALLATION = 100;
export const MAX_NOTE_LENGTH = 500;

/** An installation's migration, as the store keeps it between the hooks. */
export interface SiteRealmState {
  readonly installationId: string;
  /** The realm whose copy of the notes is the data. */
  readonly homeRealm: string;
  readonly migrationId: string | null;
  readonly targetRealm: string | null;
  /** `scheduled` → `copying` → `copied` (or `failed`); `null` when no migration is under way. */
  readonly state: 'scheduled' | 'copying' | 'copied' | 'failed' | null;
}

interface StateRow {
  installation_id: string;
  home_realm: string;
  migration_id: string | null;
  target_realm: string | null;
  state: SiteRealmState['state'];
}

/**
 * The example's own per-installation data: short notes, kept in the framework's database
 * (`@InjectConnectDataSource()`) in two tables of the example's. A real app keeps one database per
 * region behind region-specific `baseUrl`s; here each row names its realm, so a migration can be seen
 * copying the rows to the target realm, switching the home realm on commit and dropping the copy on
 * rollback.
 */
@Injectable()
export class SiteNotesStore implements OnModuleInit {
  constructor(@InjectConnectDataSource() private readonly dataSource: DataSource) {}

  async onModuleInit(): Promise<void> {
    await this.dataSource.query(`CREATE TABLE IF NOT EXISTS example_site_realm (
      installation_id text PRIMARY KEY,
      home_realm text NOT NULL,
      migration_id text,
      target_realm text,
      state text)`);
    await this.dataSource.query(`CREATE TABLE IF NOT EXISTS example_site_note (
      installation_id text NOT NULL,
      realm text NOT NULL,
      position integer NOT NULL,
      text text NOT NULL,
      PRIMARY KEY (installation_id, realm, position))`);
  }

  /** The installation's realm record (a fresh one, in the initial realm, when it has none). */
  async stateOf(installationId: string, manager: EntityManager = this.dataSource.manager): Promise<SiteRealmState> {
    const rows: StateRow[] = await manager.query(`SELECT installation_id, home_realm, migration_id, target_realm, state FROM example_site_realm WHERE installation_id = $1`, [
      installationId,
    ]);
    const row = rows[0];
    if (row === undefined) return { installationId, homeRealm: INITIAL_REALM, migrationId: null, targetRealm: null, state: null };
    return { installationId, homeRealm: row.home_realm, migrationId: row.migration_id, targetRealm: row.target_realm, state: row.state };
  }

  /** The notes of the installation's home realm, oldest first. */
  async notes(installationId: string): Promise<{ realm: string; notes: string[] }> {
    const { homeRealm } = await this.stateOf(installationId);
    return { realm: homeRealm, notes: await this.notesIn(installationId, homeRealm) };
  }

  /** The notes one realm holds for the installation (a copy, during a migration). */
  async notesIn(installationId: string, realm: string): Promise<string[]> {
    const rows: { text: string }[] = await this.dataSource.query(`SELECT text FROM example_site_note WHERE installation_id = $1 AND realm = $2 ORDER BY position`, [
      installationId,
      realm,
    ]);
    return rows.map((row) => row.text);
  }

  /** Adds a note in the home realm; `false` when the installation has as many as it may keep. */
  add(installationId: string, text: string): Promise<boolean> {
    return this.dataSource.transaction(async (manager) => {
      const { homeRealm } = await this.stateOf(installationId, manager);
      await this.save(manager, { installationId, homeRealm, migrationId: null, targetRealm: null, state: null }, true);
      const [{ count }] = (await manager.query(`SELECT count(*)::int AS count FROM example_site_note WHERE installation_id = $1 AND realm = $2`, [installationId, homeRealm])) as [
        { count: number },
      ];
      if (count >= MAX_NOTES_PER_INSTALLATION) return false;
      await manager.query(`INSERT INTO example_site_note (installation_id, realm, position, text) VALUES ($1, $2, $3, $4)`, [installationId, homeRealm, count, text]);
      return true;
    });
  }

  /** Runs `work` in one transaction with the installation's record locked. */
  locked<T>(installationId: string, work: (state: SiteRealmState, manager: EntityManager) => Promise<T>): Promise<T> {
    return this.dataSource.transaction(async (manager) => {
      await manager.query(`INSERT INTO example_site_realm (installation_id, home_realm) VALUES ($1, $2) ON CONFLICT (installation_id) DO NOTHING`, [installationId, INITIAL_REALM]);
      await manager.query(`SELECT 1 FROM example_site_realm WHERE installation_id = $1 FOR UPDATE`, [installationId]);
      return work(await this.stateOf(installationId, manager), manager);
    });
  }

  /** Writes the installation's record (`onlyIfMissing`: keeps an existing one). */
  async save(manager: EntityManager, state: SiteRealmState, onlyIfMissing = false): Promise<void> {
    await manager.query(
      `INSERT INTO example_site_realm (installation_id, home_realm, migration_id, target_realm, state) VALUES ($1, $2, $3, $4, $5)
       ON CONFLICT (installation_id) DO ${onlyIfMissing ? 'NOTHING' : 'UPDATE SET home_realm = EXCLUDED.home_realm, migration_id = EXCLUDED.migration_id, target_realm = EXCLUDED.target_realm, state = EXCLUDED.state'}`,
      [state.installationId, state.homeRealm, state.migrationId, state.targetRealm, state.state],
    );
  }

  /** Copies the home realm's notes into `target`, replacing any earlier copy there (non-destructive to the home). */
  async copy(manager: EntityManager, installationId: string, from: string, target: string): Promise<void> {
    await manager.query(`DELETE FROM example_site_note WHERE installation_id = $1 AND realm = $2`, [installationId, target]);
    await manager.query(
      `INSERT INTO example_site_note (installation_id, realm, position, text) SELECT installation_id, $3, position, text FROM example_site_note WHERE installation_id = $1 AND realm = $2`,
      [installationId, from, target],
    );
  }

  /** Deletes one realm's notes of the installation. */
  async drop(manager: EntityManager, installationId: string, realm: string): Promise<void> {
    await manager.query(`DELETE FROM example_site_note WHERE installation_id = $1 AND realm = $2`, [installationId, realm]);
  }
}
