import type { MigrationInterface, QueryRunner } from 'typeorm';
import { qualified } from './qualified-name.js';

/**
 * Creates `connect_forge_event`, the delivery record of Forge events and triggers: one row per (app,
 * dedupe key), claimed by the instance that runs the handlers, so a redelivered event runs them once
 * across every instance. Adds the installed/upgraded timestamps to `connect_forge_installation`.
 * Runs on PostgreSQL 13+ and on PGlite. Never edit once released.
 */
export class CreateConnectForgeEvent1797100000000 implements MigrationInterface {
  readonly name = 'CreateConnectForgeEvent1797100000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    const events = qualified(queryRunner, 'connect_forge_event');
    await queryRunner.query(`CREATE TABLE IF NOT EXISTS ${events} (
      "app_key" varchar(255) NOT NULL,
      "dedupe_key" varchar(64) NOT NULL,
      "kind" varchar(16) NOT NULL,
      "event_type" varchar(255),
      "installation_id" varchar(255) NOT NULL,
      "status" varchar(16) NOT NULL,
      "attempts" integer NOT NULL DEFAULT 1,
      "done_handlers" jsonb NOT NULL DEFAULT '[]'::jsonb,
      "received_at" timestamptz NOT NULL DEFAULT now(),
      "claimed_at" timestamptz NOT NULL DEFAULT now(),
      "finished_at" timestamptz,
      CONSTRAINT "connect_forge_event_pkey" PRIMARY KEY ("app_key", "dedupe_key"),
      CONSTRAINT "connect_forge_event_status_check" CHECK ("status" IN ('running', 'done', 'failed')),
      CONSTRAINT "connect_forge_event_kind_check" CHECK ("kind" IN ('event', 'scheduled', 'pre-uninstall'))
    )`);
    await queryRunner.query(`CREATE INDEX IF NOT EXISTS "connect_forge_event_received_at_idx" ON ${events} ("received_at")`);
    const installations = qualified(queryRunner, 'connect_forge_installation');
    await queryRunner.query(`ALTER TABLE ${installations} ADD COLUMN IF NOT EXISTS "installed_at" timestamptz`);
    await queryRunner.query(`ALTER TABLE ${installations} ADD COLUMN IF NOT EXISTS "upgraded_at" timestamptz`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    const installations = qualified(queryRunner, 'connect_forge_installation');
    await queryRunner.query(`ALTER TABLE ${installations} DROP COLUMN IF EXISTS "upgraded_at"`);
    await queryRunner.query(`ALTER TABLE ${installations} DROP COLUMN IF EXISTS "installed_at"`);
    await queryRunner.query(`DROP TABLE IF EXISTS ${qualified(queryRunner, 'connect_forge_event')}`);
  }
}
