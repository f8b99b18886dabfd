// Tenants in bulk: real rows in `connect_tenant`, with shared secrets encrypted by the app's own key, so
// every seeded tenant is one the app can authenticate. Their identities are derived from a per-run seed,
// so the load generator can sign tokens for any of them without keeping 100,000 secrets around.
import { createHash, createHmac } from 'node:crypto';
import pg from 'pg';

/** The example app's Jira app key (src/example/app.module.ts). */
export const JIRA_APP_KEY = 'com.example.connect-nest.jira';

/** Rows per INSERT (one statement of 12 array parameters, expanded with unnest). */
const BATCH = 5_000;

/** Seeded tenant number `index` (1-based; number 0 is the one installed through the fake host). */
export function seededTenant(runSeed, index) {
  const hex = createHash('sha256').update(`${runSeed}/client/${index}`).digest('hex');
  const clientKey = `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-8${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
  const sharedSecret = createHmac('sha256', runSeed).update(`secret/${index}`).digest('base64url');
  return { clientKey, sharedSecret, index };
}

function quoteIdent(name) {
  return `"${name.replace(/"/g, '""')}"`;
}

/**
 * Connects `pg` to the tenant database: the PostgreSQL server at `databaseUrl`, or else the embedded
 * engine's data directory (which only one engine may open at a time: the app must be stopped). Returns
 * `{ client, close }`.
 */
export async function openTenantDatabase({ databaseUrl, embeddedDataDir, connect }) {
  if (databaseUrl) {
    const client = new pg.Client({ connectionString: databaseUrl });
    await client.connect();
    return { client, close: () => client.end() };
  }
  const engine = await connect.EmbeddedPostgres.start({ dataDir: embeddedDataDir });
  const client = new pg.Client({ connectionString: engine.url });
  try {
    await client.connect();
  } catch (error) {
    await engine.stop();
    throw error;
  }
  return {
    client,
    close: async () => {
      await client.end().catch(() => undefined);
      await engine.stop();
    },
  };
}

/** Rows in the tenant table. */
export async function countTenants(client, schema) {
  const table = schema ? `${quoteIdent(schema)}.connect_tenant` : 'connect_tenant';
  const { rows } = await client.query(`SELECT count(*)::int AS n FROM ${table}`);
  return rows[0].n;
}

/**
 * Inserts seeded tenants `from..to` (inclusive) as Jira installs of the example app, in batches.
 * `cipher` is a `SecretCipher` holding the app's encryption key.
 */
export async function seedTenants(client, { schema, runSeed, cipher, from, to, onProgress }) {
  const table = schema ? `${quoteIdent(schema)}.connect_tenant` : 'connect_tenant';
  const sql = `INSERT INTO ${table}
    ("app_key", "client_key", "shared_secret", "base_url", "display_url", "product_type", "description",
     "service_entitlement_number", "entitlement_id", "entitlement_number", "oauth_client_id", "installation_id")
    SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[],
                         $8::text[], $9::text[], $10::text[], $11::text[], $12::text[])`;
  for (let start = from; start <= to; start += BATCH) {
    const end = Math.min(to, start + BATCH - 1);
    const columns = Array.from({ length: 12 }, () => []);
    for (let index = start; index <= end; index += 1) {
      const { clientKey, sharedSecret } = seededTenant(runSeed, index);
      const siteUrl = `https://bench-${index}.atlassian.net`;
      const values = [
        JIRA_APP_KEY,
        clientKey,
        cipher.encrypt(sharedSecret, { appKey: JIRA_APP_KEY, clientKey }),
        siteUrl,
        siteUrl,
        'jira',
        `Atlassian JIRA at ${siteUrl}`,
        '1234567',
        clientKey,
        'E-123-456-789',
        clientKey.replace(/-/g, ''),
        `ari:cloud:ecosystem::installation/${clientKey}`,
      ];
      values.forEach((value, column) => columns[column].push(value));
    }
    await client.query(sql, columns);
    onProgress?.(end);
  }
}

/** Drops the bench's own schema (PostgreSQL runs). */
export async function dropSchema(databaseUrl, schema) {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    await client.query(`DROP SCHEMA IF EXISTS ${quoteIdent(schema)} CASCADE`);
  } finally {
    await client.end();
  }
}
