import type { DataSource, EntityManager } from 'typeorm';
import { storeUnavailable } from '../database/store-unavailable.js';

/** What is known of a tenant being purged (never its shared secret). */
export interface PurgeCandidate {
  readonly appKey: string;
  readonly clientKey: string;
  readonly baseUrl: string;
  readonly uninstalledAt: Date;
}

/** Why a candidate was not deleted. */
export type PurgeSkipReason = 'reinstalled' | 'hook-failed';

export type PurgeOutcome = { purged: true } | { purged: false; reason: PurgeSkipReason; error?: unknown };

/** A table of uninstalled rows to purge: its name, the column that tells rows of one app apart, and the base URL shown. */
export interface PurgeTarget {
  readonly table: string;
  readonly keyColumn: string;
  /** SQL for the base URL of a row. */
  readonly baseUrl: string;
}

/** The Connect tenants (`clientKey`). */
export const CONNECT_TENANTS: PurgeTarget = { table: 'connect_tenant', keyColumn: 'client_key', baseUrl: '"base_url"' };
/** The Forge installations: `clientKey` of a candidate is the installationId, `baseUrl` the site URL (else the API base URL). */
export const FORGE_INSTALLATIONS: PurgeTarget = { table: 'connect_forge_installation', keyColumn: 'installation_id', baseUrl: 'COALESCE("site_url", "api_base_url")' };

interface CandidateRow {
  app_key: string;
  client_key: string;
  base_url: string;
  uninstalled_at: Date | string;
}

/**
 * The SQL behind tenant retention, on the framework's DataSource (`CONNECT_DATA_SOURCE`). Candidates
 * are read without locks; each is then deleted in a transaction of its own that locks the row
 * (`SELECT … FOR UPDATE`) and re-checks that it is still uninstalled and older than the cut-off, so a
 * re-install that commits between the two steps wins and keeps its row. A re-install that arrives
 * while the row is locked waits for the purge, then inserts a fresh row.
 */
export class TenantPurger {
  private readonly table: string;
  private readonly key: string;
  private readonly select: string;

  constructor(
    private readonly dataSource: DataSource,
    target: PurgeTarget = CONNECT_TENANTS,
  ) {
    const schema = (dataSource.options as { schema?: string }).schema;
    this.table = schema ? `"${schema.replace(/"/g, '""')}"."${target.table}"` : `"${target.table}"`;
    this.key = `"${target.keyColumn}"`;
    this.select = `"app_key", ${this.key} AS "client_key", ${target.baseUrl} AS "base_url", "uninstalled_at"`;
  }

  /** Tenants uninstalled before `cutoff`, oldest first (at most `limit`). */
  async candidates(cutoff: Date, limit = 1000): Promise<PurgeCandidate[]> {
    try {
      const rows = (await this.dataSource.query(
        `SELECT ${this.select} FROM ${this.table}
         WHERE "uninstalled_at" IS NOT NULL AND "uninstalled_at" < $1
         ORDER BY "uninstalled_at", "app_key", ${this.key} LIMIT $2`,
        [cutoff.toISOString(), limit],
      )) as CandidateRow[];
      return rows.map(toCandidate);
    } catch (error) {
      throw storeUnavailable(error);
    }
  }

  /**
   * Deletes one candidate if, under a row lock, it is still uninstalled before `cutoff`. `beforeDelete`
   * runs inside that transaction (its `EntityManager` is passed on): if it throws, nothing is deleted.
   */
  async purgeOne(candidate: PurgeCandidate, cutoff: Date, beforeDelete: (tenant: PurgeCandidate, transaction: EntityManager) => Promise<void>): Promise<PurgeOutcome> {
    let hookFailure: { error: unknown } | undefined;
    try {
      return await this.dataSource.transaction('READ COMMITTED', async (manager) => {
        const rows = (await manager.query(
          `SELECT ${this.select} FROM ${this.table}
           WHERE "app_key" = $1 AND ${this.key} = $2 AND "uninstalled_at" IS NOT NULL AND "uninstalled_at" < $3
           FOR UPDATE`,
          [candidate.appKey, candidate.clientKey, cutoff.toISOString()],
        )) as CandidateRow[];
        if (rows[0] === undefined) return { purged: false, reason: 'reinstalled' } as const;
        const locked = toCandidate(rows[0]);
        try {
          await beforeDelete(locked, manager);
        } catch (error) {
          hookFailure = { error };
          throw error;
        }
        await manager.query(`DELETE FROM ${this.table} WHERE "app_key" = $1 AND ${this.key} = $2`, [locked.appKey, locked.clientKey]);
        return { purged: true } as const;
      });
    } catch (error) {
      if (hookFailure !== undefined) return { purged: false, reason: 'hook-failed', error: hookFailure.error };
      throw storeUnavailable(error);
    }
  }
}

function toCandidate(row: CandidateRow): PurgeCandidate {
  return Object.freeze({
    appKey: row.app_key,
    clientKey: row.client_key,
    baseUrl: row.base_url,
    uninstalledAt: row.uninstalled_at instanceof Date ? row.uninstalled_at : new Date(row.uninstalled_at),
  });
}
