import { Inject, Injectable, Optional, type OnApplicationShutdown } from '@nestjs/common';
import { ConnectAppRegistry } from '../config/connect-app-registry.js';
import { RESOLVED_CONNECT_OPTIONS } from '../config/resolve-connect-options.js';
import type { ResolvedConnectOptions } from '../config/resolved-connect-options.js';
import type { ConnectRequestContext } from '../auth/jwt/connect-token-verifier.js';
import { isTenantActive, type ConnectTenant } from '../tenants/tenant.js';
import { TENANT_STORE, type TenantStore } from '../tenants/tenant-store.js';
import { signAppJwt } from './app-jwt.js';
import { ConnectClientError } from './connect-client-error.js';
import { ConnectHttpClient, type CallTarget, type ClientDefaults } from './connect-http-client.js';
import { forgeCallTarget, savedTokenCallTarget, type ForgeCallContext, type ForgeInstallationTarget } from './forge-client-target.js';
import { ForgeInstallations } from '../forge/forge-installations.js';
import { UserTokenProvider } from './user-token-provider.js';
import { connectBudget, forgeBudget, forgeContextIds, type RateLimitBudgetRef } from './rate-limit/rate-limit-key.js';
import { RateLimitHooks } from './rate-limit/rate-limit-hooks.js';
import { RateLimitPacer } from './rate-limit/rate-limit-pacer.js';
import type { ConnectRateLimitSnapshot } from './rate-limit/rate-limit-snapshot.js';

/** Whose product to call: a verified request, a tenant, or an (app key, clientKey) pair. */
export type ClientTarget = ConnectRequestContext | ConnectTenant | { appKey: string; clientKey: string };

export interface ActAsUserOptions {
  /** OAuth scopes for the user token (default `['READ']`), e.g. `['READ', 'WRITE']`. */
  scopes?: readonly string[];
}

/**
 * Calls Jira and Confluence REST APIs for a tenant, as the app (a fresh JWT with qsh per request) or
 * as a user (OAuth 2.0 JWT-bearer grant; needs the ACT_AS_USER scope).
 *
 * @example
 * ```ts
 * @Get('api/myself') @ConnectAuth()
 * async myself(@ConnectContext() ctx: ConnectRequestContext) {
 *   const asApp = await this.client.asApp(ctx).get('/rest/api/3/myself');
 *   const asUser = await this.client.asUser(ctx, ctx.accountId!).get('/rest/api/3/myself');
 *   return { asApp, asUser };
 * }
 * ```
 */
@Injectable()
export class ConnectClient implements OnApplicationShutdown {
  private readonly defaults: ClientDefaults;
  private readonly pacer: RateLimitPacer;
  private readonly restApiPrefix: (tenant: ConnectTenant) => string | undefined;
  private readonly userTokens: UserTokenProvider;

  constructor(
    @Inject(TENANT_STORE) private readonly tenants: TenantStore,
    private readonly registry: ConnectAppRegistry,
    @Inject(RESOLVED_CONNECT_OPTIONS) { client }: ResolvedConnectOptions,
    private readonly installations: ForgeInstallations,
    @Optional() hooks?: RateLimitHooks,
  ) {
    const prefixes = client.restApiPrefixes;
    this.pacer = new RateLimitPacer({ ...client.rateLimit, onNearLimit: (tenant, snapshot) => hooks?.emit({ tenant, snapshot }) });
    this.defaults = { timeoutMs: client.timeoutMs, retry: client.retry, pacer: this.pacer };
    this.restApiPrefix = (tenant) => {
      const prefix = prefixes.get(tenant.appKey);
      return typeof prefix === 'function' ? prefix(tenant) : prefix;
    };
    this.userTokens = new UserTokenProvider({
      authorizationServerUrl: client.authorizationServerUrl,
      cacheSize: client.userTokenCacheSize,
      timeoutMs: client.timeoutMs,
    });
  }

  /** Calls signed as the app itself. */
  asApp(target: ClientTarget): ConnectHttpClient {
    return new ConnectHttpClient(
      this.tenantTarget(target, (method, url, tenant) => this.appAuthorization(method, url, tenant)),
      this.defaults,
    );
  }

  /** Calls made on behalf of a user (their permissions apply). */
  asUser(target: ClientTarget, accountId: string, options: ActAsUserOptions = {}): ConnectHttpClient {
    if (typeof accountId !== 'string' || accountId === '') {
      throw new ConnectClientError('client/invalid-request', 'asUser() needs the account id of the user to act as.', { method: '-', url: '-', retries: 0 });
    }
    const scopes = options.scopes ?? ['READ'];
    return new ConnectHttpClient(
      this.tenantTarget(target, async (_method, _url, tenant) => `Bearer ${await this.userTokens.token(tenant, accountId, scopes)}`),
      this.defaults,
    );
  }

  /**
   * Calls the Forge installation's `apiBaseUrl` as the app, with the app's system OAuth token from a
   * verified Forge Remote call (`x-forge-oauth-system`; the manifest's remote needs
   * `auth.appSystemToken: true`). Relative URLs resolve under `apiBaseUrl`
   * (`/rest/api/3/myself` → `https://api.atlassian.com/ex/jira/<cloudId>/rest/api/3/myself`); the
   * token is never sent anywhere else. Same retries, paging and errors as `asApp`.
   *
   * Outside a request (a cron job, a queue consumer), pass the installation instead: its installationId
   * (when one app has `forge.appId`), `{ appKey, installationId }` or a `ForgeInstallation`. The call
   * then uses the installation's saved app system token (saved, encrypted, from its latest Forge call);
   * none, or only an expired one, rejects with `client/forge-token-expired`, and a 401 from the product
   * drops the saved token (same error) so it is never sent again.
   *
   * @example
   * ```ts
   * @Post('forge/whoami') @ForgeAuth()
   * whoami(@ForgeContext() forge: ForgeInvocationContext) {
   *   return this.client.asForgeApp(forge).get('/rest/api/3/myself');
   * }
   * ```
   */
  asForgeApp(forge: ForgeCallContext | ForgeInstallationTarget | string): ConnectHttpClient {
    if (typeof forge === 'string' || (typeof forge === 'object' && forge !== null && 'appKey' in forge && 'installationId' in forge && !('systemToken' in forge))) {
      return new ConnectHttpClient(savedTokenCallTarget(this.installations, this.installationTarget(forge)), this.defaults);
    }
    return new ConnectHttpClient(forgeCallTarget(forge as ForgeCallContext, 'system'), this.defaults);
  }

  private installationTarget(forge: ForgeInstallationTarget | string): ForgeInstallationTarget {
    const refuse = (message: string) => new ConnectClientError('client/invalid-request', message, { method: '-', url: '-', retries: 0 });
    if (typeof forge !== 'string') {
      if (this.registry.get(forge.appKey)?.forgeAppId === undefined) throw refuse(`asForgeApp(): ${JSON.stringify(forge.appKey)} is not an app with forge.appId.`);
      return forge;
    }
    const forgeApps = this.registry.apps.filter((app) => app.forgeAppId !== undefined);
    if (forgeApps.length !== 1) {
      throw refuse(`asForgeApp("${forge.slice(0, 80)}") needs { appKey, installationId }: ${forgeApps.length === 0 ? 'no app has forge.appId' : 'several apps have forge.appId'}.`);
    }
    return { appKey: forgeApps[0]!.key, installationId: forge };
  }

  /**
   * Like `asForgeApp`, but with the calling user's OAuth token (`x-forge-oauth-user`; the manifest's
   * remote needs `auth.appUserToken: true`, and the call must come from a user): their permissions apply.
   */
  asForgeUser(forge: ForgeCallContext): ConnectHttpClient {
    return new ConnectHttpClient(forgeCallTarget(forge, 'user'), this.defaults);
  }

  /**
   * The last rate-limit budget the product reported for a tenant (what `asApp`/`asUser` or
   * `asForgeApp`/`asForgeUser` take; a Connect tenant and a Forge installation are separate budgets),
   * from the latest of its responses that carried rate-limit headers; `undefined` when none did yet
   * (or the tenant was forgotten, see `client.rateLimit.maxTenants`). Frozen.
   *
   * @example
   * ```ts
   * const budget = this.client.rateLimit(ctx);
   * if (budget?.nearLimit) this.logger.log(`${budget.remaining} of ${budget.limit} points left until ${budget.resetAt?.toISOString()}`);
   * ```
   */
  rateLimit(target: ClientTarget | ForgeCallContext | ForgeInstallationTarget | string): ConnectRateLimitSnapshot | undefined {
    return this.pacer.snapshot(this.budgetOf(target).key);
  }

  onApplicationShutdown(): void {
    this.pacer.close();
  }

  private budgetOf(target: ClientTarget | ForgeCallContext | ForgeInstallationTarget | string): RateLimitBudgetRef {
    if (typeof target === 'string') return forgeBudget(...this.installationIds(target));
    if (typeof target !== 'object' || target === null) return forgeBudget(undefined, undefined, undefined);
    if ('tenant' in target && 'app' in target) return connectBudget(target.tenant.appKey, target.tenant.clientKey);
    if ('clientKey' in target && 'appKey' in target) return connectBudget(target.appKey, target.clientKey);
    if ('installationId' in target && 'appKey' in target && !('systemToken' in target)) return forgeBudget(target.appKey, target.installationId, undefined);
    const ids = forgeContextIds(target);
    return forgeBudget(ids.appKey, ids.installationId, ids.apiBaseUrl);
  }

  private installationIds(installationId: string): [string | undefined, string, undefined] {
    const forgeApps = this.registry.apps.filter((app) => app.forgeAppId !== undefined);
    return [forgeApps.length === 1 ? forgeApps[0]!.key : undefined, installationId, undefined];
  }

  /** Requests made to the authorization server so far. */
  get userTokenRequests(): number {
    return this.userTokens.tokenRequests;
  }

  private async appAuthorization(method: string, url: URL, tenant: ConnectTenant): Promise<string> {
    return `JWT ${await signAppJwt(tenant.appKey, tenant.sharedSecret, method, url, tenant.baseUrl)}`;
  }

  /** The call target of a tenant (found once, on the first call), signed by `authorize`. */
  private tenantTarget(target: ClientTarget, authorize: (method: string, url: URL, tenant: ConnectTenant) => Promise<string>): () => Promise<CallTarget> {
    const tenantOf = this.tenantOf(target);
    let built: CallTarget | undefined;
    let builtFor: ConnectTenant | undefined;
    return async () => {
      const tenant = await tenantOf();
      if (built !== undefined && builtFor === tenant) return built;
      // The budget reference is made on first use: never while no response carried rate-limit headers.
      let budget: RateLimitBudgetRef | undefined;
      builtFor = tenant;
      built = {
        baseUrl: tenant.baseUrl,
        restApiPrefix: this.restApiPrefix(tenant),
        authorize: (method, url) => authorize(method, url, tenant),
        get rateLimit() {
          return (budget ??= connectBudget(tenant.appKey, tenant.clientKey));
        },
      };
      return built;
    };
  }

  private tenantOf(target: ClientTarget): () => Promise<ConnectTenant> {
    if ('tenant' in target && 'app' in target) return async () => target.tenant;
    if ('sharedSecret' in target) return async () => target;
    let found: Promise<ConnectTenant> | undefined;
    return () => (found ??= this.lookUp(target.appKey, target.clientKey));
  }

  private async lookUp(appKey: string, clientKey: string): Promise<ConnectTenant> {
    if (this.registry.get(appKey) === undefined) {
      throw new ConnectClientError('client/unknown-tenant', `No app with key ${JSON.stringify(appKey)} is configured.`, { method: '-', url: '-', retries: 0 });
    }
    const tenant = await this.tenants.find(appKey, clientKey);
    if (tenant === null || !isTenantActive(tenant)) {
      throw new ConnectClientError('client/unknown-tenant', `${appKey} is not installed and enabled on the site with that clientKey.`, { method: '-', url: '-', retries: 0 });
    }
    return tenant;
  }
}
