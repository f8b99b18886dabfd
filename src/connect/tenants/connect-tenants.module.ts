import { Module } from '@nestjs/common';
import { getDataSourceToken } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { CONNECT_MODULE_OPTIONS } from '../config/connect.module-definition.js';
import type { ConnectModuleOptions } from '../config/connect-options.js';
import { CONNECT_DATA_SOURCE } from '../database/connect-data-source.constants.js';
import { CachingTenantStore } from './caching-tenant-store.js';
import { ConnectDatabase } from './connect-database.js';
import { TENANT_STORE, type TenantStore } from './tenant-store.js';
import { TypeOrmTenantStore } from './typeorm-tenant-store.js';

const dataSourceToken = getDataSourceToken(CONNECT_DATA_SOURCE);

/**
 * Tenant storage: PostgreSQL through TypeORM by default (`@InjectDataSource(CONNECT_DATA_SOURCE)` gives
 * the data source), behind a bounded in-process cache. `options.tenantStore` replaces it all.
 */
@Module({
  providers: [
    ConnectDatabase,
    {
      provide: dataSourceToken,
      inject: [CONNECT_MODULE_OPTIONS, ConnectDatabase],
      useFactory: (options: ConnectModuleOptions, database: ConnectDatabase): Promise<DataSource> | null => (options.tenantStore ? null : database.open()),
    },
    {
      provide: TENANT_STORE,
      inject: [CONNECT_MODULE_OPTIONS, dataSourceToken],
      useFactory: (options: ConnectModuleOptions, dataSource: DataSource | null): TenantStore => options.tenantStore ?? cachingStore(options, dataSource as DataSource),
    },
  ],
  exports: [TENANT_STORE, dataSourceToken],
})
export class ConnectTenantsModule {}

/** Default time to live of a cached tenant when changes made elsewhere could go unheard. */
export const DEFAULT_TENANT_CACHE_TTL_MS = 10_000;
/** Default time to live while every change is heard (change feed connected, or the embedded engine). */
export const DEFAULT_TENANT_CACHE_OBSERVED_TTL_MS = 300_000;

function cachingStore(options: ConnectModuleOptions, dataSource: DataSource): CachingTenantStore {
  const ttlMs = options.tenantCache?.ttlMs ?? DEFAULT_TENANT_CACHE_TTL_MS;
  const store = new CachingTenantStore(new TypeOrmTenantStore(dataSource), {
    maxEntries: options.tenantCache?.maxEntries ?? 10_000,
    ttlMs,
    observedTtlMs: options.tenantCache?.observedTtlMs ?? options.tenantCache?.ttlMs ?? DEFAULT_TENANT_CACHE_OBSERVED_TTL_MS,
  });
  // The embedded engine started here has a single session in this process: every write goes through
  // this store. With a URL, TenantChangeListener decides once it knows whether it can listen.
  if (!options.database?.url) store.setChangesObserved(true);
  return store;
}
