import { Body, Controller, HttpCode, Post } from '@nestjs/common';
import { ConnectClient, ForgeAuth, ForgeContext, type ForgeInvocationContext } from 'atlassian-connect-nest';

/**
 * A Forge Remote endpoint beside the Connect routes: Forge calls it (from `invokeRemote`, an event or a
 * scheduled trigger) with a Forge Invocation Token. Any app configured with a Forge app id is accepted;
 * the token's audience tells which one. The OAuth tokens are used for calls to `apiBaseUrl`, never echoed.
 */
@Controller('forge/remote')
export class ForgeRemoteController {
  constructor(private readonly client: ConnectClient) {}

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

  /**
   * Asks the product who the app is with the system token saved from an earlier Forge call of this
   * installation (`asForgeApp({ appKey, installationId })`), not with a token of this request: what a
   * job outside any request does, here behind a FIT so that only Forge can start it. Any instance of
   * the app can answer, whichever one received the token. Without a saved token it is 503
   * `client/forge-token-expired`.
   */
  @Post('saved-token/myself')
  @HttpCode(200)
  @ForgeAuth()
  async savedTokenMyself(@ForgeContext() forge: ForgeInvocationContext) {
    const path = forge.app.product === 'confluence' ? '/wiki/rest/api/user/current' : '/rest/api/3/myself';
    const answered = await this.client.asForgeApp({ appKey: forge.app.key, installationId: forge.installationId }).get<unknown>(path);
    return { installationId: forge.installationId, answered };
  }
}
