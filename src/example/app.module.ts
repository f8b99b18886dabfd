import { Module, type DynamicModule } from '@nestjs/common';
import { CONNECT_DEFAULTS, ConnectModule, LOOPBACK_HOST_PATTERNS, type ConnectModuleOptions } from 'atlassian-connect-nest';
import { confluenceDescriptor } from './confluence/confluence.descriptor.js';
import { ConfluenceController } from './confluence/confluence.controller.js';
import type { ExampleConfig } from './example-config.js';
import { ForgeRemoteController } from './forge/forge-remote.controller.js';
import { InstallationLog } from './installation-log.service.js';
import { jiraDescriptor } from './jira/jira.descriptor.js';
import { JiraController } from './jira/jira.controller.js';

import { CONFLUENCE_APP_KEY, JIRA_APP_KEY } from './app-keys.js';
import { FORGE_SYNC_INTERVAL_MS, ForgeBackgroundSync } from './forge/forge-background-sync.js';
import { ExampleForgeEvents } from './forge/forge-event-handlers.js';
import { SiteNotesController } from './realm-migration/site-notes.controller.js';
import { SiteNotesMigration } from './realm-migration/site-notes-migration.js';
import { SiteNotesStore } from './realm-migration/site-notes.store.js';

export { CONFLUENCE_APP_KEY, JIRA_APP_KEY };

/** The background sync runs every 15 minutes unless `FORGE_SYNC_INTERVAL_MS` says otherwise. */
const DEFAULT_FORGE_SYNC_INTERVAL_MS = 15 * 60_000;

/** Maps the example's settings onto the framework's options: one Jira and one Confluence app. */
export function connectOptions(config: ExampleConfig): ConnectModuleOptions {
  // Atlassian's cloud sites always; the simulator's and the tests' loopback sites only when the config says so.
  const allowedHostPatterns = config.allowLoopbackSites ? [...CONNECT_DEFAULTS.apps.allowedHostPatterns, ...LOOPBACK_HOST_PATTERNS] : undefined;
  return {
    apps: [
      {
        product: 'jira',
        key: JIRA_APP_KEY,
        baseUrl: `${config.appBaseUrl}/jira`,
        descriptor: jiraDescriptor,
        ...(config.forgeAppIdJira && { forge: { appId: config.forgeAppIdJira } }),
        allowedHostPatterns,
      },
      {
        product: 'confluence',
        key: CONFLUENCE_APP_KEY,
        baseUrl: `${config.appBaseUrl}/confluence`,
        descriptor: confluenceDescriptor,
        ...(config.forgeAppIdConfluence && { forge: { appId: config.forgeAppIdConfluence } }),
        allowedHostPatterns,
      },
    ],
    ...(config.installKeysUrl && { installKeysUrl: config.installKeysUrl }),
    ...((config.forgeJwksUrl || config.forgeJwksCooldownMs !== undefined || config.forgeStorageApiBaseUrl) && {
      forge: {
        ...(config.forgeJwksUrl && { jwksUrl: config.forgeJwksUrl }),
        ...(config.forgeJwksCooldownMs !== undefined && { jwksCooldownMs: config.forgeJwksCooldownMs }),
        ...(config.forgeStorageApiBaseUrl && { storageApiBaseUrl: config.forgeStorageApiBaseUrl }),
      },
    }),
    ...(config.authorizationServerUrl && { client: { authorizationServerUrl: config.authorizationServerUrl } }),
    database: {
      url: config.databaseUrl,
      embeddedDataDir: config.embeddedDataDir,
      schema: config.databaseSchema,
    },
    ...((config.encryptionKeys || config.encryptionDevKeyFile) && {
      encryption: {
        ...(config.encryptionKeys && { keys: config.encryptionKeys }),
        ...(config.encryptionDevKeyFile && { devKeyFile: config.encryptionDevKeyFile }),
      },
    }),
  };
}

/** The example app: Jira and Confluence served by one process. */
@Module({})
export class AppModule {
  static register(config: ExampleConfig): DynamicModule {
    return {
      module: AppModule,
      imports: [ConnectModule.forRootAsync({ useFactory: () => connectOptions(config) })],
      controllers: [JiraController, ConfluenceController, ForgeRemoteController, SiteNotesController],
      providers: [
        InstallationLog,
        ExampleForgeEvents,
        ForgeBackgroundSync,
        SiteNotesStore,
        SiteNotesMigration,
        { provide: FORGE_SYNC_INTERVAL_MS, useValue: config.forgeSyncIntervalMs ?? DEFAULT_FORGE_SYNC_INTERVAL_MS },
      ],
    };
  }
}
