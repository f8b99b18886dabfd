/**
 * atlassian-connect-nest/advanced: the parts behind the defaults, for apps that assemble their own
 * (a store over another database, key fetching or JWKS use outside the module, secrets tooling, the
 * embedded engine in scripts). Everything here is stable API, but an app that only uses
 * `ConnectModule` never needs it.
 */

// ── Module ────────────────────────────────────────────────────────────────────────────────────────
/** The class `ConnectModule` extends (from `ConfigurableModuleBuilder`: `forRoot`, `forRootAsync`). */
export { ConnectConfigurableModule } from './config/connect.module-definition.js';
/** Loads the optional peers (`@electric-sql/pglite*`, `@nestjs/schedule`) when options need them; provide one with your own loader in tests. */
export {
  ConnectOptionalPeers,
  type CronJobHandle,
  type EmbeddedEngineModules,
  type ModuleLoader,
  type PGliteDatabase,
  type PGliteSocketServerHandle,
  type SchedulerRegistryHandle,
  type SchedulingModules,
} from './config/optional-peers.js';

// ── Outbound calls ────────────────────────────────────────────────────────────────────────────────
/** What `new ConnectHttpClient()` takes: where a call goes and how it is signed, and the client options. */
export type { CallTarget, ClientDefaults } from './client/connect-http-client.js';

// ── Tenant stores ─────────────────────────────────────────────────────────────────────────────────
/** The bounded cache the framework always puts in front of the tenant store (`TENANT_STORE` is one). */
export { CachingTenantStore, type CachingTenantStoreOptions } from './tenants/caching-tenant-store.js';
/** The default store: one `connect_tenant` row per (app, site) in PostgreSQL. */
export { TypeOrmTenantStore } from './tenants/typeorm-tenant-store.js';
/** Keeps a cache in step with other instances through LISTEN/NOTIFY, and its timing. */
export { TenantChangeListener, type TenantChangeListenerTiming } from './tenants/tenant-change-listener.js';

// ── Database ──────────────────────────────────────────────────────────────────────────────────────
/** The framework's TypeORM entity, its migrations and the DataSource options it runs with. */
export { ConnectTenantEntity } from './database/tenant.entity.js';
export { ConnectForgeInstallationEntity } from './database/forge-installation.entity.js';
export { ConnectForgeEventEntity } from './database/forge-event.entity.js';
export type { ForgeEventClaim, ForgeEventDelivery, ForgeEventLedger } from './forge/forge-event-ledger.js';
export {
  CONNECT_ENTITIES,
  CONNECT_MIGRATIONS,
  CONNECT_MIGRATIONS_TABLE,
  connectDataSourceOptions,
  ensureSchema,
  type ConnectDataSourceInput,
  type TypeOrmClass,
} from './database/connect-data-source-options.js';
/** The channel the tenant table's trigger notifies on. */
export { TENANT_CHANGE_CHANNEL } from './database/migrations/1795500000000-notify-connect-tenant-changes.js';
/** PostgreSQL in this process (PGlite over a local socket): what runs when no database URL is given. */
export { EmbeddedPostgres, type EmbeddedPostgresOptions } from './database/embedded-postgres.js';
/** Purges uninstalled tenants on a DataSource (what `TenantRetention` runs). */
export { TenantPurger, type PurgeOutcome, type PurgeTarget } from './retention/tenant-purge.js';

// ── Secrets at rest ───────────────────────────────────────────────────────────────────────────────
/** AES-256-GCM encryption of the shared secrets, the stored format's prefix, and whose secret a value is. */
export { SecretCipher, SECRET_FORMAT_PREFIX, bindSecretCipher, type SecretOwner } from './database/secret-cipher.js';
/** Parses `encryption.keys` entries. */
export { parseEncryptionKey, type EncryptionKey } from './config/encryption-key-option.js';
/** The cipher for `encryption` options (production refuses without keys; development keeps a key file). */
export { resolveSecretCipher, type ConnectEncryptionInput, type ResolveSecretCipherContext } from './database/encryption-keys.js';
/** The command that makes a key, as quoted in messages. */
export { MAKE_KEY_COMMAND } from './config/resolve-connect-options.js';
/** The migration that encrypts plaintext secrets already stored. */
export { createEncryptSharedSecretsMigration } from './database/migrations/encrypt-shared-secrets.js';

// ── Keys and tokens ───────────────────────────────────────────────────────────────────────────────
/** Fetches install keys by `kid` from the key host, cached by kid. */
export { HttpInstallKeyResolver, type HttpInstallKeyResolverOptions, type HttpInstallKeyResolverStats } from './keys/http-install-key-resolver.js';
/** Fetches install keys from the key hosts of the site's environment (`installKeyHosts`), one cache per rule. */
export { RegionalInstallKeyResolver, type InstallKeyHostChoice, type RegionalInstallKeyResolverOptions } from './keys/regional-install-key-resolver.js';
/** Verifies signed installs (RS256). */
export { InstallTokenVerifier } from './auth/jwt/install-token-verifier.js';
/** The facts a guard reads of a request (what `ConnectAuthGuard.appOf` receives). */
export type { HttpRequestFacts } from './http/http-request-facts.js';
/** The `frame-ancestors` policy and headers of `page: true` routes. */
export { frameAncestorsPolicy, pageSecurityHeaders, PAGE_HSTS } from './auth/page-security-headers.js';

// ── Forge ─────────────────────────────────────────────────────────────────────────────────────────
/** Verifies Forge Invocation Tokens (what `@ForgeAuth()` uses). */
export { ForgeTokenVerifier, type VerifiedForgeInvocation } from './forge/forge-token-verifier.js';
/** The claims of a Forge Invocation Token. */
export type { ForgeInvocationClaims } from './forge/forge-token-claims.js';
/** The Forge JWKS client. */
export { ForgeJwks, type ForgeJwksOptions, type ForgeJwksStats } from './forge/forge-jwks.js';
/** Fixed values of Forge Invocation Tokens. */
export { FORGE_INVOCATION_TOKEN_ISSUER } from './forge/forge-app-id.js';
export { FORGE_INSTALLATION_ARI_PREFIX, MAX_FORGE_TOKEN_LENGTH } from './forge/forge-token-claims.js';
/** The discovered Forge event handlers and the routes that serve them (constructor parameters of public injectables). */
export type { ForgeEventHandlers, ForgeDeclaredHandler, ForgeDeclaredHandlers, ForgeMethodHook } from './forge/forge-event-handlers.js';
export type { PacerClock } from './client/rate-limit/pacer-clock.js';
export type { MethodHook } from './discovery/method-hooks.js';
export type { ForgeEventRoutes } from './forge/forge-event-routes.js';
/** How `ForgeStorage` reaches the storage REST API. */
export type { StorageTransport } from './forge/storage/storage-transport.js';
/** The discovered `@OnRealmMigration()` handlers and the routes that serve them. */
export type { RealmMigrationHandler, RealmMigrationHandlers } from './forge/realm-migration/realm-migration-handlers.js';
export type { RealmMigrationRoutes } from './forge/realm-migration/realm-migration-routes.js';
export type { StorageRequest } from './forge/storage/storage-requests.js';

// ── Outbound rate limits ──────────────────────────────────────────────────────────────────────────
/** The per-tenant pacer of the outbound client, its budget references and the `@OnNearRateLimit()` dispatcher. */
export type { RateLimitPacer, RateLimitPacerOptions, PacedRequestFacts } from './client/rate-limit/rate-limit-pacer.js';
export type { RateLimitBudgetRef } from './client/rate-limit/rate-limit-key.js';
export type { RateLimitHooks } from './client/rate-limit/rate-limit-hooks.js';
