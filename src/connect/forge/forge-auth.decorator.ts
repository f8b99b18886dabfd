import { applyDecorators, SetMetadata, UseGuards } from '@nestjs/common';
import { ForgeAuthGuard } from './forge-auth.guard.js';

/** How a Forge Remote route authenticates. */
export interface ForgeAuthOptions {
  /**
   * The key of the Connect app whose Forge app id the token must name. Default: any app configured with
   * `forge.appId`; the token's `aud` then chooses the app.
   */
  app?: string;
}

export const FORGE_AUTH_OPTIONS = 'atlassian-connect-nest:forge-auth-options';

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
  return applyDecorators(SetMetadata(FORGE_AUTH_OPTIONS, { ...options }), UseGuards(ForgeAuthGuard));
}
