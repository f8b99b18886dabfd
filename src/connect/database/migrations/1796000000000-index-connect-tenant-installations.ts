import type { MigrationInterface, QueryRunner } from 'typeorm';
import { qualified } from './qualified-name.js';

/** The index `TenantStore.findByInstallationId` uses: (app_key, installation_id). */
export const TENANT_INSTALLATION_INDEX = 'connect_tenant_app_key_installation_id_idx';

/**
 * Indexes `connect_tenant` by (app_key, installation_id), so a Forge call finds the Connect tenant of
 * its installation with one index lookup. A plain `CREATE INDEX` inside the migration transaction: the
 * table holds one row per installation, small enough that the short write lock does not matter, and
 * `CONCURRENTLY` cannot run in a transaction. Timestamped after the encryption migration so fresh
 * databases run the migrations in release order. Runs on PostgreSQL 13+ and on PGlite. Never edit
 * once released.
 */
export class IndexConnectTenantInstallations1796000000000 implements MigrationInterface {
  readonly name = 'IndexConnectTenantInstallations1796000000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`CREATE INDEX IF NOT EXISTS "${TENANT_INSTALLATION_INDEX}" ON ${qualified(queryRunner, 'connect_tenant')} ("app_key", "installation_id")`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP INDEX IF EXISTS ${qualified(queryRunner, TENANT_INSTALLATION_INDEX)}`);
  }
}
