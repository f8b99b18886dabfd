import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnModuleDestroy } from '@nestjs/common';
import { ConnectAppRegistry, ConnectClient, ConnectClientError, ForgeInstallations } from 'atlassian-connect-nest';
import { ExampleForgeEvents, whoAmIPath } from './forge-event-handlers.js';

/** The injection token of the sync interval in ms (`FORGE_SYNC_INTERVAL_MS`; 0: no timer, `runOnce()` only). */
export const FORGE_SYNC_INTERVAL_MS = Symbol('FORGE_SYNC_INTERVAL_MS');

/** What one background run did. */
export interface ForgeSyncReport {
  readonly called: string[];
  /** Installations without a usable saved token: they come back with the next scheduled trigger. */
  readonly waiting: string[];
  readonly failed: string[];
}

/**
 * Work outside any request: a plain interval that calls each active Forge installation's product API
 * with its saved app system token (`asForgeApp({ appKey, installationId })`), as a nightly export or a
 * queue consumer would. An installation whose saved token expired is skipped with a note: the next
 * scheduled trigger brings a fresh one.
 */
@Injectable()
export class ForgeBackgroundSync implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger('ForgeBackgroundSync');
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly registry: ConnectAppRegistry,
    private readonly installations: ForgeInstallations,
    private readonly client: ConnectClient,
    private readonly activity: ExampleForgeEvents,
    @Inject(FORGE_SYNC_INTERVAL_MS) private readonly intervalMs: number,
  ) {}

  onApplicationBootstrap(): void {
    const forgeApps = this.registry.apps.filter((app) => app.forgeAppId !== undefined);
    if (this.intervalMs <= 0 || forgeApps.length === 0 || !this.installations.enabled) return;
    this.timer = setInterval(() => void this.runOnce().catch((error: unknown) => this.logger.warn(`Background sync failed: ${String(error)}`)), this.intervalMs);
    this.timer.unref();
  }

  onModuleDestroy(): void {
    clearInterval(this.timer);
  }

  async runOnce(): Promise<ForgeSyncReport> {
    const report: ForgeSyncReport = { called: [], waiting: [], failed: [] };
    for (const app of this.registry.apps.filter((each) => each.forgeAppId !== undefined)) {
      for await (const installation of this.installations.list(app.key, { active: true })) {
        try {
          const me = await this.client.asForgeApp(installation).get<{ accountId?: string }>(whoAmIPath(app.product));
          this.activity.record({ installationId: installation.installationId, app: app.key, what: 'background sync', calledAs: me.accountId });
          report.called.push(installation.installationId);
        } catch (error) {
          if (error instanceof ConnectClientError && error.code === 'client/forge-token-expired') {
            report.waiting.push(installation.installationId);
            continue;
          }
          this.logger.warn(`Background sync of ${installation.installationId} failed: ${error instanceof Error ? error.message : String(error)}`);
          report.failed.push(installation.installationId);
        }
      }
    }
    if (report.called.length + report.waiting.length + report.failed.length > 0) {
      this.logger.log(`Background sync: ${report.called.length} called, ${report.waiting.length} waiting for a token, ${report.failed.length} failed.`);
    }
    return report;
  }
}
