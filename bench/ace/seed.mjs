// Tenants in ACE's store, written directly the way bench/seed.mjs writes the framework's: one
// `INSERT … SELECT FROM unnest(…)` per batch, into the `AddonSettings` table ACE's sequelize store
// creates (bench/ace/app.mjs must have started once, in the same schema). ACE keeps the install
// payload as JSON under `key = 'clientInfo'`, the shared secret in plain text, as its install route does.
import { JIRA_APP_KEY } from '../seed.mjs';

const BATCH = 5_000;

function quoteIdent(name) {
  return `"${name.replace(/"/g, '""')}"`;
}

/** The lifecycle payload ACE stores for `tenant` (a `{ clientKey, sharedSecret, index }`). */
export function aceClientInfo(tenant) {
  const siteUrl = `https://bench-${tenant.index ?? 0}.atlassian.net`;
  return {
    key: JIRA_APP_KEY,
    clientKey: tenant.clientKey,
    sharedSecret: tenant.sharedSecret,
    baseUrl: siteUrl,
    displayUrl: siteUrl,
    productType: 'jira',
    description: `Atlassian JIRA at ${siteUrl}`,
    serviceEntitlementNumber: '1234567',
    eventType: 'installed',
  };
}

/** Rows of ACE's store holding a tenant (`clientInfo`). */
export async function countAceTenants(client, schema) {
  const { rows } = await client.query(`SELECT count(*)::int AS n FROM ${quoteIdent(schema)}."AddonSettings" WHERE "key" = 'clientInfo'`);
  return rows[0].n;
}

/** Inserts `tenants` (each `{ clientKey, sharedSecret, index }`) into ACE's store in `schema`, in batches. */
export async function seedAceTenants(client, { schema, tenants }) {
  const sql = `INSERT INTO ${quoteIdent(schema)}."AddonSettings" ("clientKey", "key", "val")
    SELECT * FROM unnest($1::text[], $2::text[], $3::json[])`;
  for (let start = 0; start < tenants.length; start += BATCH) {
    const batch = tenants.slice(start, start + BATCH);
    await client.query(sql, [batch.map((tenant) => tenant.clientKey), batch.map(() => 'clientInfo'), batch.map((tenant) => JSON.stringify(aceClientInfo(tenant)))]);
  }
}
