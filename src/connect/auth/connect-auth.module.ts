import { Module } from '@nestjs/common';
import { ConnectKeysModule } from '../keys/connect-keys.module.js';
import { ConnectTenantsModule } from '../tenants/connect-tenants.module.js';
import { ConnectAuthGuard } from './connect-auth.guard.js';
import { ConnectTokenVerifier } from './jwt/connect-token-verifier.js';
import { InstallTokenVerifier } from './jwt/install-token-verifier.js';

/** Token verification: HS256 for requests and `enabled`/`disabled`, RS256 signed installs. */
@Module({
  imports: [ConnectTenantsModule, ConnectKeysModule],
  providers: [ConnectTokenVerifier, InstallTokenVerifier, ConnectAuthGuard],
  exports: [ConnectTokenVerifier, InstallTokenVerifier, ConnectAuthGuard],
})
export class ConnectAuthModule {}
