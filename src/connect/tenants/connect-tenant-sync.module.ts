import { Module } from '@nestjs/common';

import { ConnectTenantsModule } from './connect-tenants.module.js';
import { TenantChangeListener } from './tenant-change-listener.js';

/**
 * Keeps this instance's tenant cache in step with other instances sharing the PostgreSQL database
 * (LISTEN/NOTIFY, see `TenantChangeListener`). Does nothing with the embedded engine or a custom
 * `tenantStore`.
 */
@Module({
  imports: [ConnectTenantsModule],
  providers: [TenantChangeListener],
  exports: [TenantChangeListener],
})
export class ConnectTenantSyncModule {}
