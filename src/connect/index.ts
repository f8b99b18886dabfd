/**
 * atlassian-connect-nest: the public API. Everything an app needs is exported here and nowhere else.
 */
export { ConnectModule } from './connect.module.js';
export { CONNECT_MODULE_OPTIONS, CONNECT_ASYNC_OPTIONS_TYPE, CONNECT_OPTIONS_TYPE } from './config/connect.module-definition.js';
export type { ConnectAppOptions, ConnectDatabaseOptions, ConnectModuleOptions } from './config/connect-options.js';
export { DEFAULT_LEEWAY_SECONDS } from './config/connect-options.js';
export { CONNECT_PRODUCTS, isConnectProduct, type ConnectProduct } from './config/connect-product.js';
export { DESCRIPTOR_PATH, LIFECYCLE_PATHS } from './config/resolved-connect-app.js';
export type { ConnectDescriptorInput, LifecycleEventName, ResolvedConnectApp } from './config/resolved-connect-app.js';
export { ConnectAppRegistry } from './config/connect-app-registry.js';

export { ConnectAuth, type ConnectAuthOptions } from './auth/connect-auth.decorator.js';
export { ConnectAuthGuard } from './auth/connect-auth.guard.js';
export { ConnectContext, ConnectTenant } from './auth/connect-context.decorator.js';
export { connectContextOf } from './auth/connect-request.js';
export { ConnectTokenVerifier, type ConnectRequestContext } from './auth/jwt/connect-token-verifier.js';
export { canonicalRequest, queryStringHash } from './auth/jwt/canonical-request.js';
export { CONTEXT_QSH, type ConnectJwtClaims } from './auth/jwt/connect-jwt-claims.js';
export { redactUrl } from './http/redact-url.js';

export { OnDisabled, OnEnabled, OnInstalled, OnUninstalled, type LifecycleHookFilter } from './lifecycle/lifecycle-hooks.decorators.js';
export type { ConnectLifecycleEvent } from './lifecycle/connect-lifecycle-event.js';
export type { LifecyclePayload } from './lifecycle/lifecycle-payload.js';

export { TENANT_STORE, type TenantStateChange, type TenantStore, type TenantWriteContext } from './tenants/tenant-store.js';
export { isTenantActive, type TenantInstallation } from './tenants/tenant.js';
export { CachingTenantStore } from './tenants/caching-tenant-store.js';
export { TypeOrmTenantStore } from './tenants/typeorm-tenant-store.js';
export { ConnectTenantEntity } from './tenants/tenant.entity.js';
export { CONNECT_DATA_SOURCE } from './database/connect-data-source.constants.js';
export { EmbeddedPostgres } from './database/embedded-postgres.js';

export { INSTALL_KEY_RESOLVER, type InstallKeyResolver } from './keys/install-key-resolver.js';
export { DEFAULT_INSTALL_KEYS_URL, HttpInstallKeyResolver, type HttpInstallKeyResolverOptions } from './keys/http-install-key-resolver.js';

export { ConnectHealth, type ConnectHealthReport } from './health/connect-health.js';
export { ConnectError, isConnectError } from './errors/connect-error.js';
export { CONNECT_ERROR_CODES, type ConnectErrorCode } from './errors/connect-error-codes.js';
export { httpStatusOf, toErrorResponse } from './errors/connect-error-http.js';

export { ConnectClient, type ActAsUserOptions, type ClientTarget } from './client/connect-client.js';
export { ConnectHttpClient, type ConnectRequestOptions, type ConnectResponse, type HttpMethod } from './client/connect-http-client.js';
export { ConnectClientError, type ConnectClientErrorFacts } from './client/connect-client-error.js';
export { DEFAULT_RETRY_OPTIONS, type RetryOptions } from './client/retry-policy.js';
export type { PageOptions } from './client/paginate.js';
export { DEFAULT_AUTHORIZATION_SERVER_URL } from './client/user-token-provider.js';
export type { ForgeCallContext, ForgePrincipal } from './client/forge-client-target.js';
export { ConnectForgeLink, type ConnectTenantRef, type ForgeInstallationRef } from './forge/forge-tenant-link.js';
export type { ConnectClientOptions } from './config/connect-options.js';

export { SecretCipher, parseEncryptionKey, SECRET_FORMAT_PREFIX, type EncryptionKey, type SecretOwner } from './database/secret-cipher.js';
export { resolveSecretCipher, DEFAULT_DEV_KEY_FILE, MAKE_KEY_COMMAND } from './database/encryption-keys.js';
export { reencryptTenantSecrets, type ReencryptTenantSecretsOptions, type ReencryptTenantSecretsResult } from './tenants/reencrypt-tenant-secrets.js';
export { createEncryptSharedSecretsMigration } from './tenants/migrations/encrypt-shared-secrets.js';
export { TenantChangeListener, DEFAULT_TENANT_CHANGE_LISTENER_TIMING, type TenantChangeListenerTiming } from './tenants/tenant-change-listener.js';
export { TENANT_CHANGE_CHANNEL } from './tenants/migrations/1795500000000-notify-connect-tenant-changes.js';
export { ConnectPage } from './auth/connect-auth.decorator.js';
export { frameAncestorsPolicy, pageSecurityHeaders, PAGE_HSTS } from './auth/page-security-headers.js';
export { DEFAULT_MAX_TOKEN_LIFETIME_SECONDS } from './config/connect-options.js';
export { OnPurge, type ConnectPurgeEvent } from './lifecycle/on-purge.decorator.js';
export { TenantRetention, DEFAULT_RETENTION_UNINSTALLED_DAYS, DEFAULT_RETENTION_SCHEDULE, type TenantPurgeReport } from './tenants/tenant-retention.js';
export { TenantPurger, type PurgeCandidate, type PurgeOutcome, type PurgeSkipReason } from './tenants/tenant-purge.js';
export { DEFAULT_LIFECYCLE_RATE_LIMIT, DEFAULT_MAX_REQUEST_HEADERS } from './http/request-limits.js';
export { DEFAULT_MAX_LIFECYCLE_JSON_DEPTH } from './lifecycle/json-depth.js';

export { ConnectForgeModule } from './forge/connect-forge.module.js';
export { ForgeAuth, type ForgeAuthOptions } from './forge/forge-auth.decorator.js';
export { ForgeAuthGuard, FORGE_OAUTH_SYSTEM_HEADER, FORGE_OAUTH_USER_HEADER } from './forge/forge-auth.guard.js';
export { ForgeContext } from './forge/forge-context.decorator.js';
export { forgeContextOf } from './forge/forge-request.js';
export type { ForgeInvocationContext } from './forge/forge-invocation-context.js';
export { ForgeTokenVerifier, type VerifiedForgeInvocation } from './forge/forge-token-verifier.js';
export { ForgeJwks, DEFAULT_FORGE_JWKS_URL, FORGE_JWKS_DEFAULTS, type ForgeJwksOptions, type ForgeJwksStats } from './forge/forge-jwks.js';
export { FORGE_APP_ARI_PREFIX, FORGE_INVOCATION_TOKEN_ISSUER, forgeAppAri, isForgeAppId } from './forge/forge-app-id.js';
export { FORGE_INSTALLATION_ARI_PREFIX, MAX_FORGE_TOKEN_LENGTH } from './forge/forge-token-claims.js';
export type { ConnectForgeOptions } from './config/connect-options.js';
