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
      useFactory: (options: ConnectModuleOptions, database: ConnectDatabase): Promise<DataSource> | null =>
        options.tenantStore ? null : database.open(),
    },
    {
      provide: TENANT_STORE,
      inject: [CONNECT_MODULE_OPTIONS, dataSourceToken],
      useFactory: (options: ConnectModuleOptions, dataSource: DataSource | null): TenantStore =>
        options.tenantStore ??
        new CachingTenantStore(new TypeOrmTenantStore(dataSource as DataSource), {
          maxEntries: options.tenantCache?.maxEntries ?? 10_000,
          ttlMs: options.tenantCache?.ttlMs ?? 10_000,
        }),
    },
  ],
  exports: [TENANT_STORE, dataSourceToken],
})
export class ConnectTenantsModule {}
