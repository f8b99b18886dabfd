import { randomBytes } from 'node:crypto';

import pg from 'pg';

import { ensureSchema } from '../database/connect-data-source-options.js';
import { EmbeddedPostgres } from '../database/embedded-postgres.js';

export interface TestDatabase {
  /** Connection string to hand to `connectDataSourceOptions` (contains credentials: do not log it). */
  readonly url: string;
  /** A schema of this database's own (real PostgreSQL only); pass it on to `connectDataSourceOptions`. */
  readonly schema?: string;
  /** The pool size to use: 5 on PostgreSQL, exactly 1 on the embedded engine (PGlite has one session). */
  readonly poolSize: number;
  /** `postgres` when `DATABASE_URL` was set, otherwise `embedded` (in-memory PGlite). */
  readonly engine: 'postgres' | 'embedded';
  /** Drops the schema (PostgreSQL) or stops the engine (embedded). Close your DataSources first. Idempotent. */
  stop(): Promise<void>;
}

/**
 * A fresh, empty database for one test file.
 *
 * With `DATABASE_URL` set it uses that server, isolated in a new schema `connect_test_<random>` that
 * `stop()` drops again (so test files can run in parallel against one database). Without it, it
 * starts an in-memory `EmbeddedPostgres` on a free port.
 */
export async function startTestDatabase(): Promise<TestDatabase> {
  const url = process.env.DATABASE_URL;
  if (url === undefined || url.trim() === '') {
    const embedded = await EmbeddedPostgres.start({});
    return { url: embedded.url, poolSize: 1, engine: 'embedded', stop: () => embedded.stop() };
  }

  const schema = `connect_test_${randomBytes(6).toString('hex')}`;
  await ensureSchema(url, schema);
  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> => {
    stopping ??= (async () => {
      const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 10_000 });
      client.on('error', () => undefined);
      await client.connect();
      try {
        await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
      } finally {
        await client.end().catch(() => undefined);
      }
    })();
    return stopping;
  };
  return { url, schema, poolSize: 5, engine: 'postgres', stop };
}
