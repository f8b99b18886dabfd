import { createHmac, randomBytes, randomUUID } from 'node:crypto';
import { SignJWT } from 'jose';
import { FORGE_INVOCATION_TOKEN_ISSUER, forgeAppAri } from '../forge/forge-app-id.js';
import { FORGE_OAUTH_SYSTEM_HEADER, FORGE_OAUTH_USER_HEADER } from '../forge/forge-auth.constants.js';
import { FORGE_INSTALLATION_ARI_PREFIX } from '../forge/forge-token-claims.js';
import {
  DEFAULT_FORGE_ENDPOINT_KEY,
  deliverToForgeRemote,
  FORGE_DELIVERY_TIMEOUT_MS,
  FORGE_PRE_UNINSTALL_TIMEOUT_MS,
  type ForgeDeliveryOptions,
  type ForgeDeliveryReport,
  type ForgeLifecycleEventOptions,
  type ForgeTriggerOptions,
} from './fake-forge-delivery.js';
import { DEFAULT_REALM_MIGRATION_MODULE_KEY, driveRealmMigration, type RealmMigrationDriveOptions, type RealmMigrationReport } from './fake-realm-migration.js';
import { createForgeKeyPair, type ForgeKeyPair } from './fake-forge-keys.js';
import { ForgeJwksServer } from './fake-forge-jwks-server.js';
import { httpCall, type HttpCallResponse } from './http-call.js';
import { definedClaims, type ClaimOverrides } from './sign-connect-token.js';

export interface FakeForgeHostOptions {
  /** Port of the JWKS server on 127.0.0.1. Default: a free one. */
  jwksPort?: number;
  /** The Forge app id tokens are minted for when a call names none. */
  appId?: string;
}

/** What goes into a minted Forge Invocation Token. Every field has a sensible default. */
export interface MintInvocationTokenOptions {
  /** The Forge app id (`aud` = `ari:cloud:ecosystem::app/<appId>`, `app.id`). Default: the host's `appId`. */
  appId?: string;
  /** `app.installationId`. Default: the host's installation id (one per host). */
  installationId?: string;
  /** `app.apiBaseUrl`. Default `https://api.atlassian.com/ex/jira/<cloudId>`. */
  apiBaseUrl?: string;
  /** `principal`: the user's account id; `null` for an app-initiated call (no principal). Default a sample id. */
  principal?: string | null;
  /** `context` claim. Default `{ cloudId, siteUrl, moduleKey }`. */
  context?: Record<string, unknown>;
  /** `app.module`. Default `{ type: 'xen:macro', key: 'hello-remote' }`; `null` for none. */
  module?: { type?: string; key?: string } | null;
  /** `app.appVersion`. Default `'1.0.0'`; `null` for none. */
  appVersion?: string | null;
  /** `app.license`. Default none (as in development); e.g. `{ isActive: false }` for an unlicensed site. */
  license?: { isActive?: boolean; type?: string; isEvaluation?: boolean } | null;
  /** `app.environment`. Default `{ type: 'DEVELOPMENT', id: <a stable id> }`. */
  environment?: { type?: string; id?: string };
  /** Top-level `icLabel`: the call comes from that Isolated Cloud environment (sign with its host's key). Default none. */
  icLabel?: string;
  /** Seconds from now until `exp` (negative: already expired). Default 300. */
  expiresIn?: number;
  /** Seconds from now of `nbf` (positive: not valid yet). Default `issuedAt`. */
  notBefore?: number;
  /** Seconds from now of `iat`. Default 0, or 300 s before `exp` for a token already expired (so it was valid once). */
  issuedAt?: number;
  /** Overrides the `kid` header (e.g. a kid the JWKS does not list). Default: the signing key's. */
  kid?: string;
  /** Signs with this key instead of the host's current one (its kid is used unless `kid` is given). */
  keyPair?: ForgeKeyPair;
  /** `iss`. Default `forge/invocation-token`. */
  iss?: string;
  /** `aud`, as is. Default: the ARI of `appId`. */
  aud?: string | string[];
  /** `RS256` (default), `HS256` (with `hmacSecret`) or `none`: the last two must always be refused. */
  alg?: 'RS256' | 'HS256' | 'none';
  /** The secret of an HS256 token. Default a fixed test string. */
  hmacSecret?: string;
  /** Further claims, merged last; `undefined` values remove a claim. */
  claims?: ClaimOverrides | undefined;
}

/** A Forge Remote call as Forge makes it. */
export interface ForgeInvokeOptions {
  /** Default POST (what events and scheduled triggers use). */
  method?: string;
  /** Appended to the URL given to `invoke`. Default ''. */
  path?: string;
  /** Sent as JSON. Default `{}` for methods with a body. */
  body?: unknown;
  /** The FIT to send as is; default one minted from `token`. `null` sends no Authorization header. */
  fit?: string | null;
  /** How the FIT is minted (when `fit` is not given). */
  token?: MintInvocationTokenOptions;
  /** Sent as `x-forge-oauth-system`. */
  systemToken?: string;
  /** Sent as `x-forge-oauth-user`. */
  userToken?: string;
  /** Further headers. */
  headers?: Record<string, string>;
  /** Overrides the Host header. */
  host?: string;
}

/** The sample user of minted tokens. */
export const SAMPLE_FORGE_ACCOUNT_ID = '5b10ac8d82e05b22cc7d4ef5';

/** The `preUninstall` module key `runPreUninstall` names when given none. */
export const DEFAULT_FORGE_PRE_UNINSTALL_KEY = 'pre-uninstall';

/**
 * A stand-in for Forge calling a Forge Remote endpoint: a real JWKS server on 127.0.0.1 with a real RSA
 * key pair, FIT minting (with every way to get one wrong), key rotation, and `invoke()` which sends the
 * request the way Forge does (`Authorization: Bearer <FIT>` plus the `x-forge-oauth-*` tokens), and
 * deliveries of events and triggers with Forge's timeouts and redeliveries (`sendEvent`,
 * `sendInstalledEvent`, `runScheduledTrigger`, `runPreUninstall`).
 *
 * @example
 * ```ts
 * const forge = await FakeForgeHost.start({ appId });      // give the app forge.jwksUrl = forge.jwksUrl
 * const res = await forge.invoke(`${appUrl}/forge/remote/hello`, { systemToken: 'sys', userToken: 'usr' });
 * expect(res.status).toBe(200);
 * const report = await forge.sendInstalledEvent(`${appUrl}/forge/events`, { systemToken: 'sys', retryDelayMs: 10 });
 * expect(report.delivered).toBe(true);
 * ```
 */
export class FakeForgeHost {
  /** The installation id minted tokens carry by default. */
  readonly installationId = `${FORGE_INSTALLATION_ARI_PREFIX}${randomUUID()}`;
  /** The environment id minted tokens carry by default. */
  readonly environmentId = `ari:cloud:ecosystem::environment/${randomUUID()}`;
  readonly cloudId = randomUUID();
  /** The site URL minted tokens carry in `context.siteUrl` by default. */
  readonly siteUrl = `https://fake-${this.cloudId.slice(0, 8)}.atlassian.net`;
  private key: ForgeKeyPair;

  private constructor(
    /** The JWKS server: fetch counts and fault controls. */
    readonly jwks: ForgeJwksServer,
    key: ForgeKeyPair,
    readonly appId: string | undefined,
  ) {
    this.key = key;
  }

  static async start(options: FakeForgeHostOptions = {}): Promise<FakeForgeHost> {
    const key = await createForgeKeyPair();
    const jwks = await ForgeJwksServer.start({ port: options.jwksPort ?? 0 });
    jwks.addKey(key.publicJwk);
    return new FakeForgeHost(jwks, key, options.appId);
  }

  /** What the app must use as `forge.jwksUrl`. */
  get jwksUrl(): string {
    return this.jwks.url;
  }

  /** The key tokens are signed with now. */
  get signingKey(): ForgeKeyPair {
    return this.key;
  }

  /**
   * Rotates the signing key: a new key pair with a new kid is published in the JWKS and signs from now
   * on. The old key stays listed unless `retire` is set.
   */
  async rotateKey(options: { retire?: boolean } = {}): Promise<ForgeKeyPair> {
    const next = await createForgeKeyPair();
    if (options.retire) this.jwks.removeKey(this.key.kid);
    this.jwks.addKey(next.publicJwk);
    this.key = next;
    return next;
  }

  /** Mints a Forge Invocation Token (see {@link MintInvocationTokenOptions} for the defaults). */
  async mintInvocationToken(options: MintInvocationTokenOptions = {}): Promise<string> {
    const appId = options.appId ?? this.appId;
    if (appId === undefined) throw new Error('mintInvocationToken needs an appId (or FakeForgeHost.start({ appId })).');
    const now = Math.floor(Date.now() / 1000);
    const module = options.module === null ? undefined : { type: 'xen:macro', key: 'hello-remote', ...options.module };
    const expiresIn = options.expiresIn ?? 300;
    const issuedAt = options.issuedAt ?? (expiresIn <= 0 ? expiresIn - 300 : 0);
    const payload: ClaimOverrides = {
      iss: options.iss ?? FORGE_INVOCATION_TOKEN_ISSUER,
      aud: options.aud ?? forgeAppAri(appId),
      iat: now + issuedAt,
      nbf: now + (options.notBefore ?? issuedAt),
      exp: now + expiresIn,
      jti: randomUUID(),
      app: {
        id: forgeAppAri(appId),
        installationId: options.installationId ?? this.installationId,
        apiBaseUrl: options.apiBaseUrl ?? `https://api.atlassian.com/ex/jira/${this.cloudId}`,
        environment: { type: 'DEVELOPMENT', id: this.environmentId, ...options.environment },
        ...(module !== undefined && { module }),
        ...(options.appVersion !== null && { appVersion: options.appVersion ?? '1.0.0' }),
        ...(options.license !== undefined && options.license !== null && { license: options.license }),
      },
      context: options.context ?? { cloudId: this.cloudId, siteUrl: this.siteUrl, moduleKey: module?.key },
      ...(options.principal !== null && { principal: options.principal ?? SAMPLE_FORGE_ACCOUNT_ID }),
      ...(options.icLabel !== undefined && { icLabel: options.icLabel }),
      ...options.claims,
    };
    const signed = definedClaims(payload);

    const alg = options.alg ?? 'RS256';
    const keyPair = options.keyPair ?? this.key;
    const kid = options.kid ?? keyPair.kid;
    if (alg === 'RS256') return new SignJWT(signed).setProtectedHeader({ alg: 'RS256', kid, typ: 'JWT' }).sign(keyPair.privateKey);
    const head = base64url(JSON.stringify({ alg, kid, typ: 'JWT' }));
    const body = base64url(JSON.stringify(signed));
    if (alg === 'none') return `${head}.${body}.`;
    const signature = createHmac('sha256', options.hmacSecret ?? 'not-a-forge-key')
      .update(`${head}.${body}`)
      .digest('base64url');
    return `${head}.${body}.${signature}`;
  }

  /** Calls a Forge Remote endpoint at `url` (+ `path`) as Forge would. */
  async invoke(url: string, options: ForgeInvokeOptions = {}): Promise<HttpCallResponse> {
    const method = (options.method ?? 'POST').toUpperCase();
    const fit = options.fit === undefined ? await this.mintInvocationToken(options.token) : options.fit;
    const headers: Record<string, string> = { accept: 'application/json', ...options.headers };
    if (fit !== null) headers.authorization = `Bearer ${fit}`;
    if (options.systemToken !== undefined) headers[FORGE_OAUTH_SYSTEM_HEADER] = options.systemToken;
    if (options.userToken !== undefined) headers[FORGE_OAUTH_USER_HEADER] = options.userToken;
    const hasBody = method !== 'GET' && method !== 'HEAD' && method !== 'DELETE';
    return httpCall({
      method,
      url: `${url}${options.path ?? ''}`,
      headers,
      ...(options.host !== undefined && { host: options.host }),
      ...(hasBody && { body: options.body ?? {} }),
    });
  }

  /**
   * Delivers a Forge event (a `trigger` module's) as Forge does: POST `{ payload: { eventType, …payload } }`
   * with a fresh FIT (module `core:endpoint`, no principal) per attempt, redelivering a failed one (not
   * 2xx within `timeoutMs`) up to `retries` times with `payload.retryContext`.
   *
   * @example
   * ```ts
   * const report = await forge.sendEvent(`${appUrl}/forge/events`, 'avi:jira:created:issue', { issue: { key: 'WEB-1' } }, { retryDelayMs: 10 });
   * expect(report.attempts.map((a) => a.status)).toEqual([200]);
   * ```
   */
  sendEvent(url: string, eventType: string, payload: Record<string, unknown> = {}, options: ForgeDeliveryOptions = {}): Promise<ForgeDeliveryReport> {
    return this.deliver(url, { eventType, ...payload }, FORGE_DELIVERY_TIMEOUT_MS, options);
  }

  /**
   * Delivers `avi:forge:installed:app` for this host's installation, app and environment (see `sendEvent`).
   *
   * @example
   * ```ts
   * const tokens = site.forge.issueTokens({ installationId: forge.installationId, appId });
   * const report = await forge.sendInstalledEvent(`${appUrl}/forge/events`, { systemToken: tokens.systemToken });
   * expect(report.delivered).toBe(true);
   * ```
   */
  sendInstalledEvent(url: string, options: ForgeLifecycleEventOptions = {}): Promise<ForgeDeliveryReport> {
    return this.sendLifecycleEvent(url, 'avi:forge:installed:app', 'installerAccountId', options);
  }

  /**
   * Delivers `avi:forge:upgraded:app` (a new major version; `appVersion` also goes into the FIT) for this
   * host's installation (see `sendEvent`).
   *
   * @example
   * ```ts
   * const report = await forge.sendUpgradedEvent(`${appUrl}/forge/events`, { appVersion: '2.0.0', systemToken });
   * expect(report.attempts[0]?.status).toBe(200);
   * ```
   */
  sendUpgradedEvent(url: string, options: ForgeLifecycleEventOptions = {}): Promise<ForgeDeliveryReport> {
    return this.sendLifecycleEvent(url, 'avi:forge:upgraded:app', 'upgraderAccountId', options);
  }

  /**
   * Fires a `scheduledTrigger` as Forge does: POST `{ payload: { context: { cloudId, moduleKey }, contextToken } }`,
   * with Forge's timeout and redeliveries (see `sendEvent`).
   *
   * @example
   * ```ts
   * const report = await forge.runScheduledTrigger(`${appUrl}/forge/events/scheduled`, 'hourly-sync', { systemToken });
   * expect(report.delivered).toBe(true);
   * ```
   */
  runScheduledTrigger(url: string, moduleKey: string, options: ForgeTriggerOptions = {}): Promise<ForgeDeliveryReport> {
    return this.deliver(url, this.triggerPayload(moduleKey, options), FORGE_DELIVERY_TIMEOUT_MS, options);
  }

  /**
   * Runs a `preUninstall` module as Forge does, with its 55 s timeout: the body of `runScheduledTrigger`
   * for module `moduleKey` (default `'pre-uninstall'`).
   *
   * @example
   * ```ts
   * const report = await forge.runPreUninstall(`${appUrl}/forge/events/pre-uninstall`, 'cleanup', { systemToken });
   * expect(report.delivered).toBe(true);
   * ```
   */
  runPreUninstall(url: string, moduleKey: string = DEFAULT_FORGE_PRE_UNINSTALL_KEY, options: ForgeTriggerOptions = {}): Promise<ForgeDeliveryReport> {
    return this.deliver(url, this.triggerPayload(moduleKey, options), FORGE_PRE_UNINSTALL_TIMEOUT_MS, options);
  }

  /**
   * Drives a data residency (realm) migration against the hooks under `url` (`<basePath>/forge/realm-migration`)
   * as Atlassian's migration service does: /schedule, /start, /status polls, then /commit, or /rollback
   * when a hook failed, the app reported `failed` or was not `ready-to-commit` in time, or the admin
   * cancelled (`cancelAfter`). Retries and polling follow Atlassian's (2 retries 5 s apart, a poll every
   * 5 minutes); tests shorten them. Every call carries a fresh FIT naming the `migration:dataResidency`
   * module and no user.
   *
   * @example
   * ```ts
   * const report = await forge.migrateRealm(`${appUrl}/jira/forge/realm-migration`, { location: 'EU', pollIntervalMs: 10, retryDelayMs: 10 });
   * expect(report.outcome).toBe('committed');
   * ```
   */
  migrateRealm(url: string, options: RealmMigrationDriveOptions = {}): Promise<RealmMigrationReport> {
    const token = options.token ?? {};
    const fitOptions: MintInvocationTokenOptions = {
      ...token,
      principal: token.principal === undefined ? null : token.principal,
      module: token.module === null ? null : { type: 'migration:dataResidency', key: options.moduleKey ?? DEFAULT_REALM_MIGRATION_MODULE_KEY, ...token.module },
    };
    return driveRealmMigration({ url: url.replace(/\/+$/, ''), options, mintFit: () => this.mintInvocationToken(fitOptions) });
  }

  async close(): Promise<void> {
    await this.jwks.close();
  }

  private sendLifecycleEvent(
    url: string,
    eventType: string,
    accountField: 'installerAccountId' | 'upgraderAccountId',
    options: ForgeLifecycleEventOptions,
  ): Promise<ForgeDeliveryReport> {
    const token = options.token ?? {};
    const appId = token.appId ?? this.appId;
    if (appId === undefined) throw new Error(`${eventType} needs an appId (or FakeForgeHost.start({ appId })).`);
    const installationId = token.installationId ?? this.installationId;
    const version = options.appVersion ?? token.appVersion ?? '1.0.0';
    const payload = {
      id: installationId.startsWith(FORGE_INSTALLATION_ARI_PREFIX) ? installationId.slice(FORGE_INSTALLATION_ARI_PREFIX.length) : installationId,
      [accountField]: options.accountId ?? SAMPLE_FORGE_ACCOUNT_ID,
      app: { id: appId, version, ...(options.appName !== undefined && { name: options.appName }) },
      environment: { id: token.environment?.id ?? this.environmentId },
    };
    // The FIT of the call carries the version the event announces, unless told otherwise.
    return this.sendEvent(url, eventType, payload, { ...options, token: { appVersion: version, ...token } });
  }

  private triggerPayload(moduleKey: string, options: ForgeTriggerOptions): Record<string, unknown> {
    return { context: { cloudId: this.cloudId, moduleKey }, contextToken: options.contextToken ?? randomBytes(32).toString('base64url') };
  }

  private deliver(url: string, payload: Record<string, unknown>, defaultTimeoutMs: number, options: ForgeDeliveryOptions): Promise<ForgeDeliveryReport> {
    const token = options.token ?? {};
    // Forge's event and trigger tokens name the endpoint module and no user.
    const fitOptions: MintInvocationTokenOptions = {
      ...token,
      principal: token.principal === undefined ? null : token.principal,
      module: token.module === null ? null : { type: 'core:endpoint', key: options.endpointKey ?? DEFAULT_FORGE_ENDPOINT_KEY, ...token.module },
    };
    return deliverToForgeRemote({ url, payload, timeoutMs: options.timeoutMs ?? defaultTimeoutMs, options, mintFit: () => this.mintInvocationToken(fitOptions) });
  }
}

function base64url(text: string): string {
  return Buffer.from(text, 'utf8').toString('base64url');
}
