import { Check, Column, CreateDateColumn, Entity, Index, PrimaryGeneratedColumn, Unique, UpdateDateColumn } from 'typeorm';

import type { ConnectProduct } from '../config/connect-product.js';

/** Column bounds, shared by the entity and the migration that creates the table. */
export const TENANT_COLUMN_LIMITS = {
  appKey: 255,
  clientKey: 255,
  sharedSecret: 512,
  url: 2048,
  productType: 16,
  identifier: 255,
} as const;

/**
 * The `connect_tenant` row. The table is created by the `CreateConnectTenant…` migration (never by
 * `synchronize`); this class only describes it to TypeORM so apps can query it. The framework's own
 * store reads and writes it with SQL and hands out plain frozen `ConnectTenant` objects instead.
 */
@Entity({ name: 'connect_tenant' })
@Unique('connect_tenant_app_key_client_key_key', ['appKey', 'clientKey'])
@Check('connect_tenant_product_type_check', `"product_type" IN ('jira', 'confluence')`)
@Index('connect_tenant_app_key_installation_id_idx', ['appKey', 'installationId'])
export class ConnectTenantEntity {
  /** bigint identity; `pg` returns int8 as a string. */
  @PrimaryGeneratedColumn('identity', {
    name: 'id',
    type: 'bigint',
    generatedIdentity: 'BY DEFAULT',
    primaryKeyConstraintName: 'connect_tenant_pkey',
  })
  id!: string;

  @Column({ name: 'app_key', type: 'varchar', length: TENANT_COLUMN_LIMITS.appKey })
  appKey!: string;

  @Column({ name: 'client_key', type: 'varchar', length: TENANT_COLUMN_LIMITS.clientKey })
  clientKey!: string;

  /** The HS256 secret. Never log it. */
  @Column({ name: 'shared_secret', type: 'varchar', length: TENANT_COLUMN_LIMITS.sharedSecret })
  sharedSecret!: string;

  @Column({ name: 'base_url', type: 'varchar', length: TENANT_COLUMN_LIMITS.url })
  baseUrl!: string;

  @Column({ name: 'display_url', type: 'varchar', length: TENANT_COLUMN_LIMITS.url, nullable: true })
  displayUrl!: string | null;

  @Column({ name: 'product_type', type: 'varchar', length: TENANT_COLUMN_LIMITS.productType })
  productType!: ConnectProduct;

  @Column({ name: 'description', type: 'text', nullable: true })
  description!: string | null;

  @Column({
    name: 'service_entitlement_number',
    type: 'varchar',
    length: TENANT_COLUMN_LIMITS.identifier,
    nullable: true,
  })
  serviceEntitlementNumber!: string | null;

  @Column({ name: 'entitlement_id', type: 'varchar', length: TENANT_COLUMN_LIMITS.identifier, nullable: true })
  entitlementId!: string | null;

  @Column({ name: 'entitlement_number', type: 'varchar', length: TENANT_COLUMN_LIMITS.identifier, nullable: true })
  entitlementNumber!: string | null;

  @Column({ name: 'oauth_client_id', type: 'varchar', length: TENANT_COLUMN_LIMITS.identifier, nullable: true })
  oauthClientId!: string | null;

  @Index('connect_tenant_installation_id_idx')
  @Column({ name: 'installation_id', type: 'varchar', length: TENANT_COLUMN_LIMITS.identifier, nullable: true })
  installationId!: string | null;

  @Column({ name: 'enabled', type: 'boolean', default: true })
  enabled!: boolean;

  /** Time of the latest `installed` callback. */
  @Column({ name: 'installed_at', type: 'timestamptz', default: () => 'now()' })
  installedAt!: Date;

  @Column({ name: 'uninstalled_at', type: 'timestamptz', nullable: true })
  uninstalledAt!: Date | null;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt!: Date;

  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' })
  updatedAt!: Date;
}
