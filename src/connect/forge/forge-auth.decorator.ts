import { applyDecorators, SetMetadata, UseGuards } from '@nestjs/common';
import { FORGE_AUTH_OPTIONS, type ForgeAuthOptions } from './forge-auth.constants.js';
import { ForgeAuthGuard } from './forge-auth.guard.js';

/**
 * Requires a valid Forge Invocation Token (`Authorization: Bearer <FIT>`, RS256 from the Forge JWKS,
 * `aud` = a configured Forge app) on a controller or route: what Forge sends to a Forge Remote endpoint.
 * The verified invocation, with the `x-forge-oauth-*` tokens, is available through `@ForgeContext()`.
 *
 * @example
 * ```ts
 * @Controller('forge/remote')
 * export class RemoteController {
 *   @Post('hello')
 *   @ForgeAuth({ app: 'com.example.jira' })
 *   hello(@ForgeContext() forge: ForgeInvocationContext) {
 *     return { installationId: forge.installationId, accountId: forge.accountId };
 *   }
 * }
 * ```
 */
export function ForgeAuth(options: ForgeAuthOptions = {}): MethodDecorator & ClassDecorator {
  return applyDecorators(ForgeAuthMetadata(options), UseGuards(ForgeAuthGuard));
}

/**
 * The options of `@ForgeAuth()` without its guard: for a route guarded by your own subclass of
 * `ForgeAuthGuard`.
 *
 * @example
 * ```ts
 * @Post('hello') @ForgeAuthMetadata({ app: 'com.example.jira' }) @UseGuards(TracingForgeAuthGuard)
 * hello(@ForgeContext() forge: ForgeInvocationContext) { … }
 * ```
 */
export function ForgeAuthMetadata(options: ForgeAuthOptions = {}): MethodDecorator & ClassDecorator {
  return SetMetadata(FORGE_AUTH_OPTIONS, { ...options });
}
