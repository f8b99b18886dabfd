import pg from 'pg';
import type { DataSourceOptions, EntitySchema } from 'typeorm';

import { integerOption, schemaNameOption } from '../config/option-checks.js';
import { ConnectError } from '../errors/connect-error.js';
import { CreateConnectTenant1795446752614 } from './migrations/1795446752614-create-connect-tenant.js';
import { NotifyConnectTenantChanges1795500000000 } from './migrations/1795500000000-notify-connect-tenant-changes.js';
import { IndexConnectTenantInstallations1796000000000 } from './migrations/1796000000000-index-connect-tenant-installations.js';
import { ConnectTenantEntity } from './tenant.entity.js';
import { ConnectForgeInstallationEntity } from './forge-installation.entity.js';
import { CreateConnectForgeInstallation1797000000000 } from './migrations/1797000000000-create-connect-forge-installation.js';
import { ConnectForgeEventEntity } from './forge-event.entity.js';
import { CreateConnectForgeEvent1797100000000 } from './migrations/1797100000000-create-connect-forge-event.js';
import { CONNECT_DEFAULTS } from '../config/connect-defaults.js';

type PostgresDataSourceOptions = Extract<DataSourceOptions, { type: 'postgres' }>;

/** A class TypeORM can load: an entity or a migration. */
export type TypeOrmClass = abstract new (...args: never[]) => unknown;

/** The entities the framework owns; add them to your own DataSource if it shares the connection. */
export const CONNECT_ENTITIES: readonly [typeof ConnectTenantEntity, typeof ConnectForgeInstallationEntity, typeof ConnectForgeEventEntity] = [
  ConnectTenantEntity,
  ConnectForgeInstallationEntity,
  ConnectForgeEventEntity,
];

/** The framework's migrations, oldest first. They run on startup (`migrationsRun`), never `synchronize`. */
export const CONNECT_MIGRATIONS: readonly TypeOrmClass[] = [
  CreateConnectTenant1795446752614,
  NotifyConnectTenantChanges1795500000000,
  IndexConnectTenantInstallations1796000000000,
  CreateConnectForgeInstallation1797000000000,
  CreateConnectForgeEvent1797100000000,
];

/** The table TypeORM records executed migrations in (kept apart from an app's own `migrations`). */
export const CONNECT_MIGRATIONS_TABLE = 'connect_migrations';

export interface ConnectDataSourceInput {
  /** `postgres://user:password@host:port/database`. Never logged. */
  readonly url: string;
  /**
   * Keep the framework's tables (and its migrations table) in this schema instead of the connection's
   * default one. Created on first connect when missing; also put first on every connection's
   * `search_path` so raw SQL finds the tables unqualified. Lower-case identifier only.
   */
  readonly schema?: string | undefined;
  /** Connections in the pool. Use exactly 1 against `EmbeddedPostgres` (PGlite has one session). */
  readonly poolSize: number;
  /** How long to wait for a connection (opening one, or waiting for a free one in the pool). */
  readonly connectTimeoutMs: number;
  /**
   * Longest a statement may run: sent as the server's `statement_timeout` and, with a small grace on
   * top, as the client's `query_timeout`, which also fires when the server is gone (PGlite ignores
   * `statement_timeout`, so there only the client-side timeout applies).
   */
  readonly queryTimeoutMs: number;
  /** More entities to load into the same DataSource. */
  readonly extraEntities?: readonly (TypeOrmClass | string | EntitySchema)[] | undefined;
  /** More migrations to run with the framework's, recorded in the same `connect_migrations` table. */
  readonly extraMigrations?: readonly (TypeOrmClass | string)[] | undefined;
}

/** Extra time the client waits beyond `statement_timeout` so the server's own cancellation wins normally. */
const CLIENT_TIMEOUT_GRACE_MS = 1_000;

function invalid(message: string): ConnectError {
  return ConnectError.create('config/invalid', message);
}

function checkSchema(schema: string): void {
  schemaNameOption('database.schema', schema);
}

function quoteIdentifier(identifier: string): string {
  return `"${identifier.replace(/"/g, '""')}"`;
}

/** `42P06`: the schema already exists; `23505`: a concurrent CREATE SCHEMA won the race on pg_namespace. */
function isSchemaAlreadyThere(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return code === '42P06' || code === '23505';
}

/**
 * Puts `schema` first on the session's search_path and creates it when it is missing, on one open
 * connection. Checks before creating so a role without CREATE on the database can use a schema
 * that a DBA created for it.
 */
async function prepareSchemaOn(client: pg.ClientBase, schema: string): Promise<void> {
  const { rows } = await client.query<{ present: boolean }>(
    `SELECT set_config('search_path', $1, false) AS search_path,
            EXISTS (SELECT 1 FROM pg_catalog.pg_namespace WHERE nspname = $2) AS present`,
    [`${quoteIdentifier(schema)}, public`, schema],
  );
  if (rows[0]?.present) return;
  try {
    await client.query(`CREATE SCHEMA IF NOT EXISTS ${quoteIdentifier(schema)}`);
  } catch (error) {
    if (!isSchemaAlreadyThere(error)) throw error;
  }
}

/**
 * Creates `schema` when it does not exist, over a short-lived connection of its own. The DataSource
 * built by `connectDataSourceOptions` already does this on connect; call it yourself only to prepare
 * a database ahead of time. Do not call it while anything else is connected to an `EmbeddedPostgres`.
 */
export async function ensureSchema(url: string, schema: string, options: { connectTimeoutMs?: number; queryTimeoutMs?: number } = {}): Promise<void> {
  checkSchema(schema);
  const client = new pg.Client({
    connectionString: url,
    connectionTimeoutMillis: options.connectTimeoutMs ?? CONNECT_DEFAULTS.calls.ensureSchemaTimeoutMs,
    query_timeout: options.queryTimeoutMs ?? CONNECT_DEFAULTS.calls.ensureSchemaTimeoutMs,
  });
  // A connection that dies after connect would otherwise emit an unhandled 'error' event.
  client.on('error', () => undefined);
  await client.connect();
  try {
    await prepareSchemaOn(client, schema);
  } finally {
    await client.end().catch(() => undefined);
  }
}

/**
 * TypeORM options for the framework's DataSource (register it under `CONNECT_DATA_SOURCE`). Migrations
 * run on initialize; the schema is never synchronized.
 */
export function connectDataSourceOptions(input: ConnectDataSourceInput): DataSourceOptions {
  const { url, schema, poolSize, connectTimeoutMs, queryTimeoutMs } = input;
  if (typeof url !== 'string' || url.length === 0) throw invalid('The database url is missing.');
  integerOption('database.poolSize', poolSize, 1);
  integerOption('database.connectTimeoutMs', connectTimeoutMs, 1);
  integerOption('database.queryTimeoutMs', queryTimeoutMs, 1);
  if (schema !== undefined) checkSchema(schema);

  // Options handed to pg.Pool (and from it to every pg.Client) on top of TypeORM's own.
  const extra: pg.PoolConfig & { onConnect?: (client: pg.ClientBase) => Promise<void> } = {
    statement_timeout: queryTimeoutMs,
    query_timeout: queryTimeoutMs + CLIENT_TIMEOUT_GRACE_MS,
    keepAlive: true,
  };
  if (schema !== undefined) {
    // Runs on every new pooled connection before TypeORM gets it: the first one (opened by
    // DataSource.initialize before migrations run) creates the schema when missing. A SET here rather
    // than the `options=-c search_path=…` startup parameter because PGlite ignores startup parameters.
    extra.onConnect = (client) => prepareSchemaOn(client, schema);
  }

  const options: PostgresDataSourceOptions = {
    type: 'postgres',
    url,
    ...(schema === undefined ? {} : { schema }),
    entities: [...CONNECT_ENTITIES, ...(input.extraEntities ?? [])],
    migrations: [...CONNECT_MIGRATIONS, ...(input.extraMigrations ?? [])],
    migrationsTableName: CONNECT_MIGRATIONS_TABLE,
    migrationsRun: true,
    migrationsTransactionMode: 'all',
    synchronize: false,
    dropSchema: false,
    poolSize,
    connectTimeoutMS: connectTimeoutMs,
    applicationName: 'atlassian-connect-nest',
    installExtensions: false,
    logging: false,
    extra,
  };
  return options;
}
