import type { InstallKeyResolver } from '../keys/install-key-resolver.js';
import type { TenantStore } from '../tenants/tenant-store.js';
import type { ConnectTenant } from '../tenants/tenant.js';
import type { ConnectProduct } from './connect-product.js';
import type { ConnectDescriptorInput, ResolvedConnectApp } from './resolved-connect-app.js';

/** One Connect app served by this process: one product, one key, one descriptor, one baseUrl. */
export interface ConnectAppOptions {
  /** The product this app is for. Installs from the other product are refused. */
  product: ConnectProduct;
  /** The app key (at most 64 characters of `a-z A-Z 0-9 . _ -`), unique across the apps of this process. */
  key: string;
  /**
   * The public URL the product reaches the app at, e.g. `https://app.example.com/jira`. Its path is the
   * prefix of every route of this app; its host tells apps apart when several share one process.
   */
  baseUrl: string;
  /**
   * The descriptor, or a function of the resolved app that returns it. `key`, `baseUrl`,
   * `authentication`, `lifecycle` and `apiMigrations` are filled in; giving a conflicting value fails
   * at bootstrap rather than being overwritten silently.
   */
  descriptor?: ConnectDescriptorInput | ((app: Omit<ResolvedConnectApp, 'descriptor'>) => ConnectDescriptorInput) | undefined;
  /**
   * `false` for a Forge-only app: a Forge Remote backend with no Connect part (needs `forge.appId`, takes
   * no `descriptor`). No descriptor or lifecycle routes are served for it and it has no Connect tenants;
   * `@ForgeAuth()`, Forge events, installations and saved tokens work as for a Connect-on-Forge app.
   * Default `true`: a Connect app (with or without Forge), whose `descriptor` is required.
   */
  connect?: boolean | undefined;
  /** Further base URLs accepted as `aud` of signed installs (e.g. the URL a tunnel used to expose). */
  extraBaseUrls?: string[] | undefined;
  /**
   * The sites this app accepts lifecycle callbacks from: host patterns that the payload's `baseUrl`,
   * `displayUrl` and `displayUrlServicedeskHelpCenter` must match (https only), else the callback is a 400
   * `lifecycle/host-not-allowed` that changes nothing. `*.atlassian.net` matches one or more labels before
   * `.atlassian.net` (never `atlassian.net` itself); a pattern without `*` is matched exactly. Replaces the
   * default, Atlassian's cloud domains (`CONNECT_DEFAULTS.apps.allowedHostPatterns`): to extend it, spread
   * that, e.g. `[...CONNECT_DEFAULTS.apps.allowedHostPatterns, 'jira.example.com']`. Loopback hosts
   * (`LOOPBACK_HOST_PATTERNS`: the test kit's and the simulator's sites) pass only when listed, and are the
   * only ones allowed over plain http.
   */
  allowedHostPatterns?: readonly string[] | undefined;
  /**
   * Outbound REST prefix replacing `/rest/api/` (per app, or per tenant as a function), e.g.
   * `/rest/token-auth/api/` for Confluence Data Center sites behind an SSO proxy (Confluence 7.2+).
   */
  restApiPrefix?: string | ((tenant: ConnectTenant) => string | undefined);
  /**
   * The Forge app this Connect app is (Connect on Forge) or works with: `appId` is the UUID of its ARI
   * `ari:cloud:ecosystem::app/<appId>` (the `id` in `manifest.yml` without the prefix). Forge Invocation
   * Tokens whose `aud` names this app id are accepted by `@ForgeAuth()` for this app.
   */
  forge?: { appId: string } | undefined;
}

/** Incoming Forge Remote calls (`@ForgeAuth()`): where the Forge Invocation Token keys come from. */
export interface ConnectForgeOptions {
  /**
   * The JWKS of Forge Invocation Tokens (default `https://forge.cdn.prod.atlassian-dev.net/.well-known/jwks.json`).
   * Staging or another environment is chosen here, never from the token. https only (http on loopback for tests).
   */
  jwksUrl?: string | undefined;
  /** Clock skew tolerated on `exp`, `nbf` and `iat` of a FIT, in seconds (default: `leewaySeconds`, else 30). */
  leewaySeconds?: number | undefined;
  /** Upper bound for one JWKS fetch, body included (default 5000 ms). */
  jwksTimeoutMs?: number | undefined;
  /**
   * Least time between two JWKS fetches caused by an unknown `kid` (default 30,000 ms): a token with an
   * unknown kid refetches the JWKS once (a rotated key), further ones within this time are refused without a fetch.
   */
  jwksCooldownMs?: number | undefined;
  /** How long fetched keys are used before the JWKS is fetched again (default 600,000 ms). */
  jwksCacheMaxAgeMs?: number | undefined;
  /**
   * The JWKS of each Isolated Cloud environment whose calls this service takes, by label (the FIT's
   * top-level `icLabel`, such as `orange`; letters a-z, digits, `_` and `-`, at most 50). A token that
   * carries an `icLabel` is verified with that label's key set only, never with `jwksUrl`; one whose
   * label is not listed here is refused (401). The URLs are checked like `jwksUrl`. Default none.
   */
  isolatedCloudJwksUrls?: Readonly<Record<string, string>> | undefined;
  /**
   * How long a saved app system token (`x-forge-oauth-system`) is used when it carries no `exp` of its
   * own (default 3300 s, 55 minutes). Forge's tokens last at least 2 hours when a trigger calls the
   * remote directly, up to about 4; the default stays below both. A token with an `exp` keeps it.
   */
  systemTokenLifetimeSeconds?: number | undefined;
  /**
   * A saved system token is not handed out (`asForgeApp` outside a request) this close to its expiry,
   * so that a call and its retries finish before it lapses (default 60 s). Smaller than the lifetime.
   */
  systemTokenSafetyMarginSeconds?: number | undefined;
  /**
   * Base URL of Forge's hosted storage REST API (default `https://api.atlassian.com/forge/storage/kvs`);
   * `ForgeStorage` calls `<base>/v1/get` etc. with the installation's app system token. https only (http
   * on loopback for tests, e.g. `FakeForgeStorage`'s `baseUrl`); no credentials, query or fragment.
   */
  storageApiBaseUrl?: string | undefined;
}

/** How the client retries. */
export interface RetryOptions {
  /** Attempts in all, the first included (default 4). */
  maxAttempts: number;
  /** Never wait past this much time since the first attempt, waits included (default 60 s). */
  maxTotalMs: number;
  /** First backoff step when the product gives no hint (default 500 ms). */
  baseDelayMs: number;
  /** Longest single wait, hinted or not (default 30 s). */
  maxDelayMs: number;
  /** Retry POST/PATCH too (they may not be idempotent). Default false: opt in per request. */
  retryNonIdempotent: boolean;
}

/**
 * How the client paces itself per tenant from the products' points-based rate-limit headers
 * (`Beta-RateLimit-Policy`, `Beta-RateLimit`, since 2026): a bulk job slows down before a 429 rather
 * than after. A Connect tenant and a Forge installation are separate budgets.
 */
export interface RateLimitOptions {
  /** Pace requests per tenant once the product reports a budget (default true). A 429 is retried either way. */
  pacing: boolean;
  /**
   * Share of the budget left (0–1) below which requests of a tenant are spread over the rest of its
   * window instead of going at once (default 0.2, where the products raise their near-limit signal).
   */
  paceBelow: number;
  /** Requests of one tenant that may wait at once (default 1000); one more fails with `client/rate-limited`. */
  maxQueuedPerTenant: number;
  /** Longest a request waits for budget (default 60 s); one that would wait longer fails with `client/rate-limited` at once. */
  maxWaitMs: number;
  /** Tenants whose budget is remembered (default 10,000); the least recently used is forgotten first. */
  maxTenants: number;
}

/** Settings of the outbound client (`ConnectClient`). */
export interface ConnectClientOptions {
  /** Where user tokens come from (default `https://oauth-2-authorization-server.services.atlassian.com`). */
  authorizationServerUrl?: string | undefined;
  /** Per-attempt timeout (default 30 s). */
  timeoutMs?: number | undefined;
  /** Retry policy (default 4 attempts, 60 s in all, 500 ms base backoff, 30 s longest wait, POST/PATCH not retried). */
  retry?: Partial<RetryOptions> | undefined;
  /** Bound of the user-token cache (default 10,000). */
  userTokenCacheSize?: number | undefined;
  /** Per-tenant pacing from the products' rate-limit headers (default on: below 20 % left, at most 1000 waiting per tenant, 60 s longest wait). */
  rateLimit?: Partial<RateLimitOptions> | undefined;
}

/** Where tenants are stored. */
export interface ConnectDatabaseOptions {
  /** A PostgreSQL URL. Without it the embedded engine (PGlite) is started. */
  url?: string | undefined;
  /** Directory the embedded engine persists to (default `.data/pglite`); `memory` keeps nothing. */
  embeddedDataDir?: string | undefined;
  /** PostgreSQL schema for the framework's tables (created if missing). */
  schema?: string | undefined;
  /** Connections in the pool (default 10 for PostgreSQL; always 1 for the embedded engine). */
  poolSize?: number | undefined;
  /** How long to wait for a connection before answering 503 (default 2000 ms). */
  connectTimeoutMs?: number | undefined;
  /** Longest a single query may run (default 5000 ms). */
  queryTimeoutMs?: number | undefined;
}

/** One entry of `installKeyHosts`: the key hosts that serve the install keys of some sites. */
export interface InstallKeyHostRule {
  /** Names the rule in messages and diagnostics: `a-z 0-9 -`, at most 40 characters, unique; `fallback` is taken. */
  name: string;
  /** Host patterns of the payload's `baseUrl`, with the syntax of `allowedHostPatterns` (e.g. `*.atlassian.net`). */
  sites: readonly string[];
  /**
   * 1 to 4 install keys base URLs: the first is asked first; the others, in order, when a host cannot be
   * reached, answers badly or does not know the kid (a weak or non-RSA key is an answer: nothing more is asked).
   */
  urls: readonly string[];
}

/** Options of `ConnectModule.forRoot()` / `forRootAsync()`. */
export interface ConnectModuleOptions {
  /** The apps this process serves (at least one). */
  apps: ConnectAppOptions[];
  /**
   * Where install public keys are fetched from, by kid (default `https://connect-install-keys.atlassian.com`):
   * for sites that no `installKeyHosts` rule matches. Set alone (without `installKeyHosts`), it serves
   * every site, as before regional key hosts existed (what the test kit's one key server needs).
   */
  installKeysUrl?: string | undefined;
  /**
   * Which key hosts serve the install keys of which sites (default `CONNECT_DEFAULTS.installKeyHosts`:
   * production, FedRAMP, staging and FedRAMP staging). The site is the payload's `baseUrl`, already checked
   * against the app's `allowedHostPatterns`; the token never picks the host. Rules are tried in order and
   * the first whose `sites` match (as `allowedHostPatterns` match: https on a matching host, http only on
   * a loopback host listed exactly) gives the hosts; no match, or no usable `baseUrl`, falls back to
   * `installKeysUrl`. Each rule has its own key cache: a key found for one rule never verifies a site of
   * another. `[]` sends every site to `installKeysUrl`. When `installKeysUrl` is set and this is not, no
   * rule applies (`installKeysUrl` serves every site). At most 20 rules.
   */
  installKeyHosts?: readonly InstallKeyHostRule[] | undefined;
  /** Timeout for one install-key fetch (default 5000 ms). */
  installKeyTimeoutMs?: number | undefined;
  /** Clock skew tolerated on `exp`, `nbf` and `iat`, in seconds (default 30). */
  leewaySeconds?: number | undefined;
  /** Tenant storage settings for the default PostgreSQL store. */
  database?: ConnectDatabaseOptions | undefined;
  /** Bounds of the in-process tenant cache (default 10,000 entries, 10 s). */
  tenantCache?: {
    maxEntries?: number;
    /** Time to live of a cached tenant while changes made by other instances could go unheard (default 10 s). */
    ttlMs?: number;
    /**
     * Time to live while every change is heard: the LISTEN/NOTIFY change feed is connected, or the
     * embedded engine (one process, the only writer). Default 5 min, or `ttlMs` when that is set.
     */
    observedTtlMs?: number;
  };
  /**
   * Requests already verified, remembered so the same request is not verified again (default on,
   * 10,000 entries; `false` to verify every request in full). The key is the app, the route's qsh
   * mode, the method, the raw URL and the Authorization header, byte for byte; a hit is used only
   * while the token has not expired and the tenant cache still holds the very tenant record it was
   * verified against (any re-install, rotation, disable or uninstall means a full verification).
   * Only successes are remembered, each on its second verification (most new tokens never come
   * again). Requires a tenant store with `peek` (the default one has it).
   */
  verifiedRequestCache?:
    | false
    | {
        maxEntries?: number;
        /** Longer method + URL + Authorization header are always verified in full (default 4,096 characters). */
        maxKeyLength?: number;
      };
  /** Path of the health route (default `/health`); `false` to not register one. */
  healthPath?: string | false | undefined;
  /** Replace the PostgreSQL tenant store (the database is then not opened). */
  tenantStore?: TenantStore | undefined;
  /** Replace how install keys are resolved. */
  installKeyResolver?: InstallKeyResolver | undefined;
  /** The outbound client's settings. */
  client?: ConnectClientOptions | undefined;
  /**
   * Longest accepted `exp - iat` of an incoming token, in seconds (default 3600). Longer-lived tokens
   * are refused (`jwt/lifetime-too-long`): they widen the window in which a captured token can be
   * replayed. Applies to HS256 requests and RS256 signed installs.
   */
  maxTokenLifetimeSeconds?: number | undefined;
  /** Most request headers accepted on lifecycle and `@ConnectAuth()` routes (default 100); more is a 431. */
  maxRequestHeaders?: number | undefined;
  /** Deepest JSON nesting accepted in a lifecycle body (default 20); deeper is a 400. */
  maxLifecycleJsonDepth?: number | undefined;
  /**
   * Per-source-IP token bucket on the lifecycle routes (default 30 per 60 s). The source is the
   * adapter's `request.ip` (which honours its trust-proxy setting) or the socket address. Loopback
   * sources are exempt unless `exemptLoopback: false` (behind a local reverse proxy every request
   * comes from loopback: limit at the proxy then). `false` turns it off.
   */
  lifecycleRateLimit?: { limit?: number; windowMs?: number; maxSources?: number; exemptLoopback?: boolean } | false | undefined;
  /**
   * Retention of uninstalled tenants: rows uninstalled more than `uninstalledDays` ago (default 30) are
   * purged by `TenantRetention.purge()`, which runs on `schedule` (a cron expression, default daily at
   * 03:17; `false` for none).
   */
  retention?: { uninstalledDays?: number; schedule?: string | false } | undefined;
  /**
   * Encryption of the tenants' shared secrets at rest (AES-256-GCM). `keys`: 32 bytes each, base64 or
   * base64url, optionally `<kid>:<key>`; the first encrypts, all decrypt. Without keys, production
   * refuses to start and development uses a key generated once into `devKeyFile`
   * (default `.data/connect-encryption.key`).
   */
  encryption?: { keys?: string[]; devKeyFile?: string } | undefined;
  /** Incoming Forge Remote calls: JWKS location and timing. The apps' Forge app ids are set per app (`forge.appId`). */
  forge?: ConnectForgeOptions | undefined;
  /** The endpoints of Forge events and triggers (`@OnForgeEvent()` and the rest), served for every app with `forge.appId`. */
  forgeEvents?: ConnectForgeEventsOptions | undefined;
  /** The data residency (realm migration) hooks (`@OnRealmMigration()`), served for every app with `forge.appId`. */
  forgeRealmMigration?: ConnectForgeRealmMigrationOptions | undefined;
}

/** Where Atlassian's migration service calls the realm migration hooks. */
export interface ConnectForgeRealmMigrationOptions {
  /**
   * Path under each Forge app's base path (default `/forge/realm-migration`): the manifest's
   * `migration:dataResidency` module names it as its `path`, and the hooks are `<path>/schedule`,
   * `/start`, `/status` (GET), `/commit` and `/rollback`. `false` serves none.
   */
  path?: string | false | undefined;
}

/** Where Forge events and triggers arrive, and how they are answered. */
export interface ConnectForgeEventsOptions {
  /**
   * Path under each Forge app's base path (default `/forge/events`): trigger events POST to `<path>`,
   * scheduled triggers to `<path>/scheduled`, preUninstall to `<path>/pre-uninstall`. `false` serves none.
   */
  path?: string | false | undefined;
  /**
   * How long handlers get before the answer is sent without them (default 4000 ms; Forge waits 5 s).
   * A handler still running then keeps running; the answer is 202. preUninstall gets up to 50 s.
   */
  deadlineMs?: number | undefined;
  /** A redelivery of an event that finished within this many seconds runs nothing (default 600; scheduled triggers: at most 240). */
  dedupeWindowSeconds?: number | undefined;
  /** A delivery whose handlers started this many seconds ago without finishing (its instance died) may be run again (default 120). */
  claimTimeoutSeconds?: number | undefined;
}

export const DEFAULT_LEEWAY_SECONDS = 30;
export const DEFAULT_MAX_TOKEN_LIFETIME_SECONDS = 3600;
