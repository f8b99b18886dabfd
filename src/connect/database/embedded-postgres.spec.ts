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

  it('serves PGlite to pg on 127.0.0.1 and an OS-assigned port', async () => {
    const engine = await EmbeddedPostgres.start({});
    try {
      expect(engine.url).toMatch(/^postgres:\/\/postgres@127\.0\.0\.1:\d+\/postgres$/);
      expect(Number(new URL(engine.url).port)).toBeGreaterThan(0);
      const rows = await withClient(engine.url, async (client) => (await client.query('SELECT $1::int + 1 AS n', [41])).rows);
      expect(rows).toEqual([{ n: 42 }]);
    } finally {
      await engine.stop();
    }
  }, 60_000);

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

  it('starts empty without a dataDir', async () => {
    const engine = await EmbeddedPostgres.start({});
    try {
      const rows = await withClient(
        engine.url,
        async (client) => (await client.query(`SELECT to_regclass('public.kept') AS t`)).rows,
      );
      expect(rows).toEqual([{ t: null }]);
    } finally {
      await engine.stop();
    }
  }, 60_000);
});
