import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnModuleDestroy } from '@nestjs/common';
import { DiscoveryService, MetadataScanner, ModuleRef } from '@nestjs/core';
import { getDataSourceToken } from '@nestjs/typeorm';
import type { DataSource, EntityManager } from 'typeorm';
import { ConnectAppRegistry } from '../config/connect-app-registry.js';
import { CONNECT_MODULE_OPTIONS } from '../config/connect.module-definition.js';
import type { ConnectModuleOptions } from '../config/connect-options.js';
import { ConnectOptionalPeers, type CronJobHandle, type SchedulerRegistryHandle, type SchedulingModules } from '../config/optional-peers.js';
import { CONNECT_DATA_SOURCE } from '../database/connect-data-source.constants.js';
import { ConnectError } from '../errors/connect-error.js';
import type { LifecycleHookFilter } from '../lifecycle/lifecycle-hooks.decorators.js';
import { OnPurge, type ConnectPurgeEvent } from '../lifecycle/on-purge.decorator.js';
import { TenantPurger, type PurgeCandidate, type PurgeSkipReason } from './tenant-purge.js';

import { DEFAULT_RETENTION_SCHEDULE, DEFAULT_RETENTION_UNINSTALLED_DAYS, TENANT_RETENTION_JOB } from './retention-defaults.js';

export { DEFAULT_RETENTION_SCHEDULE, DEFAULT_RETENTION_UNINSTALLED_DAYS, TENANT_RETENTION_JOB } from './retention-defaults.js';

const DAY_MS = 24 * 60 * 60 * 1000;

/** What one purge run did. */
export interface TenantPurgeReport {
  /** `false` when there is nothing to purge from: a custom `tenantStore` is configured. */
  readonly ran: boolean;
  readonly cutoff: Date;
  readonly purged: PurgeCandidate[];
  readonly kept: { tenant: PurgeCandidate; reason: PurgeSkipReason }[];
}

interface PurgeHook {
  readonly name: string;
  readonly filter: LifecycleHookFilter;
  readonly run: (event: ConnectPurgeEvent) => unknown;
}

/**
 * Deletes tenants uninstalled longer ago than `retention.uninstalledDays` (default 30), after the
 * app's `@OnPurge()` hooks deleted their data. Runs on `retention.schedule` (a cron expression,
 * default `17 3 * * *`; `false` for none) and whenever `purge()` is called.
 *
 * Only the default PostgreSQL store is purged; with a custom `tenantStore` there is no data source
 * and `purge()` does nothing (`ran: false`): retention is then the custom store's business.
 *
 * The schedule runs on the `cron` of `@nestjs/schedule` (an optional peer, loaded only when a schedule
 * is on; `ConnectModule` refuses to start without it). When the app imports `ScheduleModule.forRoot()`,
 * the job is also listed in its `SchedulerRegistry` as `atlassian-connect:tenant-retention`.
 */
@Injectable()
export class TenantRetention implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger('ConnectRetention');
  private readonly purger: TenantPurger | undefined;
  private readonly uninstalledDays: number;
  private hooks: PurgeHook[] = [];
  private job: CronJobHandle | undefined;
  private scheduler: SchedulerRegistryHandle | undefined;
  private running: Promise<TenantPurgeReport> | undefined;

  constructor(
    @Inject(CONNECT_MODULE_OPTIONS) private readonly options: ConnectModuleOptions,
    @Inject(getDataSourceToken(CONNECT_DATA_SOURCE)) dataSource: DataSource | null,
    private readonly registry: ConnectAppRegistry,
    private readonly discovery: DiscoveryService,
    private readonly scanner: MetadataScanner,
    private readonly peers: ConnectOptionalPeers,
    private readonly moduleRef: ModuleRef,
  ) {
    this.purger = dataSource ? new TenantPurger(dataSource) : undefined;
    const days = options.retention?.uninstalledDays ?? DEFAULT_RETENTION_UNINSTALLED_DAYS;
    if (!(typeof days === 'number' && Number.isFinite(days) && days >= 0)) {
      throw ConnectError.create('config/invalid', 'retention.uninstalledDays must be a number of days (0 or more).');
    }
    this.uninstalledDays = days;
  }

  async onApplicationBootstrap(): Promise<void> {
    this.hooks = this.discoverHooks();
    const configured = this.options.retention?.schedule;
    if (configured === false || this.purger === undefined) return;
    const schedule = configured ?? DEFAULT_RETENTION_SCHEDULE;
    // Loaded (or refused) already while the options were checked; this is the same promise.
    const { CronJob, SchedulerRegistry } = await this.peers.scheduling(configured);
    try {
      this.job = CronJob.from({ cronTime: schedule, onTick: () => void this.runScheduled(), start: true, unrefTimeout: true });
    } catch (error) {
      throw ConnectError.create('config/invalid', `retention.schedule ${JSON.stringify(schedule)} is not a valid cron expression.`, undefined, error);
    }
    this.scheduler = appSchedulerRegistry(this.moduleRef, SchedulerRegistry);
    if (this.scheduler && !this.scheduler.doesExist('cron', TENANT_RETENTION_JOB)) this.scheduler.addCronJob(TENANT_RETENTION_JOB, this.job);
  }

  async onModuleDestroy(): Promise<void> {
    if (this.job === undefined) return;
    await this.job.stop();
    if (this.scheduler?.doesExist('cron', TENANT_RETENTION_JOB)) this.scheduler.deleteCronJob(TENANT_RETENTION_JOB);
    this.scheduler = undefined;
    this.job = undefined;
    await this.running?.catch(() => undefined);
  }

  /**
   * Purges every tenant uninstalled before `now - uninstalledDays`. A tenant whose hook throws is kept
   * (and logged) while the others carry on; one re-installed meanwhile is kept. Concurrent calls share
   * one run. Rejects with `store/unavailable` when the database cannot answer.
   */
  purge(now: Date = new Date()): Promise<TenantPurgeReport> {
    if (this.running) return this.running;
    const run = this.purgeOnce(now).finally(() => {
      if (this.running === run) this.running = undefined;
    });
    this.running = run;
    return run;
  }

  private async purgeOnce(now: Date): Promise<TenantPurgeReport> {
    const cutoff = new Date(now.getTime() - this.uninstalledDays * DAY_MS);
    if (this.purger === undefined) return { ran: false, cutoff, purged: [], kept: [] };
    const purged: PurgeCandidate[] = [];
    const kept: TenantPurgeReport['kept'] = [];
    const failed = new Set<string>();
    for (;;) {
      const batch = (await this.purger.candidates(cutoff, 500)).filter((c) => !failed.has(idOf(c)));
      if (batch.length === 0) break;
      for (const candidate of batch) {
        const outcome = await this.purger.purgeOne(candidate, cutoff, (tenant, transaction) => this.runHooks(tenant, transaction));
        if (outcome.purged) {
          purged.push(candidate);
          continue;
        }
        failed.add(idOf(candidate));
        kept.push({ tenant: candidate, reason: outcome.reason });
        if (outcome.reason === 'hook-failed') {
          const error = outcome.error as { hook?: string; cause?: unknown };
          this.logger.error(
            `Kept uninstalled tenant ${candidate.clientKey} of ${candidate.appKey}: purge hook ${error?.hook ?? '(unknown)'} failed; retried on the next run.`,
            error?.cause instanceof Error ? error.cause.stack : undefined,
          );
        }
      }
      if (batch.length < 500) break;
    }
    if (purged.length > 0 || kept.length > 0) {
      this.logger.log(`Retention: purged ${purged.length} tenant(s) uninstalled before ${cutoff.toISOString()}, kept ${kept.length}.`);
    }
    return { ran: true, cutoff, purged, kept };
  }

  private async runScheduled(): Promise<void> {
    try {
      await this.purge();
    } catch (error) {
      this.logger.warn(`Scheduled tenant purge failed: ${error instanceof Error ? error.message : String(error)}`);
    }
  }

  private async runHooks(tenant: PurgeCandidate, transaction: EntityManager): Promise<void> {
    const app = this.registry.get(tenant.appKey);
    for (const hook of this.hooks) {
      if (!matches(hook.filter, tenant, app)) continue;
      try {
        await hook.run({ app, tenant, transaction });
      } catch (cause) {
        throw Object.assign(new Error(`Purge hook ${hook.name} failed.`, { cause }), { hook: hook.name });
      }
    }
  }

  private discoverHooks(): PurgeHook[] {
    const found: PurgeHook[] = [];
    const seen = new Set<object>();
    for (const wrapper of [...this.discovery.getProviders(), ...this.discovery.getControllers()]) {
      const instance: unknown = wrapper.instance;
      if (!wrapper.isDependencyTreeStatic() || instance === null || typeof instance !== 'object' || seen.has(instance)) continue;
      seen.add(instance);
      for (const method of this.scanner.getAllMethodNames(Object.getPrototypeOf(instance) as object)) {
        const filter = this.discovery.getMetadataByDecorator(OnPurge, wrapper, method) as LifecycleHookFilter | undefined;
        if (filter === undefined) continue;
        const target = instance as Record<string, (event: ConnectPurgeEvent) => unknown>;
        found.push({ name: `${instance.constructor.name}.${method}`, filter, run: (event) => target[method](event) });
      }
    }
    return found;
  }
}

/** The app's `SchedulerRegistry`, if it imports `ScheduleModule.forRoot()` (searched across all modules), else undefined. */
function appSchedulerRegistry(moduleRef: ModuleRef, registry: SchedulingModules['SchedulerRegistry']): SchedulerRegistryHandle | undefined {
  try {
    return moduleRef.get<SchedulerRegistryHandle>(registry, { strict: false });
  } catch {
    return undefined; // not provided anywhere: the job runs all the same, unlisted
  }
}

function idOf(candidate: PurgeCandidate): string {
  return JSON.stringify([candidate.appKey, candidate.clientKey]);
}

function matches(filter: LifecycleHookFilter, tenant: PurgeCandidate, app: ReturnType<ConnectAppRegistry['get']>): boolean {
  if (filter.app !== undefined && filter.app !== tenant.appKey) return false;
  return filter.product === undefined || filter.product === app?.product;
}
