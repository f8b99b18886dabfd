import { randomBytes, randomUUID } from 'node:crypto';

import type { ConnectProduct } from '../config/connect-product.js';

/** Options of {@link FakeForgeApi.issueTokens}. */
export interface FakeForgeTokenOptions {
  /** The Forge installation the tokens belong to (`ari:cloud:ecosystem::installation/<uuid>`). */
  installationId: string;
  /** The account the user token acts as. Default: a fresh sample account id. */
  accountId?: string;
  /** The Forge app id, reported as the caller's app. Default `forge-app`. */
  appId?: string;
}

/** Tokens as Forge hands them to a remote (`x-forge-oauth-system`, `x-forge-oauth-user`), plus where to use them. */
export interface FakeForgeTokens {
  systemToken: string;
  userToken: string;
  /** `http://127.0.0.1:<port>/ex/<product>/<cloudId>`: the FIT's `app.apiBaseUrl` for this site. */
  apiBaseUrl: string;
  cloudId: string;
  installationId: string;
  /** The account of the user token. */
  accountId: string;
}

/** Who a Forge token authenticated. */
export interface FakeForgeCaller {
  /** `system`: the app's own token; `user`: the user's token. */
  principal: 'system' | 'user';
  installationId: string;
  appId: string;
  /** The user's account, or the app's own account for the system token. */
  accountId: string;
}

/** Why a Forge request was refused (see {@link FakeForgeApi.authenticate}). */
export interface FakeForgeRefusal {
  reason: 'missing-credentials' | 'unknown-forge-token' | 'revoked-forge-token';
  message: string;
}

/** The account id the system token acts as. */
export function forgeSystemAccountId(appId: string): string {
  return `forge-app_${appId}`;
}

/**
 * The `api.atlassian.com` side of one fake site: the REST API under `/ex/<product>/<cloudId>`, called
 * with Forge OAuth tokens. Part of a {@link FakeProductApi} (`api.forge`, also `site.forge` of
 * `FakeConnectHost.startSite()`); register tokens with `issueTokens`, give the app the FIT's
 * `apiBaseUrl` and these tokens, and the site serves its usual routes there (Confluence with or
 * without the `/wiki` context path), refusing anything but a registered Bearer token with 401.
 */
export class FakeForgeApi {
  readonly cloudId: string;
  /** `http://127.0.0.1:<port>/ex/<product>/<cloudId>` */
  readonly apiBaseUrl: string;
  private readonly prefix: string;
  private readonly tokens = new Map<string, FakeForgeCaller & { revoked: boolean }>();

  constructor(
    origin: string,
    private readonly product: ConnectProduct,
    cloudId: string = randomUUID(),
  ) {
    this.cloudId = cloudId;
    this.prefix = `/ex/${product}/${cloudId}`;
    this.apiBaseUrl = `${origin}${this.prefix}`;
  }

  /** A system token and a user token for one installation, accepted from now on. */
  issueTokens(options: FakeForgeTokenOptions): FakeForgeTokens {
    if (typeof options?.installationId !== 'string' || options.installationId === '') throw new TypeError('installationId is required');
    const appId = options.appId ?? 'forge-app';
    const accountId = options.accountId ?? `5b10a2844c20165700ede${randomBytes(2).toString('hex')}`;
    const systemToken = `forge-system.${randomBytes(24).toString('base64url')}`;
    const userToken = `forge-user.${randomBytes(24).toString('base64url')}`;
    const installationId = options.installationId;
    this.tokens.set(systemToken, { principal: 'system', installationId, appId, accountId: forgeSystemAccountId(appId), revoked: false });
    this.tokens.set(userToken, { principal: 'user', installationId, appId, accountId, revoked: false });
    return { systemToken, userToken, apiBaseUrl: this.apiBaseUrl, cloudId: this.cloudId, installationId, accountId };
  }

  /** Refuses a token from now on (401 `revoked-forge-token`), as Forge does once it expired. */
  revoke(token: string): boolean {
    const entry = this.tokens.get(token);
    if (entry === undefined) return false;
    entry.revoked = true;
    return true;
  }

  /** Whether a raw request path is under `apiBaseUrl`. */
  owns(path: string): boolean {
    return path === this.prefix || path.startsWith(`${this.prefix}/`);
  }

  /**
   * The product-relative path of a request under `apiBaseUrl` (`/rest/api/3/myself`), or undefined when
   * it is not under it. Confluence answers with and without its `/wiki` context path, like the gateway.
   */
  relativePath(path: string): string | undefined {
    if (!this.owns(path)) return undefined;
    const rest = path.slice(this.prefix.length) || '/';
    if (this.product === 'confluence' && (rest === '/wiki' || rest.startsWith('/wiki/'))) return rest.slice('/wiki'.length) || '/';
    return rest;
  }

  /** Checks an Authorization header: only `Bearer <registered token>` passes. */
  authenticate(authorization: string | undefined): FakeForgeCaller | FakeForgeRefusal {
    const match = /^Bearer\s+(\S+)\s*$/i.exec(authorization ?? '');
    if (match === null) {
      return { reason: 'missing-credentials', message: 'Calls under apiBaseUrl need "Authorization: Bearer <Forge OAuth token>".' };
    }
    const entry = this.tokens.get(match[1]!);
    if (entry === undefined) return { reason: 'unknown-forge-token', message: 'The bearer token is not a Forge token issued for this site.' };
    if (entry.revoked) return { reason: 'revoked-forge-token', message: 'The Forge token has expired.' };
    const { revoked: _revoked, ...caller } = entry;
    return caller;
  }
}

export function isForgeRefusal(value: FakeForgeCaller | FakeForgeRefusal): value is FakeForgeRefusal {
  return 'reason' in value;
}
