import { createSecretKey } from 'node:crypto';
import { Logger } from '@nestjs/common';
import { SignJWT } from 'jose';
import type { ConnectTenant } from '../tenants/tenant.js';
import { LruCache } from '../util/lru-cache.js';
import { ConnectClientError } from './connect-client-error.js';

const JWT_BEARER = 'urn:ietf:params:oauth:grant-type:jwt-bearer';
/** A cached token is dropped this long before the product says it expires. */
const EXPIRY_MARGIN_MS = 60_000;

export interface UserTokenProviderOptions {
  authorizationServerUrl: string;
  cacheSize: number;
  timeoutMs: number;
}

/**
 * Access tokens for acting as a user (OAuth 2.0 JWT-bearer grant, scope ACT_AS_USER). Tokens are cached
 * per (tenant, account, scopes) until a minute before they expire, in a bounded cache; concurrent
 * callers wanting the same token share one request to the authorization server.
 */
export class UserTokenProvider {
  private readonly logger = new Logger('ConnectClient');
  private readonly cache: LruCache<string, { token: string; expiresAt: number }>;
  private readonly inFlight = new Map<string, Promise<string>>();
  private requests = 0;

  constructor(private readonly options: UserTokenProviderOptions) {
    this.cache = new LruCache(options.cacheSize);
  }

  /** Token requests made so far (for diagnostics and tests). */
  get tokenRequests(): number {
    return this.requests;
  }

  async token(tenant: ConnectTenant, accountId: string, scopes: readonly string[]): Promise<string> {
    const scope = [...new Set(scopes.map((s) => s.toUpperCase()))].sort().join(' ');
    const key = `${tenant.appKey}\n${tenant.clientKey}\n${tenant.oauthClientId}\n${accountId}\n${scope}`;
    const cached = this.cache.get(key);
    if (cached !== undefined && cached.expiresAt > Date.now()) return cached.token;
    let pending = this.inFlight.get(key);
    if (pending === undefined) {
      pending = this.fetchToken(tenant, accountId, scope)
        .then(({ token, expiresInSeconds }) => {
          const expiresAt = Date.now() + expiresInSeconds * 1000 - EXPIRY_MARGIN_MS;
          if (expiresAt > Date.now()) this.cache.set(key, { token, expiresAt });
          return token;
        })
        .finally(() => this.inFlight.delete(key));
      this.inFlight.set(key, pending);
    }
    return pending;
  }

  private async fetchToken(tenant: ConnectTenant, accountId: string, scope: string): Promise<{ token: string; expiresInSeconds: number }> {
    const endpoint = `${this.options.authorizationServerUrl.replace(/\/+$/, '')}/oauth2/token`;
    const facts = { method: 'POST', url: endpoint, retries: 0 };
    if (!tenant.oauthClientId) {
      throw new ConnectClientError(
        'client/user-token',
        `Cannot act as a user on ${tenant.baseUrl}: the installation has no oauthClientId. Add the ACT_AS_USER scope to the descriptor and have the site re-install the app.`,
        facts,
      );
    }
    const iat = Math.floor(Date.now() / 1000);
    const assertion = await new SignJWT({
      iss: `urn:atlassian:connect:clientid:${tenant.oauthClientId}`,
      sub: `urn:atlassian:connect:useraccountid:${accountId}`,
      tnt: tenant.baseUrl,
      aud: this.options.authorizationServerUrl.replace(/\/+$/, ''),
      iat,
      exp: iat + 60,
    })
      .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
      .sign(createSecretKey(Buffer.from(tenant.sharedSecret, 'utf8')));
    this.requests++;
    this.logger.debug(`Requesting a user token for ${accountId} on ${tenant.baseUrl} (scopes ${scope || 'none'}).`);
    let response: Response;
    try {
      response = await fetch(endpoint, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
        body: new URLSearchParams({ grant_type: JWT_BEARER, assertion, scope }).toString(),
        signal: AbortSignal.timeout(this.options.timeoutMs),
        redirect: 'manual',
      });
    } catch (error) {
      throw new ConnectClientError('client/user-token', `The authorization server at ${new URL(endpoint).origin} could not be reached.`, facts, error);
    }
    const text = await response.text().catch(() => '');
    if (response.status === 401 || response.status === 403) {
      throw new ConnectClientError(
        'client/user-token',
        `The authorization server refused to let the app act as user ${accountId} (HTTP ${response.status}). Check that the descriptor has the ACT_AS_USER scope and that the site re-installed the app since.`,
        { ...facts, status: response.status },
      );
    }
    let body: { access_token?: unknown; expires_in?: unknown } = {};
    try {
      body = JSON.parse(text) as typeof body;
    } catch {
      // handled below
    }
    if (!response.ok || typeof body.access_token !== 'string') {
      throw new ConnectClientError('client/user-token', `The authorization server answered HTTP ${response.status} without an access token.`, {
        ...facts,
        status: response.status,
      });
    }
    const expiresInSeconds = typeof body.expires_in === 'number' && body.expires_in > 0 ? body.expires_in : 900;
    return { token: body.access_token, expiresInSeconds };
  }
}
