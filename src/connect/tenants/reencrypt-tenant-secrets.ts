import type { DataSource } from 'typeorm';

import { boundSecretCipher, SecretCipher } from '../database/secret-cipher.js';
import { ConnectError } from '../errors/connect-error.js';
import { TypeOrmTenantStore } from './typeorm-tenant-store.js';
import { CONNECT_DEFAULTS } from '../config/connect-defaults.js';
import { reencryptSystemTokens } from './reencrypt-system-tokens.js';

export interface ReencryptTenantSecretsOptions {
  /** The cipher whose first key is the target; default the one bound to the DataSource. */
  readonly cipher?: SecretCipher;
  /** Rows per transaction (default 200). */
  readonly batchSize?: number;
  /**
   * Encrypt rows still holding a plaintext secret instead of failing on them (default `false`: a
   * plaintext row after the migration means it was written past the framework).
   */
  readonly encryptPlaintext?: boolean;
}

export interface ReencryptTenantSecretsResult {
  /** Tenant rows looked at. */
  readonly scanned: number;
  /** Tenant rows rewritten with the current key. */
  readonly reencrypted: number;
  /** The saved Forge app system tokens (`connect_forge_installation`): tokens looked at, and rewritten with the current key. */
  readonly forgeSystemTokens: { readonly scanned: number; readonly reencrypted: number };
}

interface SecretRow {
  row_id: string;
  app_key: string;
  client_key: string;
  shared_secret: string;
}

/**
 * Re-encrypts every tenant's shared secret, then every saved Forge app system token, with the cipher's
 * current (first) key: after rotating, run it with the new key first and the old ones still configured,
 * then drop the old keys. Works in batches, one transaction each (rows locked while rewritten); rows
 * already on the current key are left alone, so it is safe to re-run or to interrupt. A row whose key
 * is not configured fails the run with a `store/unavailable` error naming the key id (never the value).
 */
export async function reencryptTenantSecrets(target: DataSource | TypeOrmTenantStore, options: ReencryptTenantSecretsOptions = {}): Promise<ReencryptTenantSecretsResult> {
  const dataSource = target instanceof TypeOrmTenantStore ? (target as unknown as { dataSource: DataSource }).dataSource : target;
  const cipher = options.cipher ?? (target instanceof TypeOrmTenantStore ? (target as unknown as { cipher: SecretCipher }).cipher : undefined) ?? boundSecretCipher(dataSource);
  if (cipher === undefined) {
    throw ConnectError.create('config/invalid', 'reencryptTenantSecrets needs a SecretCipher (options.cipher).');
  }
  const batchSize = options.batchSize ?? CONNECT_DEFAULTS.calls.reencryptBatchSize;
  if (!Number.isSafeInteger(batchSize) || batchSize < 1) {
    throw ConnectError.create('config/invalid', 'batchSize must be a positive integer.');
  }
  const schema = (dataSource.options as { schema?: string }).schema;
  const table = schema ? `"${schema.replace(/"/g, '""')}"."connect_tenant"` : '"connect_tenant"';

  let scanned = 0;
  let reencrypted = 0;
  let after = '0';
  for (;;) {
    const batch = await dataSource.transaction('READ COMMITTED', async (manager) => {
      const rows: SecretRow[] = await manager.query(
        `SELECT "id"::text AS "row_id", "app_key", "client_key", "shared_secret" FROM ${table}
         WHERE "id" > $1 ORDER BY "id" LIMIT ${batchSize} FOR UPDATE`,
        [after],
      );
      let changed = 0;
      for (const row of rows) {
        if (!cipher.needsReencryption(row.shared_secret)) continue;
        const owner = { appKey: row.app_key, clientKey: row.client_key };
        const plain = options.encryptPlaintext && !SecretCipher.isEncrypted(row.shared_secret) ? row.shared_secret : cipher.decrypt(row.shared_secret, owner);
        await manager.query(`UPDATE ${table} SET "shared_secret" = $2, "updated_at" = now() WHERE "id" = $1`, [row.row_id, cipher.encrypt(plain, owner)]);
        changed += 1;
      }
      return { rows, changed };
    });
    if (batch.rows.length === 0) break;
    scanned += batch.rows.length;
    reencrypted += batch.changed;
    after = batch.rows[batch.rows.length - 1]!.row_id;
  }
  const forgeSystemTokens = await reencryptSystemTokens(dataSource, cipher, { batchSize, encryptPlaintext: options.encryptPlaintext === true });
  return { scanned, reencrypted, forgeSystemTokens };
}
