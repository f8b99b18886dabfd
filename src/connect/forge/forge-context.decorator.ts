import { createParamDecorator, type ExecutionContext } from '@nestjs/common';
import { ConnectError } from '../errors/connect-error.js';
import type { ForgeInvocationContext } from './forge-invocation-context.js';
import { httpRequestOf } from '../auth/connect-request.js';
import { forgeContextOf } from './forge-request.js';

/**
 * Gives a `@ForgeAuth()` handler the verified invocation: app, Forge app id, environment, installation
 * id, module, context, principal (accountId), apiBaseUrl and the OAuth tokens. Pass a property name to
 * get just that property.
 *
 * @example
 * ```ts
 * @Post('hello') @ForgeAuth()
 * hello(@ForgeContext() forge: ForgeInvocationContext, @ForgeContext('installationId') installationId: string) { … }
 * ```
 */
export const ForgeContext = createParamDecorator((property: keyof ForgeInvocationContext | undefined, context: ExecutionContext) => {
  const verified = forgeContextOf(httpRequestOf(context));
  if (verified === undefined) {
    throw ConnectError.create('config/invalid', '@ForgeContext() is used on a route without @ForgeAuth().');
  }
  return property === undefined ? verified : verified[property];
});
