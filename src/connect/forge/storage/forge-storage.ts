import { Inject, Injectable } from '@nestjs/common';
import { ConnectAppRegistry } from '../../config/connect-app-registry.js';
import { RESOLVED_CONNECT_OPTIONS } from '../../config/resolve-connect-options.js';
import type { ResolvedConnectOptions } from '../../config/resolved-connect-options.js';
import type { CallTarget, ClientDefaults } from '../../client/connect-http-client.js';
import { savedTokenCallTarget, type ForgeInstallationTarget } from '../../client/forge-client-target.js';
import { ForgeInstallations } from '../forge-installations.js';
import type { ForgeInvocationContext } from '../forge-invocation-context.js';
import { ForgeStorageError } from './forge-storage-error.js';
import { ForgeStorageHandle } from './forge-storage-handle.js';
import { StorageTransport } from './storage-transport.js';

/** Whose storage: a verified Forge call (its own system token), or an installation (its saved token). */
export type ForgeStorageTarget = Pick<ForgeInvocationContext, 'app' | 'installationId' | 'systemToken'> | ForgeInstallationTarget | string;

const FIX = 'The manifest must give the remote auth.appSystemToken: true and the app the scopes storage:app and read:app-system-token.';

/**
 * Forge hosted storage (the Key-Value Store, secrets and the Custom Entity Store) of an installation,
 * from this backend, through Forge's storage REST API (`forge.storageApiBaseUrl`) with the
 * installation's app system token. Inside a Forge Remote call, pass the `ForgeInvocationContext`: its
 * `x-forge-oauth-system` token is used. Outside one (a cron job, a queue), pass the installation: its
 * installationId (when one app has `forge.appId`), `{ appKey, installationId }` or a
 * `ForgeInstallation`; the token saved from its latest Forge call is used, and none, or an expired one,
 * is `storage/token-missing`. Calls are retried like the outbound client's (429/5xx, `Retry-After`,
 * `client.retry`); tokens are never logged or put in errors.
 *
 * @example
 * ```ts
 * @Put('settings') @ForgeAuth()
 * async save(@ForgeContext() forge: ForgeInvocationContext, @Body() settings: Settings) {
 *   await this.storage.forInstallation(forge).set('settings', settings);
 *   return this.storage.forInstallation(forge).get<Settings>('settings');
 * }
 * ```
 */
@Injectable()
export class ForgeStorage {
  private readonly baseUrl: string;
  private readonly defaults: ClientDefaults;

  constructor(
    private readonly installations: ForgeInstallations,
    private readonly registry: ConnectAppRegistry,
    @Inject(RESOLVED_CONNECT_OPTIONS) { forge, client }: ResolvedConnectOptions,
  ) {
    this.baseUrl = forge.storageApiBaseUrl;
    this.defaults = { timeoutMs: client.timeoutMs, retry: client.retry };
  }

  /** The storage of one installation. Throws `storage/invalid-request` for a target that names no Forge app here. */
  forInstallation(target: ForgeStorageTarget): ForgeStorageHandle {
    return new ForgeStorageHandle(new StorageTransport(this.targetOf(target), this.defaults));
  }

  private targetOf(target: ForgeStorageTarget): () => Promise<CallTarget> {
    if (typeof target === 'object' && target !== null && 'systemToken' in target && 'app' in target) {
      const token = target.systemToken;
      if (typeof token !== 'string' || token.trim() === '' || /\s/.test(token)) {
        // Checked when the handle is used, so that building one never throws for a missing token.
        return async () => {
          throw new ForgeStorageError('storage/token-missing', `This Forge call carries no app system token (x-forge-oauth-system) to call Forge storage with. ${FIX}`, {
            operation: '-',
          });
        };
      }
      const fixed: CallTarget = { baseUrl: this.baseUrl, confineToBasePath: true, authorize: async () => `Bearer ${token}` };
      return async () => fixed;
    }
    const saved = savedTokenCallTarget(this.installations, this.installationOf(target));
    // The saved token, its lookup and its 401 handling are the client's; only the destination differs.
    return async () => ({ ...(await saved()), baseUrl: this.baseUrl, confineToBasePath: true });
  }

  private installationOf(target: ForgeInstallationTarget | string): ForgeInstallationTarget {
    const refuse = (message: string) => new ForgeStorageError('storage/invalid-request', message, { operation: '-' });
    if (typeof target === 'string') {
      const forgeApps = this.registry.apps.filter((app) => app.forgeAppId !== undefined);
      if (forgeApps.length !== 1) {
        throw refuse(
          `forInstallation("${target.slice(0, 80)}") needs { appKey, installationId }: ${forgeApps.length === 0 ? 'no app has forge.appId' : 'several apps have forge.appId'}.`,
        );
      }
      return { appKey: forgeApps[0]!.key, installationId: target };
    }
    if (typeof target !== 'object' || target === null || typeof target.appKey !== 'string' || typeof target.installationId !== 'string' || target.installationId === '') {
      throw refuse('forInstallation() takes a ForgeInvocationContext, a ForgeInstallation, { appKey, installationId } or an installationId.');
    }
    if (this.registry.get(target.appKey)?.forgeAppId === undefined) throw refuse(`forInstallation(): ${JSON.stringify(target.appKey)} is not an app with forge.appId.`);
    return { appKey: target.appKey, installationId: target.installationId };
  }
}
