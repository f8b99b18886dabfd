import { Module } from '@nestjs/common';
import { APP_FILTER } from '@nestjs/core';
import { ConnectHealth } from '../health/connect-health.js';
import { ConnectLifecycleModule } from '../lifecycle/connect-lifecycle.module.js';
import { ConnectTenantsModule } from '../tenants/connect-tenants.module.js';
import { ConnectExceptionFilter } from './connect-exception.filter.js';
import { ConnectRoutes } from './connect-routes.js';
import { HttpServerShutdown } from './http-server-shutdown.js';

/** The HTTP edge: descriptor, lifecycle and health routes, the typed error responses, and a prompt close on shutdown. */
@Module({
  imports: [ConnectLifecycleModule, ConnectTenantsModule],
  providers: [ConnectRoutes, ConnectHealth, HttpServerShutdown, { provide: APP_FILTER, useClass: ConnectExceptionFilter }],
  exports: [ConnectHealth],
})
export class ConnectHttpModule {}
