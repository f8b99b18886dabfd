import { Module } from '@nestjs/common';
import { DiscoveryModule } from '@nestjs/core';
import { ConnectAuthModule } from '../auth/connect-auth.module.js';
import { ConnectTenantsModule } from '../tenants/connect-tenants.module.js';
import { LifecycleHookRegistry } from './lifecycle-hook-registry.js';
import { LifecycleService } from './lifecycle.service.js';

/** The four lifecycle callbacks and the discovery of `@OnInstalled()`-style hooks. */
@Module({
  imports: [DiscoveryModule, ConnectAuthModule, ConnectTenantsModule],
  providers: [LifecycleHookRegistry, LifecycleService],
  exports: [LifecycleService],
})
export class ConnectLifecycleModule {}
