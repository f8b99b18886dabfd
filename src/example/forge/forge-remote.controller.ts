import { Body, Controller, Get, HttpCode, Post, Put } from '@nestjs/common';
import { ConnectClient, ForgeAuth, ForgeContext, ForgeStorage, ForgeStorageError, type ForgeInvocationContext } from 'atlassian-connect-nest';

/** The per-installation settings the example keeps in Forge hosted storage. */
export interface ExampleForgeSettings {
  readonly greeting: string;
  readonly notify: boolean;
}

const SETTINGS_KEY = 'example:settings';
const DEFAULT_SETTINGS: ExampleForgeSettings = Object.freeze({ greeting: 'Hello', notify: false });

/** The settings in a body, or a typed 400 (`storage/invalid-request`) naming what is wrong. */
function settingsOf(body: unknown): ExampleForgeSettings {
  const { greeting, notify } = (body ?? {}) as Partial<Record<keyof ExampleForgeSettings, unknown>>;
  if (typeof greeting !== 'string' || greeting.trim() === '' || greeting.length > 200 || typeof notify !== 'boolean') {
    throw new ForgeStorageError('storage/invalid-request', 'Settings are { greeting: a non-empty string of at most 200 characters, notify: true or false }.', {
      operation: 'settings',
    });
  }
  return { greeting, notify };
}

/**
 * A Forge Remote endpoint beside the Connect routes: Forge calls it (from `invokeRemote`, an event or a
 * scheduled trigger) with a Forge Invocation Token. Any app configured with a Forge app id is accepted;
 * the token's audience tells which one. The OAuth tokens are used for calls to `apiBaseUrl`, never echoed.
 */
@Controller('forge/remote')
export class ForgeRemoteController {
  constructor(
    private readonly client: ConnectClient,
    private readonly storage: ForgeStorage,
  ) {}

  /** This installation's settings, from Forge hosted storage (the defaults until some are saved). */
  @Get('settings')
  @ForgeAuth()
  async settings(@ForgeContext() forge: ForgeInvocationContext) {
    const saved = await this.storage.forInstallation(forge).get<ExampleForgeSettings>(SETTINGS_KEY);
    return { installationId: forge.installationId, settings: saved ?? DEFAULT_SETTINGS, saved: saved !== undefined };
  }

  /** Saves this installation's settings in Forge hosted storage, with the call's app system token. */
  @Put('settings')
  @HttpCode(200)
  @ForgeAuth()
  async saveSettings(@ForgeContext() forge: ForgeInvocationContext, @Body() body: unknown) {
    const settings = settingsOf(body);
    await this.storage.forInstallation(forge).set(SETTINGS_KEY, { ...settings });
    return { installationId: forge.installationId, settings, saved: true };
  }

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
