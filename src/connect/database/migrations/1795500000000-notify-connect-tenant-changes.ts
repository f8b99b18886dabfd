import type { MigrationInterface, QueryRunner } from 'typeorm';
import { qualified } from './qualified-name.js';

/** The channel every change of a `connect_tenant` row is announced on (see `TenantChangeListener`). */
export const TENANT_CHANGE_CHANNEL = 'connect_tenant_changed';

/**
 * Announces every committed change of a `connect_tenant` row with `pg_notify`, so other instances
 * sharing the database drop their cached copy at once. The payload is
 * `<schema>\n<app_key>\n<client_key>` (the schema of the table, so instances using another schema of
 * the same database ignore it). NOTIFY is delivered on commit only, and not at all on rollback.
 * Plain SQL that runs on PostgreSQL 13+ and on PGlite. Never edit once released.
 */
export class NotifyConnectTenantChanges1795500000000 implements MigrationInterface {
  readonly name = 'NotifyConnectTenantChanges1795500000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    const fn = qualified(queryRunner, 'connect_tenant_notify_change');
    await queryRunner.query(`
      CREATE FUNCTION ${fn}() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        IF TG_OP <> 'INSERT' THEN
          PERFORM pg_notify('${TENANT_CHANGE_CHANNEL}', TG_TABLE_SCHEMA || E'\\n' || OLD.app_key || E'\\n' || OLD.client_key);
        END IF;
        IF TG_OP = 'INSERT' OR (TG_OP = 'UPDATE' AND (NEW.app_key, NEW.client_key) IS DISTINCT FROM (OLD.app_key, OLD.client_key)) THEN
          PERFORM pg_notify('${TENANT_CHANGE_CHANNEL}', TG_TABLE_SCHEMA || E'\\n' || NEW.app_key || E'\\n' || NEW.client_key);
        END IF;
        RETURN NULL;
      END
      $$`);
    await queryRunner.query(`
      CREATE TRIGGER "connect_tenant_notify_change"
        AFTER INSERT OR UPDATE OR DELETE ON ${qualified(queryRunner, 'connect_tenant')}
        FOR EACH ROW EXECUTE FUNCTION ${fn}()`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TRIGGER "connect_tenant_notify_change" ON ${qualified(queryRunner, 'connect_tenant')}`);
    await queryRunner.query(`DROP FUNCTION ${qualified(queryRunner, 'connect_tenant_notify_change')}()`);
  }
}
