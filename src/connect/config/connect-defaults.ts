/**
 * Every default of the framework, in one place. The module options (`ConnectModuleOptions`) take their
 * defaults from the fields of the same name; the groups after them are bounds of the framework's own
 * parts (install-key fetches, the Forge JWKS, the change listener) that are not module options.
 * `resolveConnectOptions()` fills these in; nothing else reads an option with its own fallback.
 * The README's options tables are checked against this object by a test.
 */
export const CONNECT_DEFAULTS = deepFreeze({
  /** Atlassian's public key CDN for signed installs. */
  installKeysUrl: 'https://connect-install-keys.atlassian.com',
  /**
   * The install key hosts of Atlassian's environments, by site. Atlassian documents only the production
   * CDN; the others are the hosts atlassian-connect-express 11.5.3 asks (its signed-install check, checked
   * 2026), which also reads the environment from the site's domain. Differences: production asks the
   * documented CDN first (ACE asks the ASAP host first), and `*.atlassian-us-gov-mod.com` (an Atlassian
   * Government Cloud tenant domain) and `*.atlassian-dev.net` are mapped too. ACE sends the latter to the
   * production CDN; Atlassian also serves production infrastructure from that domain (Forge's JWKS) and
   * staging sites from it, so its rule asks the production CDN first and the staging hosts after it (a
   * production key verifying a developer site is harmless; no rule lets a staging key verify a production site).
   * `*.atlassian-stg-fedm.net` is not in `apps[].allowedHostPatterns`: an app that accepts it lists it there.
   */
  installKeyHosts: [
    {
      name: 'production',
      sites: ['*.atlassian.net', '*.jira.com'],
      urls: ['https://connect-install-keys.atlassian.com', 'https://asap-distribution.us-west-2.prod.atl-asap.net'],
    },
    {
      name: 'fedramp',
      sites: ['*.atlassian-us-gov-mod.net', '*.atlassian-us-gov-mod.com'],
      urls: ['https://asap-distribution.us-west-2.prod.atl-auth-us-gov-mod.net', 'https://cs-migrations--fedrampcdn.us-east-1.prod.cdn.atlassian-us-gov-mod.com'],
    },
    {
      name: 'staging',
      sites: ['*.jira-dev.com'],
      urls: ['https://asap-distribution.us-west-2.staging.atl-asap.net', 'https://cs-migrations--cdn.us-east-1.staging.public.atl-paas.net'],
    },
    {
      name: 'developer',
      sites: ['*.atlassian-dev.net'],
      urls: [
        'https://connect-install-keys.atlassian.com',
        'https://asap-distribution.us-west-2.staging.atl-asap.net',
        'https://cs-migrations--cdn.us-east-1.staging.public.atl-paas.net',
      ],
    },
    {
      name: 'fedramp-staging',
      sites: ['*.atlassian-stg-fedm.net'],
      urls: ['https://asap-distribution.us-west-2.staging.atl-auth-us-gov-mod.net', 'https://cs-migrations--fedrampcdn.us-east-1.staging.cdn.atlassian-us-gov-mod.com'],
    },
  ],
  installKeyTimeoutMs: 5000,
  leewaySeconds: 30,
  maxTokenLifetimeSeconds: 3600,
  healthPath: '/health',
  /** Real product requests carry about 15 headers. */
  maxRequestHeaders: 100,
  /** Real lifecycle payloads are 1 level deep. */
  maxLifecycleJsonDepth: 20,
  /** Defaults of each app's options (`apps[].…`). */
  apps: {
    /**
     * The sites a lifecycle payload may come from (`baseUrl`, `displayUrl`, `displayUrlServicedeskHelpCenter`).
     * Atlassian publishes no single list; these are the cloud site domains found in its documentation and
     * frameworks (checked 2026): `*.atlassian.net` and the older `*.jira.com` (production), `*.jira-dev.com`
     * (Atlassian staging), `*.atlassian-dev.net` (developer and Forge sites), `*.atlassian-us-gov-mod.net`
     * and `*.atlassian-us-gov-mod.com` (Atlassian Government Cloud: its "Adopt Forge from Connect on AGC"
     * guide names both as tenant baseUrl patterns and asks apps that restrict baseUrls to add them), and
     * `*.atlassian-fex.net` (the FedRAMP sandbox). Sites that send another host (a custom domain) need it listed.
     */
    allowedHostPatterns: [
      '*.atlassian.net',
      '*.jira.com',
      '*.jira-dev.com',
      '*.atlassian-dev.net',
      '*.atlassian-us-gov-mod.net',
      '*.atlassian-us-gov-mod.com',
      '*.atlassian-fex.net',
    ],
  },
  database: {
    embeddedDataDir: '.data/pglite',
    poolSize: 10,
    connectTimeoutMs: 2000,
    queryTimeoutMs: 5000,
  },
  tenantCache: {
    maxEntries: 10_000,
    /** While changes made by other instances could go unheard. */
    ttlMs: 10_000,
    /** While every change is heard (change feed connected, or the embedded engine). */
    observedTtlMs: 300_000,
  },
  verifiedRequestCache: {
    maxEntries: 10_000,
    maxKeyLength: 4096,
  },
  lifecycleRateLimit: {
    limit: 30,
    windowMs: 60_000,
    maxSources: 10_000,
    exemptLoopback: true,
  },
  forgeEvents: {
    /** Under each Forge app's base path: `<path>` (trigger events), `<path>/scheduled`, `<path>/pre-uninstall`. */
    path: '/forge/events',
    /** Forge waits 5 s for an answer. */
    deadlineMs: 4000,
    /** Forge redelivers a failed event up to 4 times, about 60 s apart. */
    dedupeWindowSeconds: 600,
    claimTimeoutSeconds: 120,
  },
  forgeRealmMigration: {
    /** Under each Forge app's base path: `<path>/schedule`, `/start`, `/status`, `/commit`, `/rollback`. */
    path: '/forge/realm-migration',
  },
  retention: {
    uninstalledDays: 30,
    /** Daily at 03:17 server time (off the hour, when everyone else's jobs run). */
    schedule: '17 3 * * *',
  },
  encryption: {
    devKeyFile: '.data/connect-encryption.key',
  },
  client: {
    authorizationServerUrl: 'https://oauth-2-authorization-server.services.atlassian.com',
    timeoutMs: 30_000,
    retry: {
      maxAttempts: 4,
      maxTotalMs: 60_000,
      baseDelayMs: 500,
      maxDelayMs: 30_000,
      retryNonIdempotent: false,
    },
    userTokenCacheSize: 10_000,
    rateLimit: {
      pacing: true,
      paceBelow: 0.2,
      maxQueuedPerTenant: 1000,
      maxWaitMs: 60_000,
      maxTenants: 10_000,
    },
  },
  forge: {
    /** Atlassian's JWKS for Forge Invocation Tokens (production). */
    jwksUrl: 'https://forge.cdn.prod.atlassian-dev.net/.well-known/jwks.json',
    jwksTimeoutMs: 5000,
    jwksCooldownMs: 30_000,
    jwksCacheMaxAgeMs: 600_000,
    /** Saved system tokens without an `exp`: 55 minutes (Forge's last at least 2 hours). */
    systemTokenLifetimeSeconds: 55 * 60,
    systemTokenSafetyMarginSeconds: 60,
    /** Forge hosted storage REST API (`ForgeStorage`). */
    storageApiBaseUrl: 'https://api.atlassian.com/forge/storage/kvs',
  },
  /** `HttpInstallKeyResolver`: an RSA-4096 SPKI PEM is about 800 bytes. */
  installKeyFetch: {
    maxBodyBytes: 16 * 1024,
    cacheSize: 64,
  },
  /** `ForgeJwks`: a JWKS of a few RSA keys is a few KiB. */
  forgeJwksFetch: {
    maxBodyBytes: 64 * 1024,
  },
  /** Defaults of single calls (not module options). */
  calls: {
    /** `paginate()`: pages walked at most, whatever the product says. */
    maxPages: 1000,
    /** `reencryptTenantSecrets()`: rows per transaction. */
    reencryptBatchSize: 200,
    /** `ensureSchema()`: connect and query timeout of its own connection. */
    ensureSchemaTimeoutMs: 10_000,
  },
  /** `TenantChangeListener`'s connection. */
  tenantChangeListener: {
    /** First wait before reconnecting; doubles on each failed attempt. */
    reconnectBaseMs: 250,
    /** Longest wait between two reconnect attempts. */
    reconnectMaxMs: 5000,
    /** How often the idle connection is checked with a `SELECT 1` (finds half-open TCP connections). */
    heartbeatMs: 10_000,
  },
});

/** `T` with every property read-only, all the way down (the type of `CONNECT_DEFAULTS`). */
export type DeepReadonly<T> = { readonly [K in keyof T]: T[K] extends object ? DeepReadonly<T[K]> : T[K] };

function deepFreeze<T extends object>(value: T): DeepReadonly<T> {
  for (const field of Object.values(value)) if (typeof field === 'object' && field !== null) deepFreeze(field as object);
  return Object.freeze(value) as DeepReadonly<T>;
}
