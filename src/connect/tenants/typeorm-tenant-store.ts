import { Inject, Injectable, Optional } from '@nestjs/common';
import { DataSource, type EntityManager } from 'typeorm';

import { InjectConnectDataSource } from '../database/connect-data-source.constants.js';
import { boundSecretCipher, SecretCipher } from '../database/secret-cipher.js';
import { ConnectError } from '../errors/connect-error.js';
import { storeUnavailable } from '../database/store-unavailable.js';
import type { ConnectTenant, TenantInstallation } from './tenant.js';
import type { TenantInstallOptions, TenantStateChange, TenantStore, TenantWriteContext } from './tenant-store.js';

/** A `connect_tenant` row as `pg` returns it (timestamptz → Date). */
interface TenantRow {
  app_key: string;
  client_key: string;
  shared_secret: string;
  base_url: string;
  display_url: string | null;
  product_type: ConnectTenant['productType'];
  description: string | null;
  service_entitlement_number: string | null;
  entitlement_id: string | null;
  entitlement_number: string | null;
  oauth_client_id: string | null;
  installation_id: string | null;
  enabled: boolean;
  installed_at: Date;
  uninstalled_at: Date | null;
  created_at: Date;
  updated_at: Date;
}

/** The columns an install writes, in the order of the `$n` parameters (see `installParameters`). */
const INSTALL_COLUMNS = [
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
] as const;

/** Every column the store reads back. */
const STATE_COLUMNS = ['enabled', 'installed_at', 'uninstalled_at', 'created_at', 'updated_at'] as const;

const COLUMNS = [...INSTALL_COLUMNS, ...STATE_COLUMNS].map((column) => `"${column}"`).join(', ');

function installParameters(installation: TenantInstallation, cipher: SecretCipher): (string | null)[] {
  return [
    installation.appKey,
    installation.clientKey,
    cipher.encrypt(installation.sharedSecret, installation),
    installation.baseUrl,
    installation.displayUrl,
    installation.productType,
    installation.description,
    installation.serviceEntitlementNumber,
    installation.entitlementId,
    installation.entitlementNumber,
    installation.oauthClientId,
    installation.installationId,
  ];
}

function toTenant(row: TenantRow, cipher: SecretCipher): ConnectTenant {
  const owner = { appKey: row.app_key, clientKey: row.client_key };
  return Object.freeze({
    appKey: row.app_key,
    clientKey: row.client_key,
    sharedSecret: cipher.decrypt(row.shared_secret, owner),
    baseUrl: row.base_url,
    displayUrl: row.display_url,
    productType: row.product_type,
    description: row.description,
    serviceEntitlementNumber: row.service_entitlement_number,
    entitlementId: row.entitlement_id,
    entitlementNumber: row.entitlement_number,
    oauthClientId: row.oauth_client_id,
    installationId: row.installation_id,
    enabled: row.enabled,
    installedAt: row.installed_at,
    uninstalledAt: row.uninstalled_at,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  });
}

/**
 * Runs one statement on the transaction's own connection and returns its rows. (`EntityManager.query`
 * returns `[rows, count]` for UPDATE on PostgreSQL, so ask the query runner for a structured result.)
 */
async function queryRows(manager: EntityManager, sql: string, parameters: unknown[]): Promise<TenantRow[]> {
  const runner = manager.queryRunner;
  if (runner === undefined) throw new Error('Tenant writes must run inside a transaction.');
  const result = await runner.query(sql, parameters, true);
  return result.records as TenantRow[];
}

/**
 * The default `TenantStore`: one `connect_tenant` row per (appKey, clientKey) in PostgreSQL, written
 * with plain SQL through the framework's TypeORM DataSource (`CONNECT_DATA_SOURCE`).
 *
 * Every statement of a write runs on the transaction's own connection (its `EntityManager`), never on
 * a second pooled one: against `EmbeddedPostgres` the pool holds exactly one connection, and waiting
 * for a second one while holding it would only end in a connect timeout.
 */
@Injectable()
export class TypeOrmTenantStore implements TenantStore {
  private readonly table: string;
  private readonly cipher: SecretCipher;

  /**
   * `cipher` encrypts the shared secrets at rest; without it the one the framework bound to the
   * DataSource (`bindSecretCipher`) is used, and without either the store refuses to exist.
   */
  constructor(
    @InjectConnectDataSource() private readonly dataSource: DataSource,
    @Optional() @Inject(SecretCipher) cipher?: SecretCipher,
  ) {
    const resolved = cipher ?? boundSecretCipher(dataSource);
    if (resolved === undefined) {
      throw ConnectError.create('config/invalid', 'TypeOrmTenantStore needs a SecretCipher: pass one, or bind one to the DataSource with bindSecretCipher().');
    }
    this.cipher = resolved;
    // Qualified with the DataSource's schema (as the migration does), so the store never depends on
    // search_path.
    const schema = (dataSource.options as { schema?: string }).schema;
    this.table = schema ? `"${schema.replace(/"/g, '""')}"."connect_tenant"` : '"connect_tenant"';
  }

  async find(appKey: string, clientKey: string): Promise<ConnectTenant | null> {
    let rows: TenantRow[];
    try {
      rows = await this.dataSource.query(`SELECT ${COLUMNS} FROM ${this.table} WHERE "app_key" = $1 AND "client_key" = $2`, [appKey, clientKey]);
    } catch (error) {
      throw storeUnavailable(error);
    }
    return rows[0] === undefined ? null : toTenant(rows[0], this.cipher);
  }

  async findByInstallationId(appKey: string, installationId: string): Promise<ConnectTenant | null> {
    let rows: TenantRow[];
    try {
      // Served by the (app_key, installation_id) index; the ORDER BY only ever sorts the few rows that
      // share one installation id.
      rows = await this.dataSource.query(
        `SELECT ${COLUMNS} FROM ${this.table} WHERE "app_key" = $1 AND "installation_id" = $2
         ORDER BY ("uninstalled_at" IS NULL) DESC, "installed_at" DESC, "id" DESC
         LIMIT 1`,
        [appKey, installationId],
      );
    } catch (error) {
      throw storeUnavailable(error);
    }
    return rows[0] === undefined ? null : toTenant(rows[0], this.cipher);
  }

  async install<T>(
    installation: TenantInstallation,
    work: (tenant: ConnectTenant, context: TenantWriteContext) => Promise<T>,
    options: TenantInstallOptions = {},
  ): Promise<{ tenant: ConnectTenant; result: T }> {
    const keepDisabled = options.enable === true ? 'false' : '"existing"."uninstalled_at" IS NULL';
    const { appKey, clientKey } = installation;
    return this.write(async (manager, runWork) => {
      let previousRow = await this.selectForUpdate(manager, appKey, clientKey);
      let row: TenantRow | undefined;
      if (previousRow === undefined) {
        // First install as far as this transaction can see. If another transaction inserts the same
        // key concurrently, this INSERT waits for it: when it commits we get no row back (and no
        // unique violation) and lock its row instead, so `previous` is always the row we replaced.
        row = await this.insert(manager, installation, 'DO NOTHING');
        if (row === undefined) previousRow = await this.selectForUpdate(manager, appKey, clientKey);
      }
      if (row === undefined) {
        row = await this.insert(
          manager,
          installation,
          `DO UPDATE SET ${INSTALL_COLUMNS.slice(2)
            .map((column) => `"${column}" = EXCLUDED."${column}"`)
            .join(', ')},
             "enabled" = CASE WHEN ${keepDisabled} THEN "existing"."enabled" ELSE true END,
             "installed_at" = EXCLUDED."installed_at",
             "uninstalled_at" = NULL,
             "updated_at" = EXCLUDED."updated_at"`,
        );
      }
      if (row === undefined) throw new Error('The tenant upsert returned no row.');
      const tenant = toTenant(row, this.cipher);
      const previous = previousRow === undefined ? null : toTenant(previousRow, this.cipher);
      return { tenant, result: await runWork(() => work(tenant, { previous, transaction: manager })) };
    });
  }

  async update<T>(
    appKey: string,
    clientKey: string,
    change: TenantStateChange,
    work: (tenant: ConnectTenant, context: TenantWriteContext) => Promise<T>,
  ): Promise<{ tenant: ConnectTenant; result: T } | null> {
    // Each change touches one column only, so `disabled` and `uninstalled` commute. A repeated
    // `uninstalled` keeps the first timestamp: it records when the app was removed.
    let assignment: string;
    switch (change.kind) {
      case 'uninstalled':
        assignment = '"uninstalled_at" = COALESCE("uninstalled_at", now())';
        break;
      case 'enabled':
        assignment = '"enabled" = true';
        break;
      case 'disabled':
        assignment = '"enabled" = false';
        break;
      default:
        throw new TypeError(`Unknown tenant state change: ${String((change as { kind?: unknown }).kind)}`);
    }
    return this.write(async (manager, runWork) => {
      const previousRow = await this.selectForUpdate(manager, appKey, clientKey);
      if (previousRow === undefined) return null;
      const rows = await queryRows(
        manager,
        `UPDATE ${this.table} SET ${assignment}, "updated_at" = now()
         WHERE "app_key" = $1 AND "client_key" = $2
         RETURNING ${COLUMNS}`,
        [appKey, clientKey],
      );
      if (rows[0] === undefined) throw new Error('The locked tenant row disappeared.');
      const tenant = toTenant(rows[0], this.cipher);
      const previous = toTenant(previousRow, this.cipher);
      return { tenant, result: await runWork(() => work(tenant, { previous, transaction: manager })) };
    });
  }

  async ping(): Promise<void> {
    try {
      await this.dataSource.query('SELECT 1');
    } catch (error) {
      throw storeUnavailable(error);
    }
  }

  /**
   * Runs `body` in a READ COMMITTED transaction (each statement sees what committed before it, which
   * the install race handling relies on). Whatever the caller's `work` throws is rethrown unchanged
   * after the rollback; every other failure becomes `store/unavailable`.
   */
  private async write<R>(body: (manager: EntityManager, runWork: <W>(call: () => Promise<W>) => Promise<W>) => Promise<R>): Promise<R> {
    let workFailure: { error: unknown } | undefined;
    const runWork = async <W>(call: () => Promise<W>): Promise<W> => {
      try {
        return await call();
      } catch (error) {
        workFailure = { error };
        throw error;
      }
    };
    try {
      return await this.dataSource.transaction('READ COMMITTED', (manager) => body(manager, runWork));
    } catch (error) {
      if (workFailure !== undefined) throw workFailure.error;
      throw storeUnavailable(error);
    }
  }

  private async selectForUpdate(manager: EntityManager, appKey: string, clientKey: string): Promise<TenantRow | undefined> {
    const rows = await queryRows(manager, `SELECT ${COLUMNS} FROM ${this.table} WHERE "app_key" = $1 AND "client_key" = $2 FOR UPDATE`, [appKey, clientKey]);
    return rows[0];
  }

  private async insert(manager: EntityManager, installation: TenantInstallation, onConflict: string): Promise<TenantRow | undefined> {
    const columns = [...INSTALL_COLUMNS, ...STATE_COLUMNS];
    const values = [...INSTALL_COLUMNS.map((_, index) => `$${index + 1}`), 'true', 'now()', 'NULL', 'now()', 'now()'];
    const rows = await queryRows(
      manager,
      `INSERT INTO ${this.table} AS "existing" (${columns.map((column) => `"${column}"`).join(', ')})
       VALUES (${values.join(', ')})
       ON CONFLICT ("app_key", "client_key") ${onConflict}
       RETURNING ${COLUMNS}`,
      installParameters(installation, this.cipher),
    );
    return rows[0];
  }
}
