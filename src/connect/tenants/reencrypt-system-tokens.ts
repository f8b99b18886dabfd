import type { DataSource } from 'typeorm';
import { isUndecryptableSecretError, SecretCipher } from '../database/secret-cipher.js';
import { ConnectError } from '../errors/connect-error.js';
import { systemTokenOwner } from '../database/system-token-owner.js';

/** What re-encrypting the saved Forge system tokens did. */
export interface ReencryptSystemTokensResult {
  /** Saved tokens looked at (rows of `connect_forge_installation` with a token). */
  readonly scanned: number;
  /** Tokens rewritten with the current key. */
  readonly reencrypted: number;
}

interface TokenRow {
  app_key: string;
  installation_id: string;
  system_token: string;
}

/**
 * Re-encrypts the saved app system tokens of `connect_forge_installation` with the cipher's current key,
 * the way `reencryptTenantSecrets` does the shared secrets: batches of `batchSize` rows, one transaction
 * each (rows locked while rewritten), keyset-paged on the primary key, rows already on the current key
 * left alone. A token whose key is not configured fails the run (`store/unavailable`, naming the key id);
 * a plaintext one too, unless `encryptPlaintext`. A database without the table (an app's own DataSource
 * that never ran the framework's migrations) has nothing to do.
 */
export async function reencryptSystemTokens(
  dataSource: DataSource,
  cipher: SecretCipher,
  { batchSize, encryptPlaintext }: { batchSize: number; encryptPlaintext: boolean },
): Promise<ReencryptSystemTokensResult> {
  const schema = (dataSource.options as { schema?: string }).schema;
  const table = schema ? `"${schema.replace(/"/g, '""')}"."connect_forge_installation"` : '"connect_forge_installation"';
  const [{ present }] = (await dataSource.query(`SELECT to_regclass($1) IS NOT NULL AS "present"`, [table])) as [{ present: boolean }];
  if (!present) return { scanned: 0, reencrypted: 0 };

  let scanned = 0;
  let reencrypted = 0;
  let after = { appKey: '', installationId: '' };
  for (;;) {
    const batch = await dataSource.transaction('READ COMMITTED', async (manager) => {
      const rows: TokenRow[] = await manager.query(
        `SELECT "app_key", "installation_id", "system_token" FROM ${table}
         WHERE ("app_key", "installation_id") > ($1, $2) AND "system_token" IS NOT NULL
         ORDER BY "app_key", "installation_id" LIMIT ${batchSize} FOR UPDATE`,
        [after.appKey, after.installationId],
      );
      let changed = 0;
      for (const row of rows) {
        if (!cipher.needsReencryption(row.system_token)) continue;
        const owner = systemTokenOwner(row.app_key, row.installation_id);
        const plain = encryptPlaintext && !SecretCipher.isEncrypted(row.system_token) ? row.system_token : decrypted(cipher, row, owner);
        await manager.query(`UPDATE ${table} SET "system_token" = $3 WHERE "app_key" = $1 AND "installation_id" = $2`, [
          row.app_key,
          row.installation_id,
          cipher.encrypt(plain, owner),
        ]);
        changed += 1;
      }
      return { rows, changed };
    });
    if (batch.rows.length === 0) break;
    scanned += batch.rows.length;
    reencrypted += batch.changed;
    const last = batch.rows[batch.rows.length - 1]!;
    after = { appKey: last.app_key, installationId: last.installation_id };
  }
  return { scanned, reencrypted };
}

/** The token in plaintext; a failure says it is a system token (the cipher's own message speaks of shared secrets). */
function decrypted(cipher: SecretCipher, row: TokenRow, owner: ReturnType<typeof systemTokenOwner>): string {
  try {
    return cipher.decrypt(row.system_token, owner);
  } catch (error) {
    if (!isUndecryptableSecretError(error)) throw error;
    const kid = error.detail?.kid;
    throw ConnectError.create(
      'store/unavailable',
      `The saved Forge system token of ${row.installation_id} (${row.app_key}) cannot be decrypted (${String(error.detail?.reason)}` +
        `${kid === undefined ? '' : `, key id "${String(kid)}"`}): add that key back to encryption.keys, or clear the token (the next Forge call saves a new one).`,
      { reason: error.detail?.reason, appKey: row.app_key, installationId: row.installation_id, kid },
      error,
    );
  }
}
