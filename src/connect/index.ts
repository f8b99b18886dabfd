/**
 * atlassian-connect-nest: the public API, grouped by feature. Everything an app needs is exported here;
 * the parts behind the defaults (stores, cipher, key fetching, the embedded engine) are in
 * `atlassian-connect-nest/advanced`, and the test kit is `atlassian-connect-nest/testing`.
 */

// ── Module and options ────────────────────────────────────────────────────────────────────────────
/** The framework in one import: `ConnectModule.forRoot(options)` / `forRootAsync({ useFactory })`. */
export { ConnectModule } from './connect.module.js';
/** The raw options given to `forRoot` (inject with `@Inject(CONNECT_MODULE_OPTIONS)`); the framework itself uses the resolved ones. */
export { CONNECT_MODULE_OPTIONS } from './config/connect.module-definition.js';
/** The options of `ConnectModule` and their parts. */
export type {
  ConnectAppOptions,
  ConnectClientOptions,
  ConnectDatabaseOptions,
  ConnectForgeEventsOptions,
  ConnectForgeOptions,
  ConnectForgeRealmMigrationOptions,
  ConnectModuleOptions,
  InstallKeyHostRule,
  RateLimitOptions,
  RetryOptions,
} from './config/connect-options.js';
/** Every default, in one frozen object (the options table of the README is checked against it). */
export { CONNECT_DEFAULTS, type DeepReadonly } from './config/connect-defaults.js';
/**
 * `localhost`, `127.0.0.1` and `[::1]`: add them to an app's `allowedHostPatterns` where local sites (the
 * test kit's `startSite()`, `atlassian-connect-nest simulate`) must install; never in production.
 * @example allowedHostPatterns: [...CONNECT_DEFAULTS.apps.allowedHostPatterns, ...LOOPBACK_HOST_PATTERNS]
 */
export { LOOPBACK_HOST_PATTERNS } from './config/allowed-host-patterns.js';
/** Checks options and fills in every default, as the module does at bootstrap; inject the result with `@Inject(RESOLVED_CONNECT_OPTIONS)`. */
export { resolveConnectOptions, RESOLVED_CONNECT_OPTIONS, type ResolveConnectOptionsContext } from './config/resolve-connect-options.js';
/** The options after `resolveConnectOptions()`: defaults filled in, frozen. */
export type { ResolvedConnectOptions, ResolvedInstallKeyHostRule } from './config/resolved-connect-options.js';
/** The products an app can be for: `jira`, `confluence`. */
export { CONNECT_PRODUCTS, isConnectProduct, type ConnectProduct } from './config/connect-product.js';

// ── Apps and descriptors ──────────────────────────────────────────────────────────────────────────
/** The apps of this process, and which one a request belongs to (by baseUrl path, then host). */
export { ConnectAppRegistry } from './config/connect-app-registry.js';
/** An app after its options were checked, with its complete descriptor. */
export type { ConnectDescriptorInput, LifecycleEventName, ResolvedConnectApp } from './config/resolved-connect-app.js';
/** Where each app serves its descriptor and lifecycle callbacks, relative to its baseUrl. */
export { DESCRIPTOR_PATH, LIFECYCLE_PATHS } from './config/resolved-connect-app.js';

// ── Incoming requests: @ConnectAuth() ────────────────────────────────────────────────────────────
/** Requires a valid Connect JWT on a route or controller (`@ConnectPage()`: the same for framed pages). */
export { ConnectAuth, ConnectPage } from './auth/connect-auth.decorator.js';
/** What `@ConnectAuth()` takes: the qsh mode, the app, whether the route is a page. */
export type { ConnectAuthOptions } from './auth/connect-auth.constants.js';
/** The guard behind `@ConnectAuth()`; subclass it (its steps are protected) and use `@ConnectAuthMetadata()` with `@UseGuards(YourGuard)`. */
export { ConnectAuthGuard } from './auth/connect-auth.guard.js';
/** `@ConnectAuth()`'s metadata alone, for a route guarded by a subclass of `ConnectAuthGuard`. */
export { ConnectAuthMetadata } from './auth/connect-auth.decorator.js';
/** Parameter decorators for the verified context and its tenant; `ConnectTenant` is also the tenant record's type. */
export { ConnectContext, ConnectTenant } from './auth/connect-context.decorator.js';
/** The verified context of a request object (outside a handler: interceptors, filters). */
export { connectContextOf } from './auth/connect-request.js';
/** Verifies HS256 Connect JWTs against the tenants (what the guard uses); `ConnectRequestContext` is what a verified request tells the handler. */
export { ConnectTokenVerifier, type ConnectRequestContext } from './auth/jwt/connect-token-verifier.js';
/** What `ConnectTokenVerifier` reads of a request, how a route verifies, and the verified-request cache's counters. */
export type { HsVerifyOptions, IncomingRequest } from './auth/jwt/connect-token-verifier.js';
export type { IncomingRequestParts, RememberedRequest, VerifiedRequestCacheStats } from './auth/jwt/verified-request-cache.js';
/** Atlassian's canonical request and query string hash (qsh). */
export { canonicalRequest, queryStringHash } from './auth/jwt/canonical-request.js';
/** The claims of a Connect JWT, and the qsh value of context tokens. */
export { CONTEXT_QSH, type ConnectJwtClaims } from './auth/jwt/connect-jwt-claims.js';
/** A request URL with its `jwt` parameter removed, for logs. */
export { redactUrl } from './http/redact-url.js';
/** HTTP adapter settings for a Connect backend (Express: body parsers only for requests with a body). */
export { tuneHttpAdapter } from './http/tune-http-adapter.js';

// ── Lifecycle ─────────────────────────────────────────────────────────────────────────────────────
/** Method decorators run on `installed`, `uninstalled`, `enabled`, `disabled`. */
export { OnDisabled, OnEnabled, OnInstalled, OnUninstalled } from './lifecycle/lifecycle-hooks.decorators.js';
/** Narrows a lifecycle or purge hook to an app or a product. */
export type { LifecycleHookFilter } from './discovery/method-hooks.js';
/** What a lifecycle hook receives. */
export type { ConnectLifecycleEvent } from './lifecycle/connect-lifecycle-event.js';
/** A lifecycle callback's body as the product sends it. */
export type { LifecyclePayload } from './lifecycle/lifecycle-payload.js';

// ── Tenants and the database ──────────────────────────────────────────────────────────────────────
/** The tenant store (always the framework's cache in front of the PostgreSQL store or the app's own `tenantStore`). */
export { TENANT_STORE, type TenantInstallOptions, type TenantStateChange, type TenantStore, type TenantWriteContext } from './tenants/tenant-store.js';
/** One installation's record, the fields an install writes, and whether it takes requests. */
export { isTenantActive, type TenantInstallation } from './tenants/tenant.js';
/** The framework's TypeORM DataSource, registered through `@nestjs/typeorm`: its name, and a decorator to inject it. */
export { CONNECT_DATA_SOURCE, InjectConnectDataSource } from './database/connect-data-source.constants.js';
/** Re-encrypts every stored shared secret with the current key (after a key rotation). */
export { reencryptTenantSecrets, type ReencryptTenantSecretsOptions, type ReencryptTenantSecretsResult } from './tenants/reencrypt-tenant-secrets.js';

// ── Retention ─────────────────────────────────────────────────────────────────────────────────────
/** Runs before an uninstalled tenant is purged, in the deleting transaction. */
export { OnPurge, type ConnectPurgeEvent } from './retention/on-purge.decorator.js';
/** The purge of uninstalled tenants (scheduled, or `purge()` on demand) and what one run did. */
export { TenantRetention, TENANT_RETENTION_JOB, type TenantPurgeReport } from './retention/tenant-retention.js';
/** A tenant the purge considered, and why one was kept. */
export type { PurgeCandidate, PurgeSkipReason } from './retention/tenant-purge.js';

// ── Signed installs ───────────────────────────────────────────────────────────────────────────────
/** How install keys are found by `kid`, and the site they are for (replace with the `installKeyResolver` option). */
export { INSTALL_KEY_RESOLVER, type InstallKeyResolver, type InstallKeySite } from './keys/install-key-resolver.js';

// ── Outbound calls ────────────────────────────────────────────────────────────────────────────────
/** Calls the product as the app, as a user, or with a Forge call's tokens. */
export { ConnectClient, type ActAsUserOptions, type ClientTarget } from './client/connect-client.js';
/** The handle `ConnectClient` returns, and what a request takes and gives back. */
export type { ConnectHttpClient, ConnectRequestOptions, ConnectResponse, HttpMethod } from './client/connect-http-client.js';
/** An outbound call that failed (status, product messages, retries; never a token). */
export { ConnectClientError, type ClientErrorCode, type ConnectClientErrorFacts } from './client/connect-client-error.js';
/** A query parameter's value in `ConnectRequestOptions.query` (arrays repeat the parameter). */
export type { QueryValue } from './client/request-url.js';
/** Paging options of `paginate()`. */
export type { PageOptions } from './client/paginate.js';
/** The Forge tokens of a call, and whose they are. */
export type { ForgeCallContext, ForgePrincipal } from './client/forge-client-target.js';
/** A tenant's last known rate-limit budget (`ConnectClient.rateLimit()`), each budget the product named, and whose it is. */
export type { ConnectRateLimitSnapshot, RateLimitPolicyState, RateLimitTenant } from './client/rate-limit/rate-limit-snapshot.js';
/** Runs a method when a tenant's rate-limit budget becomes near its limit; what it receives. */
export { OnNearRateLimit, type ConnectRateLimitEvent } from './client/rate-limit/on-near-rate-limit.decorator.js';

// ── Forge Remote and Connect on Forge ─────────────────────────────────────────────────────────────
/** Requires a valid Forge Invocation Token on a route or controller. */
export { ForgeAuth } from './forge/forge-auth.decorator.js';
/** What `@ForgeAuth()` takes, and the headers Forge's OAuth tokens come in. */
export { FORGE_OAUTH_SYSTEM_HEADER, FORGE_OAUTH_USER_HEADER, type ForgeAuthOptions } from './forge/forge-auth.constants.js';
/** The guard behind `@ForgeAuth()`; subclass it and use `@ForgeAuthMetadata()` with `@UseGuards(YourGuard)`. */
export { ForgeAuthGuard } from './forge/forge-auth.guard.js';
/** `@ForgeAuth()`'s metadata alone, for a route guarded by a subclass of `ForgeAuthGuard`. */
export { ForgeAuthMetadata } from './forge/forge-auth.decorator.js';
/** Parameter decorator for the verified Forge invocation. */
export { ForgeContext } from './forge/forge-context.decorator.js';
/** The verified Forge invocation of a request object. */
export { forgeContextOf } from './forge/forge-request.js';
/** What a verified Forge Remote call tells the handler. */
export type { ForgeInvocationContext, ForgeOAuthTokens } from './forge/forge-invocation-context.js';
/** The licence and installation contexts of a Forge call. */
export type { ForgeInstallationContext, ForgeLicense } from './forge/forge-token-claims.js';
/** The Connect tenant of a Forge installation, and the other way. */
export { ConnectForgeLink, type ConnectTenantRef, type ForgeInstallationRef } from './forge/forge-tenant-link.js';
/** The Forge installations seen in verified calls (site, product, licence, linked tenant, saved system token), for work outside a request. */
export { ForgeInstallations, type ForgeInstallation, type ListForgeInstallationsOptions } from './forge/forge-installations.js';
/** Forge events and triggers, routed to decorated methods. */
export { OnForgeEvent, OnForgePreUninstall, OnForgeScheduledTrigger, type ForgeEventHookMetadata, type ForgeScheduledTriggerHookMetadata } from './forge/forge-event.decorators.js';
export { FORGE_INSTALLED_EVENT, FORGE_UPGRADED_EVENT, type ForgeEventContext, type ForgeEventKind, type ForgeRetryContext } from './forge/forge-event.js';
export { FORGE_EVENT_SUBPATHS } from './forge/forge-event-routes.js';
/** Data residency (realm migration) hooks: `@OnRealmMigration('schedule' | 'start' | 'status' | 'commit' | 'rollback')`, their contexts and answers, and Atlassian's error codes. */
export { OnRealmMigration, type RealmMigrationHookMetadata } from './forge/realm-migration/realm-migration.decorators.js';
export {
  REALM_MIGRATION_ERROR_CODES,
  REALM_MIGRATION_PHASES,
  isRealmMigrationErrorCode,
  refuseRealmMigration,
  type RealmMigrationContext,
  type RealmMigrationContextBase,
  type RealmMigrationContextOf,
  type RealmMigrationErrorCode,
  type RealmMigrationOutcomeContext,
  type RealmMigrationPhase,
  type RealmMigrationStatus,
  type RealmMigrationStatusContext,
  type RealmMigrationWindowContext,
} from './forge/realm-migration/realm-migration.js';
/** Where each hook is served under `forgeRealmMigration.path`, and what the POST hooks answer. */
export { REALM_MIGRATION_SUBPATHS, type RealmMigrationHookAnswer } from './forge/realm-migration/realm-migration-routes.js';
/** A Forge installation to call outside a request with its saved system token (`asForgeApp`). */
export type { ForgeInstallationTarget } from './client/forge-client-target.js';
/** The Connect-on-Forge manifest of an app, built from its configuration and discovered handlers, and its YAML. */
export { ForgeManifestBuilder } from './forge/manifest/forge-manifest-builder.js';
export { toForgeManifestYaml } from './forge/manifest/forge-manifest-yaml.js';
export type {
  ForgeManifest,
  ForgeManifestAuth,
  ForgeManifestEndpoint,
  ForgeManifestModules,
  ForgeManifestOptions,
  ForgeManifestRealmMigration,
  ForgeManifestRemote,
  ForgeManifestResult,
} from './forge/manifest/forge-manifest.js';
/** The options of `@OnForgeScheduledTrigger()` and the intervals Forge runs scheduled triggers at. */
export type { ForgeScheduledTriggerInterval, ForgeScheduledTriggerOptions } from './forge/forge-event.decorators.js';
/** Forge hosted storage (key-value, secrets, custom entities, batches, transactions) of an installation, with its app system token. */
export { ForgeStorage, type ForgeStorageTarget } from './forge/storage/forge-storage.js';
export { ForgeStorageEntity, ForgeStorageHandle, ForgeStorageTransaction } from './forge/storage/forge-storage-handle.js';
export { ForgeStorageError, type ForgeStorageErrorFacts, type StorageErrorCode } from './forge/storage/forge-storage-error.js';
export { StorageQuery } from './forge/storage/storage-query.js';
export { StorageConditions, allOf, anyOf, type StorageConditionValue, type StorageOrderedValue } from './forge/storage/storage-conditions.js';
export { FORGE_STORAGE_LIMITS } from './forge/storage/storage-limits.js';
export type {
  StorageBatchGetResult,
  StorageBatchKey,
  StorageBatchResult,
  StorageBatchSetItem,
  StorageCondition,
  StorageConditionName,
  StorageEntityQueryOptions,
  StorageEntry,
  StorageFilter,
  StorageFilters,
  StorageGetOptions,
  StorageJsonValue,
  StorageMetadataField,
  StoragePage,
  StorageQueryOptions,
  StorageSetOptions,
  StorageTransactionRequest,
  StorageTtl,
  StorageValue,
} from './forge/storage/forge-storage-types.js';
/** Forge app ids and their ARIs. */
export { FORGE_APP_ARI_PREFIX, forgeAppAri, isForgeAppId } from './forge/forge-app-id.js';

// ── Health and errors ─────────────────────────────────────────────────────────────────────────────
/** Whether the app can serve requests (the database answers). */
export { ConnectHealth, type ConnectHealthReport } from './health/connect-health.js';
/** The framework's one error type, with a code. */
export { ConnectError, isConnectError } from './errors/connect-error.js';
/** Every error code, with its meaning. */
export { CONNECT_ERROR_CODES, type ConnectErrorCode } from './errors/connect-error-codes.js';
/** The HTTP status and JSON body of an error, as the edge answers it. */
export { httpStatusOf, toErrorResponse, type ConnectErrorResponse } from './errors/connect-error-http.js';
