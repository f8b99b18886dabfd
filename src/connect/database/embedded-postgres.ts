import { mkdir } from 'node:fs/promises';
import { connect, createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

import { embeddedPostgresMissing, importEmbeddedEngine, nodeModuleLoader, type PGliteDatabase, type PGliteSocketServerHandle } from '../config/optional-peers.js';

export interface EmbeddedPostgresOptions {
  /** Directory the database files live in (created when missing). Omit it for a throwaway in-memory database. */
  readonly dataDir?: string;
  /**
   * Port to serve on (127.0.0.1). Default 0: a free port the OS picks. A fixed port lets a test stop
   * the engine and start it again at the same URL (with the same `dataDir`), as a database restart.
   */
  readonly port?: number;
}

const HOST = '127.0.0.1';
/** How long a finished connection may take to be released by the socket server before the next one goes in anyway. */
const HANDOFF_LIMIT_MS = 2_000;

/**
 * PostgreSQL without a server to install: PGlite (Postgres compiled to WebAssembly, in this process)
 * served over TCP on 127.0.0.1 and an OS-assigned port, so `pg` and TypeORM talk to it exactly as they
 * talk to a real server. Meant for local development and tests.
 *
 * One connection at a time. PGlite has exactly one database session; pglite-socket's multiplexer
 * (`maxConnections > 1`) interleaves the protocol messages of several clients on that session, so
 * they would see each other's transactions, unnamed prepared statements and `SET`s. So the socket
 * server takes one connection, and a small gate in front of it admits clients strictly one after
 * the other: a client that connects while another is connected waits (bounded by its own connect
 * timeout) until that one disconnects. The gate also closes a race in pglite-socket, which frees a
 * connection's slot only some time after the socket closed and refuses a client that reconnects
 * at once (what a pool does after `end()` or an idle timeout).
 *
 * Consequences: use a pool of exactly 1 connection (`startTestDatabase` says so), and never wait on
 * a second connection while holding the first (for example a query outside the transaction you are
 * in). Session state (`SET search_path`, …) outlives a connection: it belongs to the one session.
 * Two engines must never share one `dataDir` at the same time.
 *
 * `@electric-sql/pglite` and `@electric-sql/pglite-socket` are optional peers of the framework, loaded
 * by `start()`: without them it rejects with a `config/invalid` error that says what to install.
 */
export class EmbeddedPostgres {
  private stopping: Promise<void> | undefined;

  private constructor(
    private readonly db: PGliteDatabase,
    private readonly server: PGliteSocketServerHandle,
    private readonly gate: ConnectionGate,
    /** `postgres://postgres@127.0.0.1:<port>/postgres`; PGlite ignores user, password and database name. */
    readonly url: string,
  ) {}

  static async start(options: EmbeddedPostgresOptions = {}): Promise<EmbeddedPostgres> {
    const { PGlite, PGLiteSocketServer } = await importEmbeddedEngine(nodeModuleLoader, embeddedPostgresMissing);
    let dataDir: string | undefined;
    if (options.dataDir !== undefined) {
      dataDir = resolve(options.dataDir);
      await mkdir(dataDir, { recursive: true });
    }
    const db = await PGlite.create(dataDir);
    // The socket server always on port 0 (the OS picks a free one, so parallel test workers never
    // collide); the public gate on `options.port`, 0 by default.
    const server = new PGLiteSocketServer({ db, host: HOST, port: 0, maxConnections: 1 });
    let gate: ConnectionGate | undefined;
    try {
      await server.start();
      const upstreamPort = Number(server.getServerConn().split(':').pop());
      gate = new ConnectionGate(upstreamPort, () => server.getStats().activeConnections === 0);
      const port = await gate.listen(options.port ?? 0);
      return new EmbeddedPostgres(db, server, gate, `postgres://postgres@${HOST}:${port}/postgres`);
    } catch (error) {
      await gate?.close().catch(() => undefined);
      await server.stop().catch(() => undefined);
      await db.close().catch(() => undefined);
      throw error;
    }
  }

  /**
   * Closes the port and every client connection (an open transaction is rolled back), then closes
   * PGlite, which flushes `dataDir`. Idempotent.
   */
  stop(): Promise<void> {
    this.stopping ??= (async () => {
      try {
        await this.gate.close();
        await this.server.stop();
      } finally {
        if (!this.db.closed) await this.db.close();
      }
    })();
    return this.stopping;
  }
}

/**
 * The public listener: passes one client at a time through to the socket server, queueing the rest
 * in arrival order.
 */
class ConnectionGate {
  private readonly listener: Server;
  private readonly waiting: Socket[] = [];
  private readonly sockets = new Set<Socket>();
  private busy = false;
  private closed = false;

  constructor(
    private readonly upstreamPort: number,
    private readonly upstreamIdle: () => boolean,
  ) {
    this.listener = createServer((client) => this.accept(client));
  }

  listen(port: number): Promise<number> {
    return new Promise((resolvePort, reject) => {
      this.listener.once('error', reject);
      this.listener.listen(port, HOST, () => {
        this.listener.off('error', reject);
        resolvePort((this.listener.address() as AddressInfo).port);
      });
    });
  }

  async close(): Promise<void> {
    this.closed = true;
    const closing = new Promise<void>((done) => this.listener.close(() => done()));
    for (const socket of this.sockets) socket.destroy();
    this.waiting.length = 0;
    await closing;
  }

  private track(socket: Socket): void {
    this.sockets.add(socket);
    socket.once('close', () => this.sockets.delete(socket));
    // Errors (resets from a client that gave up) end in 'close'; handled there.
    socket.on('error', () => undefined);
  }

  private accept(client: Socket): void {
    if (this.closed) {
      client.destroy();
      return;
    }
    this.track(client);
    client.setNoDelay(true);
    client.once('close', () => {
      const index = this.waiting.indexOf(client);
      if (index !== -1) this.waiting.splice(index, 1);
    });
    this.waiting.push(client);
    this.admitNext();
  }

  private admitNext(): void {
    if (this.busy || this.closed) return;
    const client = this.waiting.shift();
    if (client === undefined) return;
    this.busy = true;

    const upstream = connect({ host: HOST, port: this.upstreamPort, noDelay: true });
    this.track(upstream);
    client.pipe(upstream);
    upstream.pipe(client);
    let finished = false;
    const finish = (): void => {
      if (finished) return;
      finished = true;
      client.destroy();
      upstream.destroy();
      void this.handOff();
    };
    client.once('close', finish);
    upstream.once('close', finish);
  }

  /** Waits for the socket server to release the finished connection, then admits the next client. */
  private async handOff(): Promise<void> {
    const deadline = Date.now() + HANDOFF_LIMIT_MS;
    while (!this.closed && !this.upstreamIdle() && Date.now() < deadline) await sleep(1);
    this.busy = false;
    this.admitNext();
  }
}
