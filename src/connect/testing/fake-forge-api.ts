import { createHmac, randomBytes, randomUUID } from 'node:crypto';

import type { ConnectProduct } from '../config/connect-product.js';

/** Options of {@link FakeForgeApi.issueTokens}. */
export interface FakeForgeTokenOptions {
  /** The Forge installation the tokens belong to (`ari:cloud:ecosystem::installation/<uuid>`). */
  installationId: string;
  /** The account the user token acts as. Default: a fresh sample account id. */
  accountId?: string;
  /** The Forge app id, reported as the caller's app. Default `forge-app`. */
  appId?: string;
  /**
   * Seconds from now until the system token expires (its JWT `exp`); negative: already expired.
   * Default 3600. An expired token is refused with 401 `expired-forge-token`.
   */
  systemTokenExpiresIn?: number;
}

/** Tokens as Forge hands them to a remote (`x-forge-oauth-system`, `x-forge-oauth-user`), plus where to use them. */
export interface FakeForgeTokens {
  /** JWT-shaped (HS256 with a secret of this site), with an `exp` the app can read; opaque otherwise. */
  systemToken: string;
  /** When `systemToken` expires (its `exp`). */
  systemTokenExpiresAt: Date;
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
  reason: 'missing-credentials' | 'unknown-forge-token' | 'revoked-forge-token' | 'expired-forge-token';
  message: string;
}

/** The default lifetime of an issued system token, in seconds. */
export const FAKE_FORGE_SYSTEM_TOKEN_LIFETIME_SECONDS = 3600;

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
  private readonly tokens = new Map<string, FakeForgeCaller & { revoked: boolean; expiresAtMs: number | undefined }>();
  private readonly tokenSecret = randomBytes(32);

  constructor(
    origin: string,
    private readonly product: ConnectProduct,
    cloudId: string = randomUUID(),
  ) {
    this.cloudId = cloudId;
    this.prefix = `/ex/${product}/${cloudId}`;
    this.apiBaseUrl = `${origin}${this.prefix}`;
  }

  /**
   * A system token and a user token for one installation, accepted from now on (the system token until
   * its `exp`, see `systemTokenExpiresIn`).
   *
   * @example
   * ```ts
   * const tokens = site.forge.issueTokens({ installationId: forge.installationId, appId, systemTokenExpiresIn: 2 });
   * await forge.sendInstalledEvent(`${appUrl}/forge/events`, { systemToken: tokens.systemToken });
   * // …after 2 s the app's saved token is answered 401 `expired-forge-token`.
   * ```
   */
  issueTokens(options: FakeForgeTokenOptions): FakeForgeTokens {
    if (typeof options?.installationId !== 'string' || options.installationId === '') throw new TypeError('installationId is required');
    const expiresIn = options.systemTokenExpiresIn ?? FAKE_FORGE_SYSTEM_TOKEN_LIFETIME_SECONDS;
    if (!Number.isFinite(expiresIn)) throw new TypeError('systemTokenExpiresIn must be a finite number of seconds');
    const appId = options.appId ?? 'forge-app';
    const accountId = options.accountId ?? `5b10a2844c20165700ede${randomBytes(2).toString('hex')}`;
    const installationId = options.installationId;
    const nowMs = Date.now();
    // Whole seconds, as in a JWT: the token is refused from the second its `exp` names.
    const exp = Math.floor((nowMs + expiresIn * 1000) / 1000);
    const systemToken = this.signSystemToken({ iat: Math.floor(nowMs / 1000), exp, sub: forgeSystemAccountId(appId), installationId, jti: randomUUID() });
    const userToken = `forge-user.${randomBytes(24).toString('base64url')}`;
    this.tokens.set(systemToken, { principal: 'system', installationId, appId, accountId: forgeSystemAccountId(appId), revoked: false, expiresAtMs: exp * 1000 });
    this.tokens.set(userToken, { principal: 'user', installationId, appId, accountId, revoked: false, expiresAtMs: undefined });
    return { systemToken, systemTokenExpiresAt: new Date(exp * 1000), userToken, apiBaseUrl: this.apiBaseUrl, cloudId: this.cloudId, installationId, accountId };
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
    if (entry.expiresAtMs !== undefined && Date.now() >= entry.expiresAtMs) {
      return { reason: 'expired-forge-token', message: `The Forge token expired at ${new Date(entry.expiresAtMs).toISOString()}.` };
    }
    const { revoked: _revoked, expiresAtMs: _expiresAtMs, ...caller } = entry;
    return caller;
  }

  private signSystemToken(claims: Record<string, unknown>): string {
    const head = Buffer.from(JSON.stringify({ alg: 'HS256', typ: 'JWT' })).toString('base64url');
    const body = Buffer.from(JSON.stringify({ iss: 'forge/system-token', aud: this.apiBaseUrl, ...claims })).toString('base64url');
    const signature = createHmac('sha256', this.tokenSecret).update(`${head}.${body}`).digest('base64url');
    return `${head}.${body}.${signature}`;
  }
}

export function isForgeRefusal(value: FakeForgeCaller | FakeForgeRefusal): value is FakeForgeRefusal {
  return 'reason' in value;
}
