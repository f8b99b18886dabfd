import { Module } from '@nestjs/common';
import { CONNECT_MODULE_OPTIONS } from '../config/connect.module-definition.js';
import type { ConnectModuleOptions } from '../config/connect-options.js';
import { ForgeAuthGuard } from './forge-auth.guard.js';
import { ForgeJwks } from './forge-jwks.js';
import { forgeJwksOptionsOf } from './forge-options.js';
import { ForgeTokenVerifier } from './forge-token-verifier.js';
import { ConnectForgeLink } from './forge-tenant-link.js';
import { ConnectTenantsModule } from '../tenants/connect-tenants.module.js';

/**
 * Incoming Forge Remote calls: the Forge JWKS (from `forge.jwksUrl`, checked at bootstrap), the FIT
 * verifier and the guard behind `@ForgeAuth()`. The registry comes from the global ConnectModule.
 */
@Module({
  imports: [ConnectTenantsModule],
  providers: [
    {
      provide: ForgeJwks,
      inject: [CONNECT_MODULE_OPTIONS],
      useFactory: (options: ConnectModuleOptions) => new ForgeJwks(forgeJwksOptionsOf(options)),
    },
    ForgeTokenVerifier,
    ForgeAuthGuard,
    ConnectForgeLink,
  ],
  exports: [ForgeJwks, ForgeTokenVerifier, ForgeAuthGuard, ConnectForgeLink],
})
export class ConnectForgeModule {}
