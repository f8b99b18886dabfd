import { Module } from '@nestjs/common';
import { DiscoveryModule } from '@nestjs/core';
import { ConnectTenantsModule } from './connect-tenants.module.js';
import { TenantRetention } from './tenant-retention.js';

/**
 * Retention of uninstalled tenants (`TenantRetention`, `@OnPurge()`). Schedules its own cron job
 * (with the `cron` package of the app's `@nestjs/schedule`, an optional peer loaded only while a
 * schedule is on) rather than importing `ScheduleModule.forRoot()`, so an app that imports
 * `ScheduleModule.forRoot()` itself does not get a second explorer that would run its `@Cron()`
 * methods twice; when the app does import it, the job is listed in its `SchedulerRegistry` as
 * `atlassian-connect:tenant-retention` (found through `ModuleRef`, across the app's modules).
 */
@Module({
  imports: [DiscoveryModule, ConnectTenantsModule],
  providers: [TenantRetention],
  exports: [TenantRetention],
})
export class ConnectRetentionModule {}
