import { randomBytes, randomUUID } from 'node:crypto';

import { DataSource } from 'typeorm';

import { connectDataSourceOptions } from '../database/connect-data-source-options.js';
import { bindSecretCipher, SecretCipher } from '../database/secret-cipher.js';
import { ConnectError } from '../errors/connect-error.js';
import { ForgeInstallations, systemTokenOwner } from '../forge/forge-installations.js';
import type { VerifiedForgeInvocation } from '../forge/forge-token-verifier.js';
import { startTestDatabase, type TestDatabase } from '../testing/test-database.js';
import { createEncryptSharedSecretsMigration, ENCRYPT_SHARED_SECRETS_MIGRATION } from '../database/migrations/encrypt-shared-secrets.js';
import { reencryptTenantSecrets } from './reencrypt-tenant-secrets.js';
import type { TenantInstallation } from './tenant.js';
import { TypeOrmTenantStore } from './typeorm-tenant-store.js';

const APP = 'com.example.secrets';
const noWork = async (): Promise<void> => undefined;
const newKey = (kid: string): string => `${kid}:${randomBytes(32).toString('base64')}`;

function installation(clientKey = `client-${randomUUID()}`): TenantInstallation {
  return {
    appKey: APP,
    clientKey,
    sharedSecret: `secret-${randomUUID()}`,
    baseUrl: 'https://example.atlassian.net',
    displayUrl: null,
    productType: 'jira',
    description: null,
    serviceEntitlementNumber: null,
    entitlementId: null,
    entitlementNumber: null,
    oauthClientId: null,
    installationId: null,
  };
}

describe('secrets at rest', () => {
  let db: TestDatabase;
  let dataSource: DataSource;
  let table: string;
  const k1 = newKey('k1');
  const k2 = newKey('k2');
  const cipher1 = SecretCipher.fromKeys([k1]);
  const started = Date.now();

  beforeAll(async () => {
    db = await startTestDatabase();
    dataSource = await new DataSource(
      connectDataSourceOptions({
        url: db.url,
        schema: db.schema,
        poolSize: db.poolSize,
        connectTimeoutMs: 5_000,
        queryTimeoutMs: 10_000,
        extraMigrations: [createEncryptSharedSecretsMigration(cipher1)],
      }),
    ).initialize();
    table = db.schema ? `"${db.schema}"."connect_tenant"` : '"connect_tenant"';
  }, 120_000);

  afterAll(async () => {
    await dataSource?.destroy();
    await db?.stop();
    // eslint-disable-next-line no-console
    console.info(`secrets-at-rest spec on ${db?.engine}: ${Date.now() - started} ms`);
  });

  async function rawSecrets(): Promise<Map<string, string>> {
    const rows: { client_key: string; shared_secret: string }[] = await dataSource.query(`SELECT "client_key", "shared_secret" FROM ${table} WHERE "app_key" = $1`, [APP]);
    return new Map(rows.map((row) => [row.client_key, row.shared_secret]));
  }

  const forgeTable = () => (db.schema ? `"${db.schema}"."connect_forge_installation"` : '"connect_forge_installation"');

  async function rawSystemTokens(): Promise<Map<string, string>> {
    const rows: { installation_id: string; system_token: string }[] = await dataSource.query(
      `SELECT "installation_id", "system_token" FROM ${forgeTable()} WHERE "app_key" = $1 AND "system_token" IS NOT NULL`,
      [APP],
    );
    return new Map(rows.map((row) => [row.installation_id, row.system_token]));
  }

  /** What a verified Forge call of `installationId` says (the parts the installation record keeps). */
  function forgeInvocation(installationId: string): VerifiedForgeInvocation {
    return {
      app: { key: APP, product: 'jira' },
      installationId,
      apiBaseUrl: 'https://api.atlassian.com/ex/jira/cloud-1',
      environment: { type: 'PRODUCTION', id: 'env-1' },
      cloudId: 'cloud-1',
      siteUrl: 'https://example.atlassian.net',
      appVersion: '1.0.0',
      license: undefined,
    } as unknown as VerifiedForgeInvocation;
  }

  async function insertPlaintext(input: TenantInstallation): Promise<void> {
    await dataSource.query(`INSERT INTO ${table} ("app_key", "client_key", "shared_secret", "base_url", "product_type") VALUES ($1, $2, $3, $4, 'jira')`, [
      input.appKey,
      input.clientKey,
      input.sharedSecret,
      input.baseUrl,
    ]);
  }

  /** Runs the migration's `up` (or `down`) again in a transaction of its own. */
  async function runMigration(cipher: SecretCipher, direction: 'up' | 'down' = 'up'): Promise<void> {
    const Migration = createEncryptSharedSecretsMigration(cipher);
    const runner = dataSource.createQueryRunner();
    try {
      await runner.startTransaction();
      await new Migration()[direction](runner);
      await runner.commitTransaction();
    } catch (error) {
      await runner.rollbackTransaction();
      throw error;
    } finally {
      await runner.release();
    }
  }

  it('the migration ran on the empty table at startup, widened the column, and runs again harmlessly', async () => {
    const executed: { name: string }[] = await dataSource.query(`SELECT "name" FROM ${db.schema ? `"${db.schema}".` : ''}"connect_migrations" ORDER BY "id"`);
    expect(executed.map((m) => m.name)).toContain(ENCRYPT_SHARED_SECRETS_MIGRATION);
    expect((await rawSecrets()).size).toBe(0);
    await runMigration(cipher1);
    await runMigration(cipher1);
    const [{ data_type }] = await dataSource.query(
      `SELECT data_type FROM information_schema.columns WHERE table_name = 'connect_tenant' AND column_name = 'shared_secret'
       AND table_schema = COALESCE($1, current_schema())`,
      [db.schema ?? null],
    );
    expect(data_type).toBe('text');
  });

  it('the store writes only ciphertext and reads it back; a 512-character secret fits', async () => {
    const store = new TypeOrmTenantStore(dataSource, cipher1);
    const input = { ...installation(), sharedSecret: 'x'.repeat(512) };
    const { tenant } = await store.install(input, noWork);
    expect(tenant.sharedSecret).toBe(input.sharedSecret);
    const raw = (await rawSecrets()).get(input.clientKey) as string;
    expect(raw.startsWith('v1.k1.')).toBe(true);
    expect(raw).not.toContain(input.sharedSecret.slice(0, 16));
    expect((await store.find(APP, input.clientKey))?.sharedSecret).toBe(input.sharedSecret);
  });

  it('a store needs a cipher, given or bound to its DataSource', () => {
    expect(() => new TypeOrmTenantStore(dataSource)).toThrow(/SecretCipher/);
  });

  it('the migration encrypts existing plaintext rows, and running it twice changes nothing', async () => {
    const plain = [installation(), installation(), installation()];
    for (const input of plain) await insertPlaintext(input);
    await runMigration(cipher1);
    const once = await rawSecrets();
    for (const input of plain) {
      expect(SecretCipher.keyIdOf(once.get(input.clientKey) as string)).toBe('k1');
      expect(once.get(input.clientKey)).not.toContain(input.sharedSecret);
    }
    await runMigration(cipher1);
    expect(await rawSecrets()).toEqual(once);
    const store = new TypeOrmTenantStore(dataSource, cipher1);
    for (const input of plain) expect((await store.find(APP, input.clientKey))?.sharedSecret).toBe(input.sharedSecret);
  });

  it('a value moved to another row does not decrypt', async () => {
    const store = new TypeOrmTenantStore(dataSource, cipher1);
    const [a, b] = [installation(), installation()];
    await store.install(a, noWork);
    await store.install(b, noWork);
    await dataSource.query(
      `UPDATE ${table} SET "shared_secret" = (SELECT "shared_secret" FROM ${table} WHERE "app_key" = $1 AND "client_key" = $2)
       WHERE "app_key" = $1 AND "client_key" = $3`,
      [APP, a.clientKey, b.clientKey],
    );
    await expect(store.find(APP, b.clientKey)).rejects.toMatchObject({
      code: 'store/unavailable',
      detail: { reason: 'secret/tampered', clientKey: b.clientKey },
    });
    await dataSource.query(`DELETE FROM ${table} WHERE "app_key" = $1 AND "client_key" = $2`, [APP, b.clientKey]);
  });

  it('a plaintext row written after the migration is an error, not a silent fallback', async () => {
    const store = new TypeOrmTenantStore(dataSource, cipher1);
    const input = installation();
    await insertPlaintext(input);
    const error = await store.find(APP, input.clientKey).catch((e: unknown) => e as ConnectError);
    expect(error).toBeInstanceOf(ConnectError);
    expect((error as ConnectError).detail?.reason).toBe('secret/plaintext');
    expect((error as ConnectError).message).not.toContain(input.sharedSecret);
    await expect(reencryptTenantSecrets(dataSource, { cipher: cipher1 })).rejects.toMatchObject({
      detail: { reason: 'secret/plaintext' },
    });
    // The operator's way out: encrypt it explicitly.
    await reencryptTenantSecrets(dataSource, { cipher: cipher1, encryptPlaintext: true });
    expect((await store.find(APP, input.clientKey))?.sharedSecret).toBe(input.sharedSecret);
  });

  it('rotation: old rows decrypt with the old key kept, re-encryption moves every row (batched, re-runnable)', async () => {
    const store1 = new TypeOrmTenantStore(dataSource, cipher1);
    const inputs = Array.from({ length: 5 }, () => installation());
    for (const input of inputs) await store1.install(input, noWork);
    const total = (await rawSecrets()).size;

    const rotated = SecretCipher.fromKeys([k2, k1]);
    const store2 = new TypeOrmTenantStore(dataSource, rotated);
    expect((await store2.find(APP, inputs[0]!.clientKey))?.sharedSecret).toBe(inputs[0]!.sharedSecret);

    const first = await reencryptTenantSecrets(store2, { batchSize: 2 });
    expect(first.scanned).toBe(total);
    expect(first.reencrypted).toBe(total);
    const raw = await rawSecrets();
    for (const value of raw.values()) expect(SecretCipher.keyIdOf(value)).toBe('k2');
    expect(await reencryptTenantSecrets(dataSource, { cipher: rotated, batchSize: 2 })).toEqual({
      scanned: total,
      reencrypted: 0,
      forgeSystemTokens: { scanned: 0, reencrypted: 0 },
    });
    expect(await rawSecrets()).toEqual(raw);

    // The old key can go now.
    const only2 = SecretCipher.fromKeys([k2]);
    const store3 = new TypeOrmTenantStore(dataSource, only2);
    for (const input of inputs) expect((await store3.find(APP, input.clientKey))?.sharedSecret).toBe(input.sharedSecret);

    // And without the key that encrypted the rows: a clear error naming the key id.
    const stranger = SecretCipher.fromKeys([newKey('k3')]);
    const error = await new TypeOrmTenantStore(dataSource, stranger).find(APP, inputs[0]!.clientKey).catch((e: unknown) => e as ConnectError);
    expect(error).toMatchObject({ code: 'store/unavailable', detail: { reason: 'secret/unknown-key', kid: 'k2' } });
    expect((error as ConnectError).message).toContain('"k2"');
    await expect(reencryptTenantSecrets(dataSource, { cipher: stranger })).rejects.toMatchObject({
      detail: { reason: 'secret/unknown-key', kid: 'k2' },
    });
    expect(await rawSecrets()).toEqual(raw); // nothing half-done
  });

  it('a cipher bound to the DataSource is used by stores and by reencryptTenantSecrets', async () => {
    const only2 = SecretCipher.fromKeys([k2]);
    bindSecretCipher(dataSource, only2);
    const input = installation();
    await new TypeOrmTenantStore(dataSource).install(input, noWork);
    expect(await reencryptTenantSecrets(dataSource)).toMatchObject({ reencrypted: 0 });
    expect((await new TypeOrmTenantStore(dataSource, only2).find(APP, input.clientKey))?.sharedSecret).toBe(input.sharedSecret);
  });

  it('re-encryption also moves the saved Forge system tokens to the current key (batched, re-runnable), bound to their rows', async () => {
    const [kA, kB] = [newKey('kA'), newKey('kB')];
    // The tenant rows are on k2 by now: it stays configured so that they move too.
    bindSecretCipher(dataSource, SecretCipher.fromKeys([kA, k2]));
    const installations = new ForgeInstallations(dataSource);
    const saved = new Map<string, string>();
    for (let index = 0; index < 5; index++) {
      const installationId = `ari:cloud:ecosystem::installation/${randomUUID()}`;
      const token = `system-token-${randomUUID()}`;
      saved.set(installationId, token);
      await installations.recordLifecycleEvent(forgeInvocation(installationId), token, 'installed');
    }
    // A row without a token is not a token to re-encrypt.
    await installations.recordLifecycleEvent(forgeInvocation(`ari:cloud:ecosystem::installation/${randomUUID()}`), undefined, 'installed');
    const before = await rawSystemTokens();
    expect(before.size).toBe(5);
    for (const [installationId, value] of before) {
      expect(SecretCipher.keyIdOf(value)).toBe('kA');
      expect(value).not.toContain(saved.get(installationId));
    }

    const rotated = SecretCipher.fromKeys([kB, kA, k2]);
    const first = await reencryptTenantSecrets(dataSource, { cipher: rotated, batchSize: 2 });
    expect(first.forgeSystemTokens).toEqual({ scanned: 5, reencrypted: 5 });
    expect(first.reencrypted).toBe(first.scanned);
    const after = await rawSystemTokens();
    for (const [installationId, value] of after) {
      expect(SecretCipher.keyIdOf(value)).toBe('kB');
      expect(value).not.toBe(before.get(installationId));
      expect(value).not.toContain(saved.get(installationId));
    }
    expect(await reencryptTenantSecrets(dataSource, { cipher: rotated, batchSize: 2 })).toMatchObject({ reencrypted: 0, forgeSystemTokens: { scanned: 5, reencrypted: 0 } });
    expect(await rawSystemTokens()).toEqual(after);

    // The old keys can go: every token reads back with the new key alone, each bound to its own row.
    bindSecretCipher(dataSource, SecretCipher.fromKeys([kB]));
    for (const [installationId, token] of saved) expect((await installations.systemTokenOf(APP, installationId))?.token).toBe(token);
    const [one, other] = [...saved.keys()] as [string, string];
    expect(() => SecretCipher.fromKeys([kB]).decrypt(after.get(one)!, systemTokenOwner(APP, other))).toThrow(
      expect.objectContaining({ detail: expect.objectContaining({ reason: 'secret/tampered' }) }),
    );

    // A token under a key that is not configured fails the run, naming the key id, never the value.
    const lost = `system-token-${randomUUID()}`;
    const stranger = SecretCipher.fromKeys([newKey('lost')]).encrypt(lost, systemTokenOwner(APP, one));
    await dataSource.query(`UPDATE ${forgeTable()} SET "system_token" = $2 WHERE "app_key" = $1 AND "installation_id" = $3`, [APP, stranger, one]);
    const error = (await reencryptTenantSecrets(dataSource, { cipher: SecretCipher.fromKeys([kB]) }).catch((e: unknown) => e)) as ConnectError;
    expect(error).toMatchObject({ code: 'store/unavailable', detail: { reason: 'secret/unknown-key', kid: 'lost', installationId: one } });
    expect(error.message).toContain('Forge system token');
    expect(error.message).not.toContain(lost);
    await dataSource.query(`DELETE FROM ${forgeTable()} WHERE "app_key" = $1`, [APP]);
    // Back to k2, as the next test expects.
    await reencryptTenantSecrets(dataSource, { cipher: SecretCipher.fromKeys([k2, kB]) });
    bindSecretCipher(dataSource, SecretCipher.fromKeys([k2]));
  });

  it('down decrypts every row back to plaintext, and up encrypts them again', async () => {
    const only2 = SecretCipher.fromKeys([k2]);
    const store = new TypeOrmTenantStore(dataSource, only2);
    const input = installation();
    await store.install(input, noWork);
    await runMigration(only2, 'down');
    expect((await rawSecrets()).get(input.clientKey)).toBe(input.sharedSecret);
    await runMigration(only2, 'up');
    expect(SecretCipher.keyIdOf((await rawSecrets()).get(input.clientKey) as string)).toBe('k2');
    expect((await store.find(APP, input.clientKey))?.sharedSecret).toBe(input.sharedSecret);
  });
});

describe('upgrading a database that holds plaintext secrets', () => {
  let db: TestDatabase;
  const started = Date.now();

  beforeAll(async () => {
    db = await startTestDatabase();
  }, 120_000);

  afterAll(async () => {
    await db?.stop();
    // eslint-disable-next-line no-console
    console.info(`secret upgrade spec on ${db?.engine}: ${Date.now() - started} ms`);
  });

  function open(extraMigrations: (new () => unknown)[] = []): Promise<DataSource> {
    return new DataSource(
      connectDataSourceOptions({
        url: db.url,
        schema: db.schema,
        poolSize: db.poolSize,
        connectTimeoutMs: 5_000,
        queryTimeoutMs: 10_000,
        extraMigrations,
      }),
    ).initialize();
  }

  it('the migration encrypts the rows written before it when the DataSource starts', async () => {
    const table = db.schema ? `"${db.schema}"."connect_tenant"` : '"connect_tenant"';
    const inputs = Array.from({ length: 3 }, () => installation());
    const before = await open(); // the previous version: the table without encryption
    try {
      for (const input of inputs) {
        await before.query(`INSERT INTO ${table} ("app_key", "client_key", "shared_secret", "base_url", "product_type") VALUES ($1, $2, $3, $4, 'jira')`, [
          input.appKey,
          input.clientKey,
          input.sharedSecret,
          input.baseUrl,
        ]);
      }
    } finally {
      await before.destroy();
    }

    const cipher = SecretCipher.fromKeys([newKey('up')]);
    const after = await open([createEncryptSharedSecretsMigration(cipher)]);
    try {
      const rows: { shared_secret: string }[] = await after.query(`SELECT "shared_secret" FROM ${table}`);
      expect(rows).toHaveLength(3);
      for (const row of rows) expect(SecretCipher.keyIdOf(row.shared_secret)).toBe('up');
      const store = new TypeOrmTenantStore(after, cipher);
      for (const input of inputs) expect((await store.find(APP, input.clientKey))?.sharedSecret).toBe(input.sharedSecret);
    } finally {
      await after.destroy();
    }
  }, 60_000);
});
