import type { MigrationInterface, QueryRunner } from 'typeorm';

import { SecretCipher } from '../secret-cipher.js';

/** The migration's name in `connect_migrations` (its timestamp orders it after the table's creation). */
export const ENCRYPT_SHARED_SECRETS_MIGRATION = 'EncryptConnectTenantSecrets1795977000000';

/** Rows read and rewritten per statement. */
const BATCH_SIZE = 500;

function tenantTable(queryRunner: QueryRunner): string {
  const { driver, options } = queryRunner.connection;
  const schema = (options as { schema?: string }).schema;
  const table = driver.escape('connect_tenant');
  return schema ? `${driver.escape(schema)}.${table}` : table;
}

interface SecretRow {
  row_id: string;
  app_key: string;
  client_key: string;
  shared_secret: string;
}

/**
 * Goes through `connect_tenant` by id in batches and rewrites each row `rewrite` returns a new value
 * for (in the migration's transaction).
 */
async function rewriteSecrets(queryRunner: QueryRunner, rewrite: (row: SecretRow) => string | undefined): Promise<void> {
  const table = tenantTable(queryRunner);
  let after = '0';
  for (;;) {
    const rows: SecretRow[] = await queryRunner.query(
      `SELECT "id"::text AS "row_id", "app_key", "client_key", "shared_secret" FROM ${table}
       WHERE "id" > $1 ORDER BY "id" LIMIT ${BATCH_SIZE} FOR UPDATE`,
      [after],
    );
    if (rows.length === 0) return;
    for (const row of rows) {
      const value = rewrite(row);
      if (value !== undefined) {
        await queryRunner.query(`UPDATE ${table} SET "shared_secret" = $2 WHERE "id" = $1`, [row.row_id, value]);
      }
    }
    after = rows[rows.length - 1]!.row_id;
  }
}

/**
 * The migration that encrypts the plaintext shared secrets already stored (rows without the `v1.`
 * prefix) and widens the column to `text` so an encrypted 512-character secret fits. TypeORM
 * migrations are classes without options, so this builds the class around the cipher; the framework
 * adds it to its DataSource. Running it again (or on an empty table) changes nothing. `down` decrypts
 * back to plaintext.
 */
export function createEncryptSharedSecretsMigration(cipher: SecretCipher): new () => MigrationInterface {
  return class EncryptConnectTenantSecrets1795977000000 implements MigrationInterface {
    readonly name = ENCRYPT_SHARED_SECRETS_MIGRATION;

    async up(queryRunner: QueryRunner): Promise<void> {
      await queryRunner.query(`ALTER TABLE ${tenantTable(queryRunner)} ALTER COLUMN "shared_secret" TYPE text`);
      await rewriteSecrets(queryRunner, (row) =>
        SecretCipher.isEncrypted(row.shared_secret) ? undefined : cipher.encrypt(row.shared_secret, { appKey: row.app_key, clientKey: row.client_key }),
      );
    }

    async down(queryRunner: QueryRunner): Promise<void> {
      await rewriteSecrets(queryRunner, (row) =>
        SecretCipher.isEncrypted(row.shared_secret) ? cipher.decrypt(row.shared_secret, { appKey: row.app_key, clientKey: row.client_key }) : undefined,
      );
      await queryRunner.query(`ALTER TABLE ${tenantTable(queryRunner)} ALTER COLUMN "shared_secret" TYPE varchar(512)`);
    }
  };
}
