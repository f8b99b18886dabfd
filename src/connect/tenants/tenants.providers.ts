import type { Provider } from '@nestjs/common';
import { getDataSourceToken } from '@nestjs/typeorm';
import type { DataSource } from 'typeorm';
import { RESOLVED_CONNECT_OPTIONS } from '../config/resolve-connect-options.js';
import type { ResolvedConnectOptions } from '../config/resolved-connect-options.js';
import { CONNECT_DATA_SOURCE } from '../database/connect-data-source.constants.js';
import { CachingTenantStore } from './caching-tenant-store.js';
import { TenantChangeListener } from './tenant-change-listener.js';
import { TENANT_STORE } from './tenant-store.js';
import { TypeOrmTenantStore } from './typeorm-tenant-store.js';

/**
 * Tenant storage: the PostgreSQL store on the framework's DataSource, or the app's own `tenantStore`,
 * always behind the bounded in-process cache (caching is the framework's job, whatever the store).
 * `TENANT_STORE` is the cache; `TenantChangeListener` keeps it in step with other instances.
 */
export const tenantsProviders: Provider[] = [
  {
    provide: CachingTenantStore,
    inject: [RESOLVED_CONNECT_OPTIONS, getDataSourceToken(CONNECT_DATA_SOURCE)],
    useFactory: (options: ResolvedConnectOptions, dataSource: DataSource): CachingTenantStore => {
      const store = new CachingTenantStore(options.tenantStore ?? new TypeOrmTenantStore(dataSource), options.tenantCache);
      // The embedded engine started by the framework has a single session in this process: every write
      // goes through this store. With a URL, TenantChangeListener decides once it knows whether it can listen.
      if (options.tenantStore === undefined && options.database.url === undefined) store.setChangesObserved(true);
      return store;
    },
  },
  { provide: TENANT_STORE, useExisting: CachingTenantStore },
  TenantChangeListener,
];
