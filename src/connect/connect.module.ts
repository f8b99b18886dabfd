import { Module } from '@nestjs/common';
import { ConnectAuthModule } from './auth/connect-auth.module.js';
import { ConnectClientModule } from './client/connect-client.module.js';
import { ConnectAppRegistry } from './config/connect-app-registry.js';
import { CONNECT_MODULE_OPTIONS, ConnectConfigurableModule } from './config/connect.module-definition.js';
import type { ConnectModuleOptions } from './config/connect-options.js';
import { ConnectOptionalPeers } from './config/optional-peers.js';
import { resolveConnectApps } from './config/resolve-connect-apps.js';
import { ConnectForgeModule } from './forge/connect-forge.module.js';
import { ConnectHttpModule } from './http/connect-http.module.js';
import { ConnectKeysModule } from './keys/connect-keys.module.js';
import { ConnectLifecycleModule } from './lifecycle/connect-lifecycle.module.js';
import { ConnectTenantsModule } from './tenants/connect-tenants.module.js';
import { ConnectTenantSyncModule } from './tenants/connect-tenant-sync.module.js';
import { ConnectRetentionModule } from './tenants/connect-retention.module.js';

/**
 * The framework in one import. Global: `@ConnectAuth()` works in every module of the app.
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
  imports: [
    ConnectTenantsModule,
    ConnectTenantSyncModule,
    ConnectRetentionModule,
    ConnectKeysModule,
    ConnectAuthModule,
    ConnectLifecycleModule,
    ConnectHttpModule,
    ConnectClientModule,
    ConnectForgeModule,
  ],
  providers: [
    // The optional peers, loaded when the options need them (see connect.module-definition.ts).
    { provide: ConnectOptionalPeers, useFactory: () => new ConnectOptionalPeers() },
    {
      provide: ConnectAppRegistry,
      inject: [CONNECT_MODULE_OPTIONS],
      useFactory: (options: ConnectModuleOptions) => new ConnectAppRegistry(resolveConnectApps(options.apps)),
    },
  ],
  exports: [CONNECT_MODULE_OPTIONS, ConnectOptionalPeers, ConnectAppRegistry, ConnectTenantsModule, ConnectAuthModule, ConnectHttpModule, ConnectClientModule, ConnectForgeModule],
})
export class ConnectModule extends ConnectConfigurableModule {}
