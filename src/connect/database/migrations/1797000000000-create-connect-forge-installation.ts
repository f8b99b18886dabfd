import type { MigrationInterface, QueryRunner } from 'typeorm';
import { qualified } from './qualified-name.js';

/**
 * Creates `connect_forge_installation`: one row per (app, Forge installation), kept current from
 * verified Forge Invocation Tokens, with the latest app system token encrypted. Indexed by
 * (app_key, cloud_id) so a new installationId of a known site finds its siblings. Runs on PostgreSQL
 * 13+ and on PGlite. Never edit once released.
 */
export class CreateConnectForgeInstallation1797000000000 implements MigrationInterface {
  readonly name = 'CreateConnectForgeInstallation1797000000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    const table = qualified(queryRunner, 'connect_forge_installation');
    await queryRunner.query(`CREATE TABLE IF NOT EXISTS ${table} (
      "app_key" varchar(255) NOT NULL,
      "installation_id" varchar(255) NOT NULL,
      "cloud_id" varchar(64),
      "site_url" varchar(2048),
      "api_base_url" varchar(2048) NOT NULL,
      "product" varchar(16) NOT NULL,
      "environment_type" varchar(64),
      "environment_id" varchar(255),
      "app_version" varchar(64),
      "license_active" boolean,
      "license_type" varchar(64),
      "license_evaluation" boolean,
      "connect_client_key" varchar(255),
      "system_token" text,
      "system_token_expires_at" timestamptz,
      "uninstalled_at" timestamptz,
      "first_seen_at" timestamptz NOT NULL DEFAULT now(),
      "last_seen_at" timestamptz NOT NULL DEFAULT now(),
      CONSTRAINT "connect_forge_installation_pkey" PRIMARY KEY ("app_key", "installation_id")
    )`);
    await queryRunner.query(`CREATE INDEX IF NOT EXISTS "connect_forge_installation_app_key_cloud_id_idx" ON ${table} ("app_key", "cloud_id")`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TABLE IF EXISTS ${qualified(queryRunner, 'connect_forge_installation')}`);
  }
}
