import { randomBytes, randomUUID } from 'node:crypto';
import { SignJWT, type JWTPayload } from 'jose';
import { queryStringHash } from '../auth/jwt/canonical-request.js';
import type { ConnectProduct } from '../config/connect-product.js';
import { LIFECYCLE_PATHS, type LifecycleEventName } from '../config/resolved-connect-app.js';
import { FakeAuthorizationServer } from './fake-authorization-server.js';
import type { FakeForgeApi } from './fake-forge-api.js';
import { FakeProductApi, type FakeProductApiOptions } from './fake-product-api.js';
import { httpCall, type HttpCallResponse } from './http-call.js';
import { createInstallKeyPair, type InstallKeyPair } from './install-key-pair.js';
import { InstallKeyServer } from './install-key-server.js';
import { signConnectToken, type ClaimOverrides, type SignConnectTokenOptions } from './sign-connect-token.js';

/** The app under test, as the product sees it. */
export interface FakeHostApp {
  key: string;
  product: ConnectProduct;
  /** The app's public baseUrl (what signed installs put in `aud`). */
  baseUrl: string;
  /**
   * Where requests are really sent, e.g. `http://127.0.0.1:3000` for an app listening locally. The
   * baseUrl's path is appended, and the Host header keeps the baseUrl's host. Default: the baseUrl.
   */
  via?: string;
  /**
   * The app's descriptor scopes. When given, sites with a real API (see {@link FakeConnectHost.startSite})
   * only issue user tokens if they include `ACT_AS_USER`, as the product does.
   */
  scopes?: readonly string[];
}

/** One simulated Jira or Confluence Cloud site. */
export interface FakeSite {
  clientKey: string;
  sharedSecret: string;
  /** e.g. `https://fake-1a2b.atlassian.net` (Confluence: with `/wiki`). */
  baseUrl: string;
  product: ConnectProduct;
  oauthClientId: string;
  installationId: string;
}

/** A site with a real local REST API ({@link FakeConnectHost.startSite}); its `baseUrl` is the API's URL. */
export interface FakeApiSite extends FakeSite {
  api: FakeProductApi;
  /**
   * The API under the Forge `apiBaseUrl` (`api.forge`): `site.forge.issueTokens({ installationId: site.installationId })`
   * gives the system and user tokens a Forge Remote call would carry.
   */
  forge: FakeForgeApi;
}

export interface FakeConnectHostOptions {
  /** Port of the install-key server on 127.0.0.1. Default: a free one. */
  keysPort?: number;
  /** Port of the OAuth 2.0 authorization server on 127.0.0.1. Default: a free one. */
  authorizationServerPort?: number;
}

/** Options of {@link FakeConnectHost.startSite}. */
export interface FakeSiteStartOptions extends Omit<FakeProductApiOptions, 'product' | 'authorizationServer'> {
  /** Overrides of the generated site (clientKey, sharedSecret, oauthClientId, installationId). */
  site?: Partial<Omit<FakeSite, 'baseUrl' | 'product'>>;
}

/** Ways to make a lifecycle call wrong on purpose. */
export interface LifecycleCallOptions {
  /** How the token is signed: RS256 with the host's key (default), HS256 with the site's secret, `none`, or no token at all. */
  signing?: 'RS256' | 'HS256' | 'none' | 'omit';
  /** Overrides the `kid` header of an RS256 token. */
  kid?: string;
  /** Signs with this key pair instead of the host's (its kid is used unless `kid` is given). */
  keyPair?: InstallKeyPair;
  /** Overrides claims (`aud`, `iss`, `qsh`, `exp`, …); `undefined` values remove a claim. */
  claims?: ClaimOverrides | undefined;
  /** Overrides or adds payload fields; `undefined` values remove a field. */
  payload?: Record<string, unknown>;
  /** Send the token in the `jwt` query parameter instead of the Authorization header. */
  tokenInQuery?: boolean;
  /**
   * The lifecycle URL relative to the app's baseUrl, as the descriptor declares it (may carry a query).
   * Default: the framework's (`/installed`, `/uninstalled`, `/enabled`, `/disabled`).
   */
  path?: string;
}

/**
 * A stand-in for Atlassian: an install-key server with a real RSA key pair, and methods that perform
 * signed installs, uninstalls, enables and disables against an app over real HTTP, and sign the HS256
 * tokens the product would put on requests.
 *
 * @example
 * ```ts
 * const host = await FakeConnectHost.start();             // give the app host.installKeysUrl
 * const app = { key: 'com.example.jira', product: 'jira', baseUrl: 'http://localhost/jira', via: appUrl };
 * const site = host.newSite('jira');
 * expect((await host.install(app, site)).status).toBe(204);
 * const token = await host.tokenFor(app, site, 'GET', '/jira/api/whoami');
 * ```
 *
 * For the app's outbound calls, `await host.startSite('jira')` gives a site whose `baseUrl` is a real
 * local REST API ({@link FakeProductApi}); once `host.install(app, site)` succeeded, that API accepts
 * the app's JWTs, and `host.authorizationServerUrl` issues user tokens (JWT-bearer grant) for it.
 */
export class FakeConnectHost {
  private keyPair: InstallKeyPair;
  private readonly apis = new Map<string, FakeProductApi>();

  private constructor(
    readonly keyServer: InstallKeyServer,
    keyPair: InstallKeyPair,
    /** The OAuth 2.0 authorization server shared by every site started with {@link FakeConnectHost.startSite}. */
    readonly authorizationServer: FakeAuthorizationServer,
  ) {
    this.keyPair = keyPair;
  }

  static async start(options: FakeConnectHostOptions = {}): Promise<FakeConnectHost> {
    const keyPair = await createInstallKeyPair();
    const keyServer = await InstallKeyServer.start({ port: options.keysPort ?? 0 });
    keyServer.add(keyPair);
    let authorizationServer: FakeAuthorizationServer;
    try {
      authorizationServer = await FakeAuthorizationServer.start({ port: options.authorizationServerPort ?? 0 });
    } catch (error) {
      await keyServer.close();
      throw error;
    }
    return new FakeConnectHost(keyServer, keyPair, authorizationServer);
  }

  /** The authorization server URL to configure in the app (the JWT-bearer assertion's `aud`; token endpoint `<url>/oauth2/token`). */
  get authorizationServerUrl(): string {
    return this.authorizationServer.url;
  }

  /** The URL to configure as the app's `installKeysUrl`. */
  get installKeysUrl(): string {
    return this.keyServer.url;
  }

  /** The kid signed installs currently carry. */
  get kid(): string {
    return this.keyPair.kid;
  }

  /** Switches to a new signing key with a new kid, as Atlassian does when it rotates keys. */
  async rotateKey(): Promise<InstallKeyPair> {
    this.keyPair = await createInstallKeyPair();
    this.keyServer.add(this.keyPair);
    return this.keyPair;
  }

  /** A new site with a fresh clientKey and shared secret. */
  newSite(product: ConnectProduct, overrides: Partial<FakeSite> = {}): FakeSite {
    const name = `fake-${randomBytes(4).toString('hex')}`;
    return {
      clientKey: randomUUID(),
      sharedSecret: randomBytes(32).toString('base64url'),
      baseUrl: `https://${name}.atlassian.net${product === 'confluence' ? '/wiki' : ''}`,
      product,
      oauthClientId: randomBytes(16).toString('hex'),
      installationId: `ari:cloud:ecosystem::installation/${randomUUID()}`,
      ...overrides,
    };
  }

  /**
   * A new site with a real REST API on 127.0.0.1: its `baseUrl` is `http://127.0.0.1:<port>` (Confluence:
   * `…/wiki`). The API accepts an app's JWTs once `install(app, site)` succeeded (2xx), and forgets the
   * app again after a successful `uninstall`. `close()` stops it.
   */
  async startSite(product: ConnectProduct, options: FakeSiteStartOptions = {}): Promise<FakeApiSite> {
    const { site: overrides, ...apiOptions } = options;
    const api = await FakeProductApi.start({ ...apiOptions, product, authorizationServer: this.authorizationServer });
    this.apis.set(api.baseUrl, api);
    return { ...this.newSite(product, overrides), baseUrl: api.baseUrl, api, forge: api.forge };
  }

  /** The REST API of a site started with {@link FakeConnectHost.startSite} (also found for copies such as `rotateSecret(site)`). */
  apiOf(site: FakeSite): FakeProductApi | undefined {
    return (site as Partial<FakeApiSite>).api ?? this.apis.get(site.baseUrl.replace(/\/+$/, ''));
  }

  /** The same site after a secret rotation (what a re-install carries). */
  rotateSecret(site: FakeSite): FakeSite {
    return { ...site, sharedSecret: randomBytes(32).toString('base64url') };
  }

  /** The body the product posts to a lifecycle URL (PROTOCOL.md §2). */
  lifecyclePayload(app: FakeHostApp, site: FakeSite, event: LifecycleEventName): Record<string, unknown> {
    return {
      key: app.key,
      clientKey: site.clientKey,
      ...(event === 'installed' && { sharedSecret: site.sharedSecret }),
      baseUrl: site.baseUrl,
      displayUrl: site.baseUrl,
      displayUrlServicedeskHelpCenter: site.baseUrl,
      productType: site.product,
      description: `Atlassian ${site.product === 'jira' ? 'JIRA' : 'Confluence'} at ${site.baseUrl}`,
      serviceEntitlementNumber: '1234567',
      entitlementId: randomUUID(),
      entitlementNumber: 'E-123-456-789',
      oauthClientId: site.oauthClientId,
      installationId: site.installationId,
      eventType: event,
    };
  }

  install(app: FakeHostApp, site: FakeSite, options?: LifecycleCallOptions): Promise<HttpCallResponse> {
    return this.lifecycle('installed', app, site, options);
  }

  uninstall(app: FakeHostApp, site: FakeSite, options?: LifecycleCallOptions): Promise<HttpCallResponse> {
    return this.lifecycle('uninstalled', app, site, options);
  }

  enable(app: FakeHostApp, site: FakeSite, options?: LifecycleCallOptions): Promise<HttpCallResponse> {
    return this.lifecycle('enabled', app, site, { signing: 'HS256', ...options });
  }

  disable(app: FakeHostApp, site: FakeSite, options?: LifecycleCallOptions): Promise<HttpCallResponse> {
    return this.lifecycle('disabled', app, site, { signing: 'HS256', ...options });
  }

  /** Posts one lifecycle callback the way the product does. */
  async lifecycle(event: LifecycleEventName, app: FakeHostApp, site: FakeSite, options: LifecycleCallOptions = {}): Promise<HttpCallResponse> {
    const relative = options.path ?? LIFECYCLE_PATHS[event];
    const path = new URL(app.baseUrl).pathname.replace(/\/+$/, '') + (relative.startsWith('/') ? relative : `/${relative}`);
    const payload = withOverrides(this.lifecyclePayload(app, site, event), options.payload);
    const signing = options.signing ?? 'RS256';
    const headers: Record<string, string> = {};
    let url = path;
    if (signing !== 'omit') {
      const claims = withOverrides(
        {
          iss: site.clientKey,
          aud: app.baseUrl,
          qsh: queryStringHash('POST', path, app.baseUrl),
          iat: nowSeconds(),
          exp: nowSeconds() + 180,
        },
        options.claims,
      );
      const token = await this.signLifecycleToken(signing, claims, site, options);
      if (options.tokenInQuery) url = `${path}${path.includes('?') ? '&' : '?'}jwt=${token}`;
      else headers.authorization = `JWT ${token}`;
    }
    const response = await this.send(app, 'POST', url, { headers, body: payload });
    if (response.status >= 200 && response.status < 300) this.recordOnApi(event, app, site, payload);
    return response;
  }

  /** An HS256 token for a request to the app, as the product signs it. */
  tokenFor(app: FakeHostApp, site: FakeSite, method: string, pathAndQuery: string, options: Partial<SignConnectTokenOptions> = {}): Promise<string> {
    return signConnectToken({ clientKey: site.clientKey, sharedSecret: site.sharedSecret, method, url: pathAndQuery, appBaseUrl: app.baseUrl, ...options });
  }

  /** Sends a request to the app (path relative to the app's origin, e.g. `/jira/api/whoami?x=1`). */
  send(app: FakeHostApp, method: string, pathAndQuery: string, options: { headers?: Record<string, string>; body?: unknown } = {}): Promise<HttpCallResponse> {
    const base = new URL(app.baseUrl);
    const target = new URL(app.via ?? base.origin);
    return httpCall({ method, url: target.origin + pathAndQuery, host: base.host, headers: options.headers, body: options.body });
  }

  async close(): Promise<void> {
    const apis = [...this.apis.values()];
    this.apis.clear();
    await Promise.all([this.keyServer.close(), this.authorizationServer.close(), ...apis.map((api) => api.close())]);
  }

  /** Keeps a site's REST API in step with what the app accepted: it trusts the secret the app stored. */
  private recordOnApi(event: LifecycleEventName, app: FakeHostApp, site: FakeSite, payload: Record<string, unknown>): void {
    const api = this.apiOf(site);
    if (api === undefined) return;
    if (event === 'uninstalled') {
      api.uninstall(app.key);
      return;
    }
    if (event !== 'installed') return;
    const text = (name: string, fallback: string | undefined) => (typeof payload[name] === 'string' ? (payload[name] as string) : fallback);
    const sharedSecret = text('sharedSecret', undefined);
    if (sharedSecret === undefined) return;
    const oauthClientId = text('oauthClientId', undefined);
    api.install({
      appKey: text('key', app.key)!,
      clientKey: text('clientKey', site.clientKey)!,
      sharedSecret,
      ...(oauthClientId !== undefined && { oauthClientId }),
      ...(app.scopes !== undefined && { scopes: app.scopes }),
    });
  }

  private async signLifecycleToken(signing: 'RS256' | 'HS256' | 'none', claims: JWTPayload, site: FakeSite, options: LifecycleCallOptions): Promise<string> {
    if (signing === 'none') {
      const encode = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');
      return `${encode({ alg: 'none', typ: 'JWT' })}.${encode(claims)}.`;
    }
    if (signing === 'HS256') {
      return new SignJWT(claims).setProtectedHeader({ alg: 'HS256', typ: 'JWT' }).sign(new TextEncoder().encode(site.sharedSecret));
    }
    const keyPair = options.keyPair ?? this.keyPair;
    return new SignJWT(claims).setProtectedHeader({ alg: 'RS256', typ: 'JWT', kid: options.kid ?? keyPair.kid }).sign(keyPair.privateKey);
  }
}

function nowSeconds(): number {
  return Math.floor(Date.now() / 1000);
}

function withOverrides<T extends Record<string, unknown>>(base: T, overrides: Record<string, unknown> | undefined): T {
  if (overrides === undefined) return base;
  const result: Record<string, unknown> = { ...base };
  for (const [name, value] of Object.entries(overrides)) {
    if (value === undefined) delete result[name];
    else result[name] = value;
  }
  return result as T;
}
