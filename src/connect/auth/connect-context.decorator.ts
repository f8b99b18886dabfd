import { createParamDecorator, type ExecutionContext } from '@nestjs/common';
import { ConnectError } from '../errors/connect-error.js';
import type { ConnectTenant as TenantRecord } from '../tenants/tenant.js';
import { connectContextOf, httpRequestOf } from './connect-request.js';

/**
 * Gives a `@ConnectAuth()` handler the verified context: app, tenant, clientKey, accountId and claims.
 * Pass a property name to get just that property.
 *
 * @example
 * ```ts
 * @Get('whoami') @ConnectAuth()
 * whoami(@ConnectContext() ctx: ConnectRequestContext, @ConnectContext('accountId') accountId?: string) { … }
 * ```
 */
export const ConnectContext = createParamDecorator((property: string | undefined, context: ExecutionContext) => {
  const verified = connectContextOf(httpRequestOf(context));
  if (verified === undefined) {
    throw ConnectError.create('config/invalid', '@ConnectContext() is used on a route without @ConnectAuth().');
  }
  return property === undefined ? verified : (verified as unknown as Record<string, unknown>)[property];
});

/**
 * The tenant of a `@ConnectAuth()` request.
 *
 * @example
 * ```ts
 * @Get('site') @ConnectAuth() site(@ConnectTenant() tenant: ConnectTenant) { return tenant.baseUrl; }
 * ```
 */
export const ConnectTenant = createParamDecorator((_: unknown, context: ExecutionContext) => {
  const verified = connectContextOf(httpRequestOf(context));
  if (verified === undefined) {
    throw ConnectError.create('config/invalid', '@ConnectTenant() is used on a route without @ConnectAuth().');
  }
  return verified.tenant;
});

/** The tenant record type shares its name with the `@ConnectTenant()` decorator. */
export type ConnectTenant = TenantRecord;
