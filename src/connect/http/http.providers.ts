import type { Provider } from '@nestjs/common';
import { APP_FILTER } from '@nestjs/core';
import { ConnectHealth } from '../health/connect-health.js';
import { ConnectExceptionFilter } from './connect-exception.filter.js';
import { ConnectRoutes } from './connect-routes.js';
import { HttpServerShutdown } from './http-server-shutdown.js';

/** The HTTP edge: descriptor, lifecycle and health routes, the typed error responses, and a prompt close on shutdown. */
export const httpProviders: Provider[] = [ConnectRoutes, ConnectHealth, HttpServerShutdown, { provide: APP_FILTER, useClass: ConnectExceptionFilter }];
