import { Column, Entity, Index, PrimaryColumn } from 'typeorm';

/**
 * The `connect_forge_installation` row: one Forge installation of one app, as its verified Forge
 * Invocation Tokens describe it. Created by the `CreateConnectForgeInstallation…` migration; the
 * framework writes it with SQL (`ForgeInstallations`), this class only describes it to TypeORM.
 */
@Entity({ name: 'connect_forge_installation' })
@Index('connect_forge_installation_app_key_cloud_id_idx', ['appKey', 'cloudId'])
export class ConnectForgeInstallationEntity {
  @PrimaryColumn({ name: 'app_key', type: 'varchar', length: 255, primaryKeyConstraintName: 'connect_forge_installation_pkey' })
  appKey!: string;

  /** `ari:cloud:ecosystem::installation/<uuid>`. */
  @PrimaryColumn({ name: 'installation_id', type: 'varchar', length: 255, primaryKeyConstraintName: 'connect_forge_installation_pkey' })
  installationId!: string;

  @Column({ name: 'cloud_id', type: 'varchar', length: 64, nullable: true })
  cloudId!: string | null;

  @Column({ name: 'site_url', type: 'varchar', length: 2048, nullable: true })
  siteUrl!: string | null;

  @Column({ name: 'api_base_url', type: 'varchar', length: 2048 })
  apiBaseUrl!: string;

  @Column({ name: 'product', type: 'varchar', length: 16 })
  product!: string;

  @Column({ name: 'environment_type', type: 'varchar', length: 64, nullable: true })
  environmentType!: string | null;

  @Column({ name: 'environment_id', type: 'varchar', length: 255, nullable: true })
  environmentId!: string | null;

  @Column({ name: 'app_version', type: 'varchar', length: 64, nullable: true })
  appVersion!: string | null;

  @Column({ name: 'license_active', type: 'boolean', nullable: true })
  licenseActive!: boolean | null;

  @Column({ name: 'license_type', type: 'varchar', length: 64, nullable: true })
  licenseType!: string | null;

  @Column({ name: 'license_evaluation', type: 'boolean', nullable: true })
  licenseEvaluation!: boolean | null;

  /** The Connect tenant of the same app on the same site, when known. */
  @Column({ name: 'connect_client_key', type: 'varchar', length: 255, nullable: true })
  connectClientKey!: string | null;

  /** The latest `x-forge-oauth-system` token, encrypted (`v1.<kid>.…`). Never log it. */
  @Column({ name: 'system_token', type: 'text', nullable: true })
  systemToken!: string | null;

  @Column({ name: 'system_token_expires_at', type: 'timestamptz', nullable: true })
  systemTokenExpiresAt!: Date | null;

  /** When Forge last sent `avi:forge:installed:app` for it. */
  @Column({ name: 'installed_at', type: 'timestamptz', nullable: true })
  installedAt!: Date | null;

  /** When Forge last sent `avi:forge:upgraded:app` for it. */
  @Column({ name: 'upgraded_at', type: 'timestamptz', nullable: true })
  upgradedAt!: Date | null;

  @Column({ name: 'uninstalled_at', type: 'timestamptz', nullable: true })
  uninstalledAt!: Date | null;

  @Column({ name: 'first_seen_at', type: 'timestamptz', default: () => 'now()' })
  firstSeenAt!: Date;

  @Column({ name: 'last_seen_at', type: 'timestamptz', default: () => 'now()' })
  lastSeenAt!: Date;
}
