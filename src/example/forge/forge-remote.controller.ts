import { Body, Controller, HttpCode, Post } from '@nestjs/common';
import { ForgeAuth, ForgeContext, type ForgeInvocationContext } from 'atlassian-connect-nest';

/**
 * A Forge Remote endpoint beside the Connect routes: Forge calls it (from `invokeRemote`, an event or a
 * scheduled trigger) with a Forge Invocation Token. Any app configured with a Forge app id is accepted;
 * the token's audience tells which one. The OAuth tokens are used for calls to `apiBaseUrl`, never echoed.
 */
@Controller('forge/remote')
export class ForgeRemoteController {
  @Post('hello')
  @HttpCode(200)
  @ForgeAuth()
  hello(@ForgeContext() forge: ForgeInvocationContext, @Body() body: unknown) {
    return {
      app: forge.app.key,
      appId: forge.appId,
      installationId: forge.installationId,
      accountId: forge.accountId ?? null,
      environment: forge.environment,
      module: forge.module ?? null,
      tokens: { system: forge.systemToken !== undefined, user: forge.userToken !== undefined },
      received: typeof body === 'object' && body !== null ? Object.keys(body) : [],
    };
  }
}
