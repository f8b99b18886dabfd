import { Module } from '@nestjs/common';
import { ConnectTenantsModule } from '../tenants/connect-tenants.module.js';
import { ConnectClient } from './connect-client.js';

/** The outbound client for the products' REST APIs. */
@Module({
  imports: [ConnectTenantsModule],
  providers: [ConnectClient],
  exports: [ConnectClient],
})
export class ConnectClientModule {}
