import type { Provider } from '@nestjs/common';
import { RESOLVED_CONNECT_OPTIONS } from '../config/resolve-connect-options.js';
import type { ResolvedConnectOptions } from '../config/resolved-connect-options.js';
import { ForgeAuthGuard } from './forge-auth.guard.js';
import { ForgeJwks } from './forge-jwks.js';
import { ConnectForgeLink } from './forge-tenant-link.js';
import { ForgeTokenVerifier } from './forge-token-verifier.js';
import { ForgeInstallations } from './forge-installations.js';
import { ForgeEventHandlers } from './forge-event-handlers.js';
import { ForgeEventLedger } from './forge-event-ledger.js';
import { ForgeEventRoutes } from './forge-event-routes.js';
import { RealmMigrationHandlers } from './realm-migration/realm-migration-handlers.js';
import { RealmMigrationRoutes } from './realm-migration/realm-migration-routes.js';
import { ForgeStorage } from './storage/forge-storage.js';
import { ForgeManifestBuilder } from './manifest/forge-manifest-builder.js';

/** Incoming Forge Remote calls: the Forge JWKS (`forge.*`), the FIT verifier, the guard behind `@ForgeAuth()`, the Connect↔Forge link, the endpoints of Forge events and triggers, and the realm migration hooks. */
export const forgeProviders: Provider[] = [
  {
    provide: ForgeJwks,
    inject: [RESOLVED_CONNECT_OPTIONS],
    useFactory: ({ forge }: ResolvedConnectOptions) =>
      new ForgeJwks({ url: forge.jwksUrl, timeoutMs: forge.jwksTimeoutMs, cooldownMs: forge.jwksCooldownMs, cacheMaxAgeMs: forge.jwksCacheMaxAgeMs }),
  },
  ForgeTokenVerifier,
  ForgeInstallations,
  ForgeAuthGuard,
  ConnectForgeLink,
  ForgeEventLedger,
  ForgeEventHandlers,
  ForgeEventRoutes,
  RealmMigrationHandlers,
  RealmMigrationRoutes,
  ForgeStorage,
  ForgeManifestBuilder,
];
