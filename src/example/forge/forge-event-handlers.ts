import { Injectable, Logger } from '@nestjs/common';
import { ConnectClient, FORGE_INSTALLED_EVENT, OnForgeEvent, OnForgePreUninstall, OnForgeScheduledTrigger, type ForgeEventContext } from 'atlassian-connect-nest';
import { JIRA_APP_KEY } from '../app-keys.js';

/** What the example's handlers remember of the latest event per installation (for a status page or a test). */
export interface ForgeActivity {
  readonly installationId: string;
  readonly app: string;
  readonly what: string;
  readonly at: string;
  /** The account the product answered with, for calls made with the saved system token. */
  readonly calledAs?: string | undefined;
}

/** Where the product tells who the caller is, per product. */
export function whoAmIPath(product: string): string {
  return product === 'confluence' ? '/wiki/rest/api/user/current' : '/rest/api/3/myself';
}

/**
 * The example's Forge event and trigger handlers (manifest: a `trigger` module for the events, a
 * `scheduledTrigger` named `hourly-sync` and a `preUninstall`, each with `endpoint` pointing at this
 * backend's `/forge/events`, `/forge/events/scheduled` and `/forge/events/pre-uninstall`). Slow work
 * belongs in a queue: Forge waits 5 s for the answer.
 */
@Injectable()
export class ExampleForgeEvents {
  private readonly logger = new Logger('ExampleForgeEvents');
  private readonly activity = new Map<string, ForgeActivity>();

  constructor(private readonly client: ConnectClient) {}

  /** The latest activity per installation, newest first (bounded: the example keeps 100). */
  recent(): ForgeActivity[] {
    return [...this.activity.values()].reverse();
  }

  record(entry: Omit<ForgeActivity, 'at'>): void {
    this.activity.delete(entry.installationId);
    this.activity.set(entry.installationId, { ...entry, at: new Date().toISOString() });
    if (this.activity.size > 100) this.activity.delete(this.activity.keys().next().value!);
  }

  @OnForgeEvent(FORGE_INSTALLED_EVENT)
  installed(event: ForgeEventContext): void {
    // The framework has recorded the installation and saved its system token already.
    this.logger.log(`Forge install of ${event.app.key} (${event.forge.installationId}) on ${event.installation?.siteUrl ?? 'an unknown site'}.`);
    this.record({ installationId: event.forge.installationId, app: event.app.key, what: event.eventType! });
  }

  /** A product event: a new Jira issue. */
  @OnForgeEvent('avi:jira:created:issue', { app: JIRA_APP_KEY })
  issueCreated(event: ForgeEventContext<{ issue?: { key?: string } }>): void {
    const key = event.payload.issue?.key ?? '(no key)';
    this.logger.log(`Issue ${key} created on ${event.forge.installationId}${event.retryContext ? ` (redelivery ${event.retryContext.retryCount})` : ''}.`);
    this.record({ installationId: event.forge.installationId, app: event.app.key, what: `${event.eventType} ${key}` });
  }

  /** Every hour: proves the saved token works, and brings a fresh one (Forge sends a token with every trigger). */
  @OnForgeScheduledTrigger('hourly-sync')
  async hourlySync(event: ForgeEventContext): Promise<void> {
    const me = await this.client.asForgeApp({ appKey: event.app.key, installationId: event.forge.installationId }).get<{ accountId?: string }>(whoAmIPath(event.app.product));
    this.record({ installationId: event.forge.installationId, app: event.app.key, what: 'scheduled hourly-sync', calledAs: me.accountId });
  }

  @OnForgePreUninstall()
  uninstalling(event: ForgeEventContext): void {
    this.logger.log(`Forge uninstall of ${event.app.key} from ${event.forge.installationId}; its data is purged after the retention period.`);
    this.record({ installationId: event.forge.installationId, app: event.app.key, what: 'preUninstall' });
  }
}
