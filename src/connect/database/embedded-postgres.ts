import { mkdir } from 'node:fs/promises';
import { resolve } from 'node:path';

import { PGlite } from '@electric-sql/pglite';
import { PGLiteSocketServer } from '@electric-sql/pglite-socket';

export interface EmbeddedPostgresOptions {
  /** Directory the database files live in (created when missing). Omit it for a throwaway in-memory database. */
  readonly dataDir?: string;
}

/**
 * PostgreSQL without a server to install: PGlite (Postgres compiled to WebAssembly, in this process)
 * served over TCP on 127.0.0.1 and an OS-assigned port, so `pg` and TypeORM talk to it exactly as they
 * talk to a real server. Meant for local development and tests.
 *
 * PGlite has exactly one database session. The socket server therefore accepts ONE client
 * connection: its multiplexer (`maxConnections > 1`) interleaves the protocol messages of several
 * clients on that single session, so two clients would see each other's transactions, unnamed
 * prepared statements and `SET`s. Give anything that talks to this engine a pool of exactly one
 * connection (`startTestDatabase` and `connectDataSourceOptions` callers do), and never open a second
 * connection while a transaction is open on the first one.
 *
 * Two engines must never share one `dataDir` at the same time.
 */
export class EmbeddedPostgres {
  private stopping: Promise<void> | undefined;

  private constructor(
    private readonly db: PGlite,
    private readonly server: PGLiteSocketServer,
    /** `postgres://postgres@127.0.0.1:<port>/postgres`; PGlite ignores user, password and database name. */
    readonly url: string,
  ) {}

  static async start(options: EmbeddedPostgresOptions = {}): Promise<EmbeddedPostgres> {
    let dataDir: string | undefined;
    if (options.dataDir !== undefined) {
      dataDir = resolve(options.dataDir);
      await mkdir(dataDir, { recursive: true });
    }
    const db = await PGlite.create(dataDir);
    // port 0: the OS picks a free port, so parallel test workers never collide.
    const server = new PGLiteSocketServer({ db, host: '127.0.0.1', port: 0, maxConnections: 1 });
    try {
      await server.start();
    } catch (error) {
      await db.close().catch(() => undefined);
      throw error;
    }
    const port = Number(server.getServerConn().split(':').pop());
    return new EmbeddedPostgres(db, server, `postgres://postgres@127.0.0.1:${port}/postgres`);
  }

  /** Closes the listening port and every client connection, then closes PGlite (flushing `dataDir`). Idempotent. */
  stop(): Promise<void> {
    this.stopping ??= (async () => {
      try {
        await this.server.stop();
      } finally {
        if (!this.db.closed) await this.db.close();
      }
    })();
    return this.stopping;
  }
}
