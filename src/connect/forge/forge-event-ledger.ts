import { Injectable } from '@nestjs/common';
import type { DataSource } from 'typeorm';
import { InjectConnectDataSource } from '../database/connect-data-source.constants.js';
import { storeUnavailable } from '../database/store-unavailable.js';
import { LruCache } from '../util/lru-cache.js';
import type { ForgeEventKind } from './forge-event.js';

/** What claiming a delivery found. */
export type ForgeEventClaim =
  /** This instance runs the handlers; those in `doneHandlers` finished on an earlier delivery. */
  | { readonly outcome: 'claimed'; readonly attempt: number; readonly doneHandlers: readonly string[] }
  /** The handlers ran and finished within the dedupe window: nothing to do. */
  | { readonly outcome: 'duplicate' }
  /** Another delivery (on this or another instance) is running the handlers right now. */
  | { readonly outcome: 'in-progress' };

/** One delivery to claim. */
export interface ForgeEventDelivery {
  readonly appKey: string;
  readonly dedupeKey: string;
  readonly kind: ForgeEventKind;
  readonly eventType: string | undefined;
  readonly installationId: string;
  /** A finished delivery older than this is a new event. */
  readonly windowSeconds: number;
  /** A running claim older than this was abandoned (its instance died): it may be taken over. */
  readonly claimTimeoutSeconds: number;
}

const TABLE = '"connect_forge_event"';
/** Deliveries remembered without a database (an app-provided tenant store): one instance only. */
const MEMORY_ENTRIES = 10_000;
/** Rows older than this many dedupe windows are deleted, a thousand at a time, at most once a minute. */
const SWEEP_AFTER_WINDOWS = 2;
const SWEEP_INTERVAL_MS = 60_000;

interface MemoryEntry {
  status: 'running' | 'done' | 'failed';
  attempts: number;
  doneHandlers: string[];
  receivedAt: number;
  claimedAt: number;
}

/**
 * The record of Forge event deliveries that makes a redelivered event run its handlers once: a row per
 * (app, dedupe key) in `connect_forge_event`, claimed with one atomic upsert, so two instances that get
 * the same event at once never both run it. Without the framework's database (an app-provided
 * `tenantStore`) it falls back to a bounded in-memory record, which dedupes within one instance only.
 */
@Injectable()
export class ForgeEventLedger {
  private readonly memory = new LruCache<string, MemoryEntry>(MEMORY_ENTRIES);
  private lastSweep = 0;

  constructor(@InjectConnectDataSource() private readonly dataSource: DataSource) {}

  async claim(delivery: ForgeEventDelivery, nowMs = Date.now()): Promise<ForgeEventClaim> {
    if (!this.dataSource.isInitialized) return this.claimInMemory(delivery, nowMs);
    this.sweepSometimes(delivery.windowSeconds, nowMs);
    const params = [delivery.appKey, delivery.dedupeKey, delivery.kind, delivery.eventType ?? null, delivery.installationId, delivery.windowSeconds, delivery.claimTimeoutSeconds];
    const claimed = await this.query<{ attempts: number; done_handlers: unknown }>(
      `INSERT INTO ${TABLE} AS "e" ("app_key", "dedupe_key", "kind", "event_type", "installation_id", "status")
       VALUES ($1, $2, $3, $4, $5, 'running')
       ON CONFLICT ("app_key", "dedupe_key") DO UPDATE SET
         "status" = 'running',
         "attempts" = "e"."attempts" + 1,
         "claimed_at" = now(),
         "finished_at" = NULL,
         "done_handlers" = CASE WHEN "e"."received_at" < now() - make_interval(secs => $6::float8) THEN '[]'::jsonb ELSE "e"."done_handlers" END,
         "received_at" = CASE WHEN "e"."received_at" < now() - make_interval(secs => $6::float8) THEN now() ELSE "e"."received_at" END
       WHERE "e"."status" = 'failed'
          OR "e"."received_at" < now() - make_interval(secs => $6::float8)
          OR ("e"."status" = 'running' AND "e"."claimed_at" < now() - make_interval(secs => $7::float8))
       RETURNING "attempts", "done_handlers"`,
      params,
    );
    const row = claimed[0];
    if (row !== undefined) return { outcome: 'claimed', attempt: Number(row.attempts), doneHandlers: handlerList(row.done_handlers) };
    const existing = await this.query<{ status: string }>(`SELECT "status" FROM ${TABLE} WHERE "app_key" = $1 AND "dedupe_key" = $2`, [delivery.appKey, delivery.dedupeKey]);
    return existing[0]?.status === 'done' ? { outcome: 'duplicate' } : { outcome: 'in-progress' };
  }

  /** Records how a claimed delivery ended: `done` (every handler finished) or `failed` (the next delivery runs the rest). */
  async finish(appKey: string, dedupeKey: string, status: 'done' | 'failed', doneHandlers: readonly string[]): Promise<void> {
    if (!this.dataSource.isInitialized) {
      const entry = this.memory.get(`${appKey}\n${dedupeKey}`);
      if (entry !== undefined) Object.assign(entry, { status, doneHandlers: [...doneHandlers] });
      return;
    }
    await this.query(`UPDATE ${TABLE} SET "status" = $3, "done_handlers" = $4::jsonb, "finished_at" = now() WHERE "app_key" = $1 AND "dedupe_key" = $2`, [
      appKey,
      dedupeKey,
      status,
      JSON.stringify(doneHandlers),
    ]);
  }

  /** Deletes delivery records received before `cutoff` (the retention purge calls it); returns how many. */
  async deleteReceivedBefore(cutoff: Date): Promise<number> {
    if (!this.dataSource.isInitialized) return 0;
    let deleted = 0;
    for (;;) {
      const rows = await this.query<{ app_key: string }>(
        `DELETE FROM ${TABLE} WHERE ("app_key", "dedupe_key") IN (SELECT "app_key", "dedupe_key" FROM ${TABLE} WHERE "received_at" < $1 LIMIT 1000) RETURNING "app_key"`,
        [cutoff.toISOString()],
      );
      deleted += rows.length;
      if (rows.length < 1000) return deleted;
    }
  }

  private sweepSometimes(windowSeconds: number, nowMs: number): void {
    if (nowMs - this.lastSweep < SWEEP_INTERVAL_MS) return;
    this.lastSweep = nowMs;
    const cutoff = new Date(nowMs - SWEEP_AFTER_WINDOWS * windowSeconds * 1000);
    void this.deleteReceivedBefore(cutoff).catch(() => undefined); // best effort; the retention purge sweeps too
  }

  private claimInMemory(delivery: ForgeEventDelivery, nowMs: number): ForgeEventClaim {
    const id = `${delivery.appKey}\n${delivery.dedupeKey}`;
    const entry = this.memory.get(id);
    const expired = entry !== undefined && nowMs - entry.receivedAt >= delivery.windowSeconds * 1000;
    if (entry === undefined || expired) {
      this.memory.set(id, { status: 'running', attempts: 1, doneHandlers: [], receivedAt: nowMs, claimedAt: nowMs });
      return { outcome: 'claimed', attempt: 1, doneHandlers: [] };
    }
    const abandoned = entry.status === 'running' && nowMs - entry.claimedAt >= delivery.claimTimeoutSeconds * 1000;
    if (entry.status === 'failed' || abandoned) {
      Object.assign(entry, { status: 'running', attempts: entry.attempts + 1, claimedAt: nowMs });
      return { outcome: 'claimed', attempt: entry.attempts, doneHandlers: [...entry.doneHandlers] };
    }
    return entry.status === 'done' ? { outcome: 'duplicate' } : { outcome: 'in-progress' };
  }

  private async query<T>(sql: string, parameters: unknown[]): Promise<T[]> {
    try {
      return (await this.dataSource.query(sql, parameters)) as T[];
    } catch (error) {
      throw storeUnavailable(error, 'The Forge event record');
    }
  }
}

function handlerList(value: unknown): string[] {
  const list: unknown = typeof value === 'string' ? JSON.parse(value) : value;
  return Array.isArray(list) ? list.filter((item): item is string => typeof item === 'string') : [];
}
