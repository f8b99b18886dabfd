import { Module, type Provider } from '@nestjs/common';
import { DiscoveryModule } from '@nestjs/core';
import { authProviders } from './auth/auth.providers.js';
import { ConnectAuthGuard } from './auth/connect-auth.guard.js';
import { ConnectTokenVerifier } from './auth/jwt/connect-token-verifier.js';
import { InstallTokenVerifier } from './auth/jwt/install-token-verifier.js';
import { clientProviders } from './client/client.providers.js';
import { ConnectClient } from './client/connect-client.js';
import { ConnectAppRegistry } from './config/connect-app-registry.js';
import { CONNECT_MODULE_OPTIONS, ConnectConfigurableModule } from './config/connect.module-definition.js';
import type { ConnectModuleOptions } from './config/connect-options.js';
import { ConnectOptionalPeers } from './config/optional-peers.js';
import { RESOLVED_CONNECT_OPTIONS, resolveConnectOptions } from './config/resolve-connect-options.js';
import type { ResolvedConnectOptions } from './config/resolved-connect-options.js';
import { connectDatabaseModule } from './database/database.imports.js';
import { forgeProviders } from './forge/forge.providers.js';
import { ForgeAuthGuard } from './forge/forge-auth.guard.js';
import { ForgeJwks } from './forge/forge-jwks.js';
import { ConnectForgeLink } from './forge/forge-tenant-link.js';
import { ForgeInstallations } from './forge/forge-installations.js';
import { ForgeTokenVerifier } from './forge/forge-token-verifier.js';
import { ForgeManifestBuilder } from './forge/manifest/forge-manifest-builder.js';
import { ForgeStorage } from './forge/storage/forge-storage.js';
import { ConnectHealth } from './health/connect-health.js';
import { httpProviders } from './http/http.providers.js';
import { INSTALL_KEY_RESOLVER } from './keys/install-key-resolver.js';
import { keysProviders } from './keys/keys.providers.js';
import { lifecycleProviders } from './lifecycle/lifecycle.providers.js';
import { retentionProviders } from './retention/retention.providers.js';
import { TenantRetention } from './retention/tenant-retention.js';
import { TenantChangeListener } from './tenants/tenant-change-listener.js';
import { TENANT_STORE } from './tenants/tenant-store.js';
import { tenantsProviders } from './tenants/tenants.providers.js';

/**
 * The options, resolved once. Everything that opens a resource depends on it (the database through
 * the TypeORM module's factory, the listener and the retention job through their constructors), so bad
 * options fail the bootstrap before anything is opened.
 */
const optionsProviders: Provider[] = [
  // The optional peers, loaded when the options need them (tests replace it with overrideProvider).
  { provide: ConnectOptionalPeers, useFactory: () => new ConnectOptionalPeers() },
  {
    provide: RESOLVED_CONNECT_OPTIONS,
    inject: [CONNECT_MODULE_OPTIONS, ConnectOptionalPeers],
    useFactory: (options: ConnectModuleOptions, peers: ConnectOptionalPeers) => resolveConnectOptions(options, { peers }),
  },
  {
    provide: ConnectAppRegistry,
    inject: [RESOLVED_CONNECT_OPTIONS],
    useFactory: (options: ResolvedConnectOptions) => new ConnectAppRegistry(options.apps),
  },
];

/**
 * The framework in one import. Global: `@ConnectAuth()`, `ConnectClient` and the rest work in every
 * module of the app.
 *
 * @example
 * ```ts
 * @Module({
 *   imports: [
 *     ConnectModule.forRoot({
 *       apps: [
 *         { product: 'jira', key: 'com.example.jira', baseUrl: 'https://app.example.com/jira', descriptor: { name: 'Example' } },
 *       ],
 *     }),
 *   ],
 * })
 * export class AppModule {}
 * ```
 */
@Module({
  imports: [DiscoveryModule, connectDatabaseModule()],
  providers: [
    ...optionsProviders,
    ...keysProviders,
    ...tenantsProviders,
    ...retentionProviders,
    ...authProviders,
    ...lifecycleProviders,
    ...httpProviders,
    ...clientProviders,
    ...forgeProviders,
  ],
  // What apps inject (and what a subclass of a guard needs); the framework's DataSource is exported by the TypeORM module.
  exports: [
    CONNECT_MODULE_OPTIONS,
    RESOLVED_CONNECT_OPTIONS,
    ConnectOptionalPeers,
    ConnectAppRegistry,
    TENANT_STORE,
    INSTALL_KEY_RESOLVER,
    ConnectTokenVerifier,
    InstallTokenVerifier,
    ConnectAuthGuard,
    ConnectHealth,
    ConnectClient,
    TenantRetention,
    TenantChangeListener,
    ForgeJwks,
    ForgeTokenVerifier,
    ForgeAuthGuard,
    ConnectForgeLink,
    ForgeInstallations,
    ForgeManifestBuilder,
    ForgeStorage,
  ],
})
export class ConnectModule extends ConnectConfigurableModule {}
