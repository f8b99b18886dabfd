import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnModuleDestroy } from '@nestjs/common';
import { DiscoveryService, MetadataScanner, ModuleRef } from '@nestjs/core';
import { getDataSourceToken } from '@nestjs/typeorm';
import type { DataSource, EntityManager } from 'typeorm';
import { ConnectAppRegistry } from '../config/connect-app-registry.js';
import { RESOLVED_CONNECT_OPTIONS } from '../config/resolve-connect-options.js';
import type { ResolvedConnectOptions } from '../config/resolved-connect-options.js';
import { ConnectOptionalPeers, type CronJobHandle, type SchedulerRegistryHandle, type SchedulingModules } from '../config/optional-peers.js';
import { CONNECT_DATA_SOURCE } from '../database/connect-data-source.constants.js';
import { ConnectError } from '../errors/connect-error.js';
import { discoverMethodHooks, matchesHookFilter, type LifecycleHookFilter, type MethodHook } from '../discovery/method-hooks.js';
import { ForgeEventLedger } from '../forge/forge-event-ledger.js';
import { OnPurge, type ConnectPurgeEvent } from './on-purge.decorator.js';
import { FORGE_INSTALLATIONS, TenantPurger, type PurgeCandidate, type PurgeSkipReason } from './tenant-purge.js';

/** The name of the purge job in `SchedulerRegistry` (when the app imports `ScheduleModule.forRoot()`). */
export const TENANT_RETENTION_JOB = 'atlassian-connect:tenant-retention';

const DAY_MS = 24 * 60 * 60 * 1000;

/** What one purge run did. */
export interface TenantPurgeReport {
  /** `false` when there is nothing to purge from: a custom `tenantStore` is configured. */
  readonly ran: boolean;
  readonly cutoff: Date;
  readonly purged: PurgeCandidate[];
  readonly kept: { tenant: PurgeCandidate; reason: PurgeSkipReason }[];
  /** The Forge installations (uninstalled by `preUninstall`) purged and kept; `clientKey` is the installationId. */
  readonly forgeInstallations: { readonly purged: PurgeCandidate[]; readonly kept: { tenant: PurgeCandidate; reason: PurgeSkipReason }[] };
  /** Forge event delivery records (`connect_forge_event`) older than a day, deleted. */
  readonly forgeEventRecordsDeleted: number;
}

type PurgeKind = ConnectPurgeEvent['kind'];
const EVENT_RECORD_DAYS = 1;

type PurgeHook = MethodHook<LifecycleHookFilter, ConnectPurgeEvent>;

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
  private readonly forgePurger: TenantPurger | undefined;
  private readonly uninstalledDays: number;
  private hooks: PurgeHook[] = [];
  private job: CronJobHandle | undefined;
  private scheduler: SchedulerRegistryHandle | undefined;
  private running: Promise<TenantPurgeReport> | undefined;

  constructor(
    @Inject(RESOLVED_CONNECT_OPTIONS) private readonly options: ResolvedConnectOptions,
    @Inject(getDataSourceToken(CONNECT_DATA_SOURCE)) dataSource: DataSource,
    private readonly registry: ConnectAppRegistry,
    private readonly discovery: DiscoveryService,
    private readonly scanner: MetadataScanner,
    private readonly peers: ConnectOptionalPeers,
    private readonly moduleRef: ModuleRef,
    private readonly ledger: ForgeEventLedger,
  ) {
    this.purger = options.tenantStore === undefined ? new TenantPurger(dataSource) : undefined;
    this.forgePurger = options.tenantStore === undefined ? new TenantPurger(dataSource, FORGE_INSTALLATIONS) : undefined;
    this.uninstalledDays = options.retention.uninstalledDays;
  }

  async onApplicationBootstrap(): Promise<void> {
    this.hooks = discoverMethodHooks<LifecycleHookFilter, ConnectPurgeEvent>(this.discovery, this.scanner, OnPurge);
    const schedule = this.options.retention.schedule;
    if (schedule === false || this.purger === undefined) return;
    // Loaded (or refused) already while the options were resolved; this is the same promise.
    const { CronJob, SchedulerRegistry } = await this.peers.scheduling(schedule);
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
    if (this.purger === undefined || this.forgePurger === undefined) {
      return { ran: false, cutoff, purged: [], kept: [], forgeInstallations: { purged: [], kept: [] }, forgeEventRecordsDeleted: 0 };
    }
    const connect = await this.purgeTable(this.purger, 'connect', cutoff);
    const forge = await this.purgeTable(this.forgePurger, 'forge', cutoff);
    const forgeEventRecordsDeleted = await this.purgeEventRecords(new Date(now.getTime() - EVENT_RECORD_DAYS * DAY_MS));
    const total = connect.purged.length + forge.purged.length;
    const kept = connect.kept.length + forge.kept.length;
    if (total > 0 || kept > 0) {
      this.logger.log(
        `Retention: purged ${connect.purged.length} tenant(s) and ${forge.purged.length} Forge installation(s) uninstalled before ${cutoff.toISOString()}, kept ${kept}.`,
      );
    }
    return { ran: true, cutoff, purged: connect.purged, kept: connect.kept, forgeInstallations: forge, forgeEventRecordsDeleted };
  }

  private async purgeTable(purger: TenantPurger, kind: PurgeKind, cutoff: Date): Promise<{ purged: PurgeCandidate[]; kept: TenantPurgeReport['kept'] }> {
    const purged: PurgeCandidate[] = [];
    const kept: TenantPurgeReport['kept'] = [];
    const failed = new Set<string>();
    const noun = kind === 'connect' ? 'uninstalled tenant' : 'uninstalled Forge installation';
    for (;;) {
      const batch = (await purger.candidates(cutoff, 500)).filter((c) => !failed.has(idOf(c)));
      if (batch.length === 0) break;
      for (const candidate of batch) {
        const outcome = await purger.purgeOne(candidate, cutoff, (tenant, transaction) => this.runHooks(kind, tenant, transaction));
        if (outcome.purged) {
          purged.push(candidate);
          continue;
        }
        failed.add(idOf(candidate));
        kept.push({ tenant: candidate, reason: outcome.reason });
        if (outcome.reason === 'hook-failed') {
          const error = outcome.error as { hook?: string; cause?: unknown };
          this.logger.error(
            `Kept ${noun} ${candidate.clientKey} of ${candidate.appKey}: purge hook ${error?.hook ?? '(unknown)'} failed; retried on the next run.`,
            error?.cause instanceof Error ? error.cause.stack : undefined,
          );
        }
      }
      if (batch.length < 500) break;
    }
    return { purged, kept };
  }

  /** Old Forge event delivery records: past any redelivery, so of no more use. */
  private async purgeEventRecords(cutoff: Date): Promise<number> {
    try {
      return await this.ledger.deleteReceivedBefore(cutoff);
    } catch (error) {
      this.logger.warn(`Could not delete old Forge event records: ${error instanceof Error ? error.message : String(error)}.`);
      return 0;
    }
  }

  private async runScheduled(): Promise<void> {
    try {
      await this.purge();
    } catch (error) {
      this.logger.warn(`Scheduled tenant purge failed: ${error instanceof Error ? error.message : String(error)}`);
    }
  }

  private async runHooks(kind: PurgeKind, tenant: PurgeCandidate, transaction: EntityManager): Promise<void> {
    const app = this.registry.get(tenant.appKey);
    for (const hook of this.hooks) {
      if (!matchesHookFilter(hook.metadata, tenant.appKey, app)) continue;
      try {
        await hook.run({ kind, app, tenant, transaction });
      } catch (cause) {
        throw Object.assign(new Error(`Purge hook ${hook.name} failed.`, { cause }), { hook: hook.name });
      }
    }
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
