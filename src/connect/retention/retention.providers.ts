import type { Provider } from '@nestjs/common';
import { TenantRetention } from './tenant-retention.js';

/**
 * Retention of uninstalled tenants (`TenantRetention`, `@OnPurge()`). It schedules its own cron job
 * rather than importing `ScheduleModule.forRoot()`, so an app that imports `ScheduleModule.forRoot()`
 * itself does not get a second explorer that would run its `@Cron()` methods twice; when the app does
 * import it, the job is listed in its `SchedulerRegistry` as `atlassian-connect:tenant-retention`.
 */
export const retentionProviders: Provider[] = [TenantRetention];
