import type { ConnectDatabaseOptions } from 'atlassian-connect-nest';
import { startTestDatabase as startDatabase } from 'atlassian-connect-nest/testing';

export interface TestDatabaseHandle {
  /** What to pass as ConnectModule's `database`. */
  readonly database: ConnectDatabaseOptions;
  readonly engine: 'postgres' | 'embedded';
  /** Drops the PostgreSQL schema (close the app first); nothing to do for the embedded engine, which the app owns. */
  stop(): Promise<void>;
}

/**
 * The database options for one test app: with DATABASE_URL, a fresh schema of that server
 * (`startTestDatabase()`); otherwise `{ embeddedDataDir: 'memory' }`, so the framework starts (and on
 * close stops) its own in-memory embedded engine.
 */
export async function startTestDatabase(): Promise<TestDatabaseHandle> {
  if (!process.env.DATABASE_URL) {
    return { database: { embeddedDataDir: 'memory' }, engine: 'embedded', stop: () => Promise.resolve() };
  }
  const db = await startDatabase();
  return { database: { url: db.url, schema: db.schema, poolSize: db.poolSize }, engine: 'postgres', stop: () => db.stop() };
}

export function quietLogger(): false | ['error', 'warn'] {
  return process.env.CONNECT_TEST_LOGS ? ['error', 'warn'] : false;
}
