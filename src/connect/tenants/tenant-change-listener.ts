import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { getDataSourceToken } from '@nestjs/typeorm';
import pg from 'pg';
import type { DataSource } from 'typeorm';

import { CONNECT_DEFAULTS } from '../config/connect-defaults.js';
import { RESOLVED_CONNECT_OPTIONS } from '../config/resolve-connect-options.js';
import type { ResolvedConnectOptions } from '../config/resolved-connect-options.js';
import { CONNECT_DATA_SOURCE } from '../database/connect-data-source.constants.js';
import { TENANT_CHANGE_CHANNEL } from '../database/migrations/1795500000000-notify-connect-tenant-changes.js';
import { CachingTenantStore } from './caching-tenant-store.js';
import { reasonOf } from '../util/error-reason.js';

/** Timing of the listener's connection: `CONNECT_DEFAULTS.tenantChangeListener`. */
export type TenantChangeListenerTiming = (typeof CONNECT_DEFAULTS)['tenantChangeListener'];

/**
 * Keeps the tenant cache of this instance in step with the other instances sharing the database.
 *
 * Holds one dedicated `pg` connection (not one of the pool's) that `LISTEN`s on
 * `connect_tenant_changed`, which a trigger on `connect_tenant` notifies on every committed insert,
 * update and delete (payload `<schema>\n<app_key>\n<client_key>`). Each notification for this
 * instance's schema drops that tenant from the `CachingTenantStore`, so a re-install, disable or
 * uninstall handled by another instance is honoured here within milliseconds of its commit.
 *
 * While the connection is down, notifications can be missed: the cache is cleared and bypassed (every
 * lookup reads the database) until the listener is connected again, then cleared once more. Reconnects
 * back off exponentially (with jitter) up to `reconnectMaxMs`.
 *
 * Active only with a real PostgreSQL URL and the default (caching) store: not with the embedded engine
 * (started by the framework, or an `EmbeddedPostgres` reached by URL, recognised by its version string),
 * which lives in one process and has a single connection; nor with a custom `tenantStore`.
 */
@Injectable()
export class TenantChangeListener implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger('TenantChangeListener');
  private readonly cache: CachingTenantStore | undefined;
  private readonly url: string | undefined;
  private readonly timing: TenantChangeListenerTiming;
  private client: pg.Client | undefined;
  private schema: string | undefined;
  private closed = false;
  private embedded = false;
  private attempt = 0;
  private reconnectTimer: NodeJS.Timeout | undefined;
  private heartbeatTimer: NodeJS.Timeout | undefined;
  private connecting: Promise<void> | undefined;
  private readonly listeners = new Set<(event: 'connected' | 'disconnected') => void>();

  constructor(
    @Inject(RESOLVED_CONNECT_OPTIONS) private readonly options: ResolvedConnectOptions,
    store: CachingTenantStore,
    @Inject(getDataSourceToken(CONNECT_DATA_SOURCE)) private readonly dataSource: DataSource,
  ) {
    const url = options.database.url;
    const active = options.tenantStore === undefined && url !== undefined;
    this.cache = active ? store : undefined;
    this.url = active ? url : undefined;
    this.timing = CONNECT_DEFAULTS.tenantChangeListener;
  }

  /** Whether this instance listens (a real PostgreSQL URL and the default caching store), once bootstrapped. */
  get enabled(): boolean {
    return this.cache !== undefined && !this.embedded;
  }

  /** Whether the LISTEN connection is up right now. */
  get connected(): boolean {
    return this.client !== undefined;
  }

  /** The server process id of the LISTEN connection (for tests and diagnostics). */
  get backendPid(): number | undefined {
    return (this.client as { processID?: number } | undefined)?.processID;
  }

  /** Calls `listener` whenever the LISTEN connection comes up or goes down (for tests and metrics). */
  onStateChange(listener: (event: 'connected' | 'disconnected') => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  async onApplicationBootstrap(): Promise<void> {
    if (this.cache === undefined) return;
    if (await this.isEmbeddedEngine()) {
      // A URL that leads to an EmbeddedPostgres (PGlite): one session for the whole engine, so a
      // second, permanent connection would starve the pool; and only this process uses it anyway.
      this.embedded = true;
      this.cache.setChangesObserved(true);
      return;
    }
    // Until the first LISTEN is in place, changes made elsewhere would go unheard: read through.
    this.cache.setBypass(true);
    try {
      await this.connect();
    } catch (error) {
      // Startup does not fail over this: the cache stays bypassed and the listener keeps trying.
      this.logger.warn(`Could not listen for tenant changes (${describeError(error)}); the tenant cache is bypassed until it can.`);
      this.scheduleReconnect();
    }
  }

  async onApplicationShutdown(): Promise<void> {
    this.closed = true;
    clearTimeout(this.reconnectTimer);
    clearInterval(this.heartbeatTimer);
    await this.connecting?.catch(() => undefined);
    const client = this.client;
    this.client = undefined;
    if (client !== undefined) await client.end().catch(() => undefined);
  }

  private async isEmbeddedEngine(): Promise<boolean> {
    try {
      const rows: { version: string }[] = await this.dataSource.query('SELECT version() AS version');
      return /PGlite|emscripten/i.test(rows[0]?.version ?? '');
    } catch {
      return false;
    }
  }

  private connect(): Promise<void> {
    this.connecting ??= this.open().finally(() => {
      this.connecting = undefined;
    });
    return this.connecting;
  }

  private async open(): Promise<void> {
    const database = this.options.database;
    const client = new pg.Client({
      connectionString: this.url,
      connectionTimeoutMillis: database.connectTimeoutMs,
      query_timeout: database.queryTimeoutMs + 1_000,
      keepAlive: true,
      application_name: 'atlassian-connect-nest listener',
    });
    let lost = false;
    const onLost = (error?: unknown): void => {
      if (lost) return;
      lost = true;
      client.removeAllListeners('notification');
      client.end().catch(() => undefined);
      if (this.client === client) this.disconnected(error);
    };
    client.on('error', onLost);
    client.on('end', () => onLost());
    try {
      await client.connect();
      if (this.schema === undefined) {
        const { rows } = await client.query<{ schema: string | null }>('SELECT current_schema() AS schema');
        this.schema = database.schema ?? rows[0]?.schema ?? 'public';
      }
      client.on('notification', (message) => this.notified(message));
      await client.query(`LISTEN ${TENANT_CHANGE_CHANNEL}`);
    } catch (error) {
      lost = true;
      client.removeAllListeners();
      client.on('error', () => undefined);
      await client.end().catch(() => undefined);
      throw error;
    }
    if (lost || this.closed) {
      await client.end().catch(() => undefined);
      if (!this.closed) throw new Error('The listener connection closed while it was set up.');
      return;
    }
    this.client = client;
    this.attempt = 0;
    // Whatever was read while nobody listened may be stale: start from an empty cache.
    this.cache?.clear();
    this.cache?.setBypass(false);
    this.cache?.setChangesObserved(true);
    this.heartbeatTimer = setInterval(() => {
      client.query('SELECT 1').catch((error: unknown) => onLost(error));
    }, this.timing.heartbeatMs);
    this.heartbeatTimer.unref();
    this.emit('connected');
  }

  private notified(message: pg.Notification): void {
    if (message.channel !== TENANT_CHANGE_CHANNEL || message.payload === undefined) return;
    const [schema, appKey, clientKey] = message.payload.split('\n');
    if (schema !== this.schema || appKey === undefined || clientKey === undefined) return;
    this.cache?.invalidate(appKey, clientKey);
  }

  private disconnected(error: unknown): void {
    this.client = undefined;
    clearInterval(this.heartbeatTimer);
    if (this.closed) return;
    this.cache?.setBypass(true);
    this.cache?.setChangesObserved(false);
    this.logger.warn(`Lost the tenant change listener connection (${describeError(error)}); the tenant cache is bypassed until it is back.`);
    this.emit('disconnected');
    this.scheduleReconnect();
  }

  private scheduleReconnect(): void {
    if (this.closed || this.reconnectTimer !== undefined) return;
    const ceiling = Math.min(this.timing.reconnectMaxMs, this.timing.reconnectBaseMs * 2 ** this.attempt);
    const delay = ceiling / 2 + Math.random() * (ceiling / 2);
    this.attempt = Math.min(this.attempt + 1, 30);
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = undefined;
      if (this.closed) return;
      this.connect().then(
        () => this.logger.log('Listening for tenant changes again.'),
        () => this.scheduleReconnect(),
      );
    }, delay);
    this.reconnectTimer.unref();
  }

  private emit(event: 'connected' | 'disconnected'): void {
    for (const listener of this.listeners) {
      try {
        listener(event);
      } catch {
        // A listener's failure is its own.
      }
    }
  }
}

function describeError(error: unknown): string {
  return error === undefined ? 'connection ended' : reasonOf(error);
}
