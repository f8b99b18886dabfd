import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import pg from 'pg';

import { EmbeddedPostgres } from './embedded-postgres.js';

async function withClient<T>(url: string, use: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 2_000 });
  client.on('error', () => undefined);
  await client.connect();
  try {
    return await use(client);
  } finally {
    await client.end();
  }
}

describe('EmbeddedPostgres', () => {
  let dir: string;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'connect-embedded-'));
  });

  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  describe('in memory', () => {
    let engine: EmbeddedPostgres;

    beforeAll(async () => {
      engine = await EmbeddedPostgres.start({});
    }, 60_000);

    afterAll(async () => {
      await engine?.stop();
    });

    it('serves PGlite to pg on 127.0.0.1 and an OS-assigned port, starting empty', async () => {
      expect(engine.url).toMatch(/^postgres:\/\/postgres@127\.0\.0\.1:\d+\/postgres$/);
      expect(Number(new URL(engine.url).port)).toBeGreaterThan(0);
      const rows = await withClient(engine.url, async (client) => {
        return (await client.query(`SELECT $1::int + 1 AS n, to_regclass('public.kept') AS t`, [41])).rows;
      });
      expect(rows).toEqual([{ n: 42, t: null }]);
    });

    it('admits clients one after another: instant reconnects work and a second client waits for the first', async () => {
      // A pool that ends and a new one that connects at once (pglite-socket alone refuses every other one).
      for (let i = 0; i < 20; i += 1) {
        const pool = new pg.Pool({ connectionString: engine.url, max: 1, connectionTimeoutMillis: 2_000 });
        await expect(pool.query('SELECT 1 AS one')).resolves.toMatchObject({ rows: [{ one: 1 }] });
        await pool.end();
      }

      const first = new pg.Client({ connectionString: engine.url });
      await first.connect();
      const second = new pg.Client({ connectionString: engine.url, connectionTimeoutMillis: 10_000 });
      let secondConnectedAt = 0;
      const secondConnected = second.connect().then(() => {
        secondConnectedAt = Date.now();
      });
      await first.query('BEGIN');
      await first.query('CREATE TABLE gate (v int)');
      await new Promise((done) => setTimeout(done, 200));
      await first.query('ROLLBACK');
      const firstEndedAt = Date.now();
      await first.end();
      await secondConnected;
      expect(secondConnectedAt).toBeGreaterThanOrEqual(firstEndedAt);
      // The first client's rolled-back table never became visible to the second.
      expect((await second.query(`SELECT to_regclass('gate') AS t`)).rows).toEqual([{ t: null }]);
      await second.end();
    }, 30_000);

    it('stop() (last: it ends this engine) does not hang on connected or waiting clients', async () => {
      const first = new pg.Client({ connectionString: engine.url });
      first.on('error', () => undefined);
      await first.connect();
      await first.query('BEGIN');
      const waiting = new pg.Client({ connectionString: engine.url });
      waiting.on('error', () => undefined);
      const waitingConnect = waiting.connect();
      await new Promise((done) => setTimeout(done, 100));
      await engine.stop();
      await expect(waitingConnect).rejects.toThrow();
      await expect(first.query('SELECT 1')).rejects.toThrow();
    }, 60_000);
  });

  it('keeps the data in dataDir across stop and start, and releases the port on stop', async () => {
    const dataDir = join(dir, 'nested', 'db');
    const first = await EmbeddedPostgres.start({ dataDir });
    await withClient(first.url, async (client) => {
      await client.query('CREATE TABLE kept (v text)');
      await client.query(`INSERT INTO kept VALUES ('still here')`);
    });
    await first.stop();
    await first.stop(); // idempotent

    // The port is closed: a new connection is refused rather than left hanging.
    await expect(withClient(first.url, async () => undefined)).rejects.toMatchObject({ code: 'ECONNREFUSED' });

    const second = await EmbeddedPostgres.start({ dataDir });
    try {
      const rows = await withClient(second.url, async (client) => (await client.query('SELECT v FROM kept')).rows);
      expect(rows).toEqual([{ v: 'still here' }]);
    } finally {
      await second.stop();
    }
  }, 90_000);
});
