import { randomBytes } from 'node:crypto';

import { DataSource } from 'typeorm';

import { ConnectError } from '../errors/connect-error.js';
import { startTestDatabase, type TestDatabase } from '../testing/test-database.js';
import { TENANT_COLUMN_LIMITS } from './tenant.entity.js';
import { CONNECT_ENTITIES, CONNECT_MIGRATIONS, connectDataSourceOptions, type ConnectDataSourceInput } from './connect-data-source-options.js';

const base: ConnectDataSourceInput = {
  url: 'postgres://app:secret@db.example:5432/app',
  poolSize: 3,
  connectTimeoutMs: 2_000,
  queryTimeoutMs: 4_000,
};

describe('connectDataSourceOptions', () => {
  it('builds postgres options that run our migrations and never synchronize', () => {
    class ExtraEntity {}
    class ExtraMigration1700000000000 {}
    const options = connectDataSourceOptions({
      ...base,
      extraEntities: [ExtraEntity],
      extraMigrations: [ExtraMigration1700000000000],
    }) as unknown as Record<string, unknown>;
    expect(options).toMatchObject({
      type: 'postgres',
      url: base.url,
      migrationsRun: true,
      synchronize: false,
      migrationsTableName: 'connect_migrations',
      poolSize: 3,
      connectTimeoutMS: 2_000,
      entities: [...CONNECT_ENTITIES, ExtraEntity],
      migrations: [...CONNECT_MIGRATIONS, ExtraMigration1700000000000],
      extra: { statement_timeout: 4_000, query_timeout: 5_000 },
    });
    expect(options.schema).toBeUndefined();
    expect((options.extra as { onConnect?: unknown }).onConnect).toBeUndefined();
  });

  it('puts the schema on entities and migrations and prepares it on every new connection', () => {
    const options = connectDataSourceOptions({ ...base, schema: 'connect' }) as unknown as Record<string, unknown>;
    expect(options.schema).toBe('connect');
    expect(typeof (options.extra as { onConnect?: unknown }).onConnect).toBe('function');
  });

  it.each([
    [{ poolSize: 0 }],
    [{ poolSize: 1.5 }],
    [{ connectTimeoutMs: 0 }],
    [{ queryTimeoutMs: -1 }],
    [{ url: '' }],
    [{ schema: 'Connect' }],
    [{ schema: 'a;drop table x' }],
    [{ schema: '' }],
  ])('rejects an invalid input %j with config/invalid, without echoing the url', (override) => {
    let thrown: unknown;
    try {
      connectDataSourceOptions({ ...base, ...override });
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(ConnectError);
    expect((thrown as ConnectError).code).toBe('config/invalid');
    expect((thrown as ConnectError).message).not.toContain('secret');
  });
});

describe('connect migrations against a real database', () => {
  let db: TestDatabase;
  const started = Date.now();

  function open(schema = db.schema): Promise<DataSource> {
    return new DataSource(
      connectDataSourceOptions({
        url: db.url,
        schema,
        poolSize: db.poolSize,
        connectTimeoutMs: 5_000,
        queryTimeoutMs: 10_000,
      }),
    ).initialize();
  }

  beforeAll(async () => {
    db = await startTestDatabase();
  }, 120_000);

  afterAll(async () => {
    await db?.stop();
    // eslint-disable-next-line no-console
    console.info(`migrations spec on ${db?.engine}: ${Date.now() - started} ms`);
  });

  it('creates connect_tenant with its columns, constraints and index; running again is a no-op', async () => {
    const first = await open();
    const schema = db.schema ?? 'public';
    try {
      const columns: { column_name: string; data_type: string; max: number | null; is_nullable: string }[] = await first.query(
        `SELECT column_name, data_type, character_maximum_length AS max, is_nullable
             FROM information_schema.columns WHERE table_schema = $1 AND table_name = 'connect_tenant'
            ORDER BY ordinal_position`,
        [schema],
      );
      expect(columns.map((c) => c.column_name)).toEqual([
        'id',
        'app_key',
        'client_key',
        'shared_secret',
        'base_url',
        'display_url',
        'product_type',
        'description',
        'service_entitlement_number',
        'entitlement_id',
        'entitlement_number',
        'oauth_client_id',
        'installation_id',
        'enabled',
        'installed_at',
        'uninstalled_at',
        'created_at',
        'updated_at',
      ]);
      const byName = Object.fromEntries(columns.map((c) => [c.column_name, c]));
      expect(byName.id!.data_type).toBe('bigint');
      expect(byName.app_key!.max).toBe(TENANT_COLUMN_LIMITS.appKey);
      expect(byName.client_key!.max).toBe(TENANT_COLUMN_LIMITS.clientKey);
      expect(byName.shared_secret!.max).toBe(TENANT_COLUMN_LIMITS.sharedSecret);
      expect(byName.base_url!.max).toBe(TENANT_COLUMN_LIMITS.url);
      expect(byName.product_type!.max).toBe(TENANT_COLUMN_LIMITS.productType);
      expect(byName.installation_id!.max).toBe(TENANT_COLUMN_LIMITS.identifier);
      expect(byName.description!.data_type).toBe('text');
      expect(byName.uninstalled_at!.data_type).toBe('timestamp with time zone');
      expect(byName.uninstalled_at!.is_nullable).toBe('YES');
      expect(byName.shared_secret!.is_nullable).toBe('NO');

      const constraints: { conname: string; contype: string }[] = await first.query(
        `SELECT conname, contype FROM pg_constraint
          WHERE conrelid = to_regclass($1) AND contype IN ('p', 'u', 'c') ORDER BY conname`,
        [`"${schema}"."connect_tenant"`],
      );
      expect(constraints).toEqual([
        { conname: 'connect_tenant_app_key_client_key_key', contype: 'u' },
        { conname: 'connect_tenant_pkey', contype: 'p' },
        { conname: 'connect_tenant_product_type_check', contype: 'c' },
      ]);
      const indexes: { indexname: string }[] = await first.query(`SELECT indexname FROM pg_indexes WHERE schemaname = $1 AND tablename = 'connect_tenant' ORDER BY indexname`, [
        schema,
      ]);
      expect(indexes.map((i) => i.indexname)).toContain('connect_tenant_installation_id_idx');
      expect(indexes.map((i) => i.indexname)).toContain('connect_tenant_app_key_installation_id_idx');

      // The check constraint holds.
      await expect(
        first.query(
          `INSERT INTO "${schema}"."connect_tenant" (app_key, client_key, shared_secret, base_url, product_type)
           VALUES ('a', 'c', 's', 'https://x', 'bitbucket')`,
        ),
      ).rejects.toMatchObject({ driverError: { code: '23514' } });
    } finally {
      await first.destroy();
    }

    const second = await open();
    try {
      expect(await second.showMigrations()).toBe(false);
      const executed: { name: string }[] = await second.query(`SELECT name FROM "${schema}"."connect_migrations" ORDER BY id`);
      expect(executed.map((m) => m.name)).toEqual([
        'CreateConnectTenant1795446752614',
        'NotifyConnectTenantChanges1795500000000',
        'IndexConnectTenantInstallations1796000000000',
        'CreateConnectForgeInstallation1797000000000',
        'CreateConnectForgeEvent1797100000000',
      ]);
    } finally {
      await second.destroy();
    }
  }, 60_000);

  it('can undo the migrations and apply them again', async () => {
    const dataSource = await open();
    const schema = db.schema ?? 'public';
    const triggers = async (): Promise<unknown[]> =>
      dataSource.query(`SELECT tgname FROM pg_trigger WHERE tgrelid = to_regclass($1) AND NOT tgisinternal`, [`"${schema}"."connect_tenant"`]);
    const installationIndex = async (): Promise<unknown[]> =>
      dataSource.query(`SELECT indexname FROM pg_indexes WHERE schemaname = $1 AND indexname = $2`, [schema, 'connect_tenant_app_key_installation_id_idx']);
    const forgeTable = async (): Promise<unknown> => (await dataSource.query(`SELECT to_regclass($1)::text AS t`, [`"${schema}"."connect_forge_installation"`]))[0].t;
    const eventTable = async (): Promise<unknown> => (await dataSource.query(`SELECT to_regclass($1)::text AS t`, [`"${schema}"."connect_forge_event"`]))[0].t;
    const installedAtColumn = async (): Promise<unknown[]> =>
      dataSource.query(
        `SELECT column_name FROM information_schema.columns WHERE table_schema = $1 AND table_name = 'connect_forge_installation' AND column_name = 'installed_at'`,
        [schema],
      );
    try {
      expect(await eventTable()).toEqual(expect.stringContaining('connect_forge_event'));
      expect(await installedAtColumn()).toHaveLength(1);
      await dataSource.undoLastMigration();
      expect(await eventTable()).toBeNull();
      expect(await installedAtColumn()).toEqual([]);
      expect(await triggers()).toEqual([{ tgname: 'connect_tenant_notify_change' }]);
      expect(await installationIndex()).toHaveLength(1);
      expect(await forgeTable()).toEqual(expect.stringContaining('connect_forge_installation'));
      await dataSource.undoLastMigration();
      expect(await forgeTable()).toBeNull();
      expect(await installationIndex()).toHaveLength(1);
      await dataSource.undoLastMigration();
      expect(await installationIndex()).toEqual([]);
      expect(await triggers()).toEqual([{ tgname: 'connect_tenant_notify_change' }]);
      await dataSource.undoLastMigration();
      expect(await triggers()).toEqual([]);
      await dataSource.undoLastMigration();
      expect(await dataSource.query(`SELECT to_regclass($1) AS t`, [`"${schema}"."connect_tenant"`])).toEqual([{ t: null }]);
      await dataSource.runMigrations();
      expect(await dataSource.query(`SELECT to_regclass($1)::text AS t`, [`"${schema}"."connect_tenant"`])).toEqual([{ t: expect.stringContaining('connect_tenant') }]);
      expect(await triggers()).toEqual([{ tgname: 'connect_tenant_notify_change' }]);
      expect(await installationIndex()).toHaveLength(1);
      expect(await forgeTable()).toEqual(expect.stringContaining('connect_forge_installation'));
      expect(await eventTable()).toEqual(expect.stringContaining('connect_forge_event'));
      expect(await installedAtColumn()).toHaveLength(1);
    } finally {
      await dataSource.destroy();
    }
  }, 60_000);

  // Last on purpose: on the embedded engine the search_path it sets stays on PGlite's single session.
  it('creates a missing schema before migrations run and puts it on search_path for raw SQL', async () => {
    const schema = `connect_opt_${randomBytes(4).toString('hex')}`;
    const dataSource = await open(schema);
    try {
      const tables: { table_schema: string; table_name: string }[] = await dataSource.query(
        `SELECT table_schema, table_name FROM information_schema.tables
          WHERE table_schema = $1 ORDER BY table_name`,
        [schema],
      );
      expect(tables.map((t) => t.table_name)).toEqual(['connect_forge_event', 'connect_forge_installation', 'connect_migrations', 'connect_tenant']);
      // Unqualified raw SQL resolves to the schema.
      expect(await dataSource.query('SELECT current_schema() AS s, count(*)::int AS n FROM connect_tenant')).toEqual([{ s: schema, n: 0 }]);
    } finally {
      await dataSource.query(`DROP SCHEMA "${schema}" CASCADE`);
      await dataSource.destroy();
    }
  }, 60_000);
});
