import type { InstallKeyResolver } from '../keys/install-key-resolver.js';
import type { TenantStore } from '../tenants/tenant-store.js';
import type { ConnectAppOptions, RateLimitOptions, RetryOptions } from './connect-options.js';
import type { ResolvedConnectApp } from './resolved-connect-app.js';

/** An `installKeyHosts` rule after its checks: site patterns lower-cased, URLs without a trailing slash. */
export interface ResolvedInstallKeyHostRule {
  /** Unique among the rules; never `fallback`. */
  readonly name: string;
  /** Host patterns, lower-cased, without duplicates. */
  readonly sites: readonly string[];
  /** 1 to 4 base URLs without a trailing slash, in the order they are asked. */
  readonly urls: readonly string[];
}

/**
 * The module options after `resolveConnectOptions()`: every default filled in, every check done, the
 * whole object frozen. This is what the framework's services receive (`RESOLVED_CONNECT_OPTIONS`);
 * none of them applies a default of its own.
 */
export interface ResolvedConnectOptions {
  readonly apps: readonly ResolvedConnectApp[];
  /** Clock skew tolerated on `exp`, `nbf` and `iat` of Connect JWTs, in seconds. */
  readonly leewaySeconds: number;
  readonly maxTokenLifetimeSeconds: number;
  readonly maxRequestHeaders: number;
  readonly maxLifecycleJsonDepth: number;
  readonly healthPath: string | false;
  readonly installKeys: {
    readonly url: string;
    readonly timeoutMs: number;
    /** The app's own resolver (`installKeyResolver`), replacing the HTTP one. */
    readonly resolver: InstallKeyResolver | undefined;
    /** The `installKeyHosts` rules, checked, in order; sites that none matches use `url`. */
    readonly hosts: readonly ResolvedInstallKeyHostRule[];
  };
  /** The app's own store (`tenantStore`): no database is opened then. */
  readonly tenantStore: TenantStore | undefined;
  readonly database: {
    /** The PostgreSQL URL; `undefined` starts the embedded engine (unless `tenantStore` is given). */
    readonly url: string | undefined;
    /** Where the embedded engine keeps its files; `undefined` keeps them in memory (`embeddedDataDir: 'memory'`). */
    readonly embeddedDataDir: string | undefined;
    readonly schema: string | undefined;
    /** Connections in the pool: always 1 on the embedded engine (it has one session). */
    readonly poolSize: number;
    readonly connectTimeoutMs: number;
    readonly queryTimeoutMs: number;
  };
  readonly tenantCache: { readonly maxEntries: number; readonly ttlMs: number; readonly observedTtlMs: number };
  readonly verifiedRequestCache: false | { readonly maxEntries: number; readonly maxKeyLength: number };
  readonly lifecycleRateLimit: false | { readonly limit: number; readonly windowMs: number; readonly maxSources: number; readonly exemptLoopback: boolean };
  readonly forgeEvents: {
    readonly path: string | false;
    readonly deadlineMs: number;
    readonly dedupeWindowSeconds: number;
    readonly claimTimeoutSeconds: number;
  };
  readonly forgeRealmMigration: { readonly path: string | false };
  readonly retention: { readonly uninstalledDays: number; readonly schedule: string | false };
  readonly encryption: {
    /** The configured keys (blank entries dropped); empty: the development key in `devKeyFile`. */
    readonly keys: readonly string[];
    readonly devKeyFile: string;
  };
  readonly client: {
    readonly authorizationServerUrl: string;
    readonly timeoutMs: number;
    readonly retry: Readonly<RetryOptions>;
    readonly userTokenCacheSize: number;
    readonly rateLimit: Readonly<RateLimitOptions>;
    /** `restApiPrefix` of each app that sets one, by app key. */
    readonly restApiPrefixes: ReadonlyMap<string, NonNullable<ConnectAppOptions['restApiPrefix']>>;
  };
  readonly forge: {
    readonly jwksUrl: string;
    /** `forge.leewaySeconds`, else `leewaySeconds`. */
    readonly leewaySeconds: number;
    readonly jwksTimeoutMs: number;
    readonly jwksCooldownMs: number;
    readonly jwksCacheMaxAgeMs: number;
    /** `forge.isolatedCloudJwksUrls`, each URL parsed (`href`); empty when none is configured. */
    readonly isolatedCloudJwksUrls: ReadonlyMap<string, string>;
    readonly systemTokenLifetimeSeconds: number;
    readonly systemTokenSafetyMarginSeconds: number;
    /** `forge.storageApiBaseUrl`, without a trailing slash. */
    readonly storageApiBaseUrl: string;
  };
  /** `NODE_ENV` when the options were resolved: `production` has stricter rules. */
  readonly nodeEnv: string | undefined;
}
