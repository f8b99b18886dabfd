// The retention defaults on their own, so that the optional-peer check (which runs before any provider
// that imports TenantRetention) can name the default schedule without importing TenantRetention.

export const DEFAULT_RETENTION_UNINSTALLED_DAYS = 30;
/** Daily at 03:17 server time (off the hour, when everyone else's jobs run). */
export const DEFAULT_RETENTION_SCHEDULE = '17 3 * * *';
/** The name of the purge job in `SchedulerRegistry` (when the app imports `ScheduleModule.forRoot()`). */
export const TENANT_RETENTION_JOB = 'atlassian-connect:tenant-retention';
