/**
 * atlassian-connect-nest/testing: what app authors use in their own tests to act as Jira or
 * Confluence (signed installs with real RSA keys, HS256 request tokens) against a real app.
 */
export {
  FakeConnectHost,
  type FakeApiSite,
  type FakeConnectHostOptions,
  type FakeHostApp,
  type FakeSite,
  type FakeSiteStartOptions,
  type LifecycleCallOptions,
} from './fake-connect-host.js';
export {
  FakeProductApi,
  addonAccountId,
  DEFAULT_FAKE_CONTENTS,
  DEFAULT_FAKE_PROJECTS,
  DEFAULT_FAKE_SPACES,
  type FakeApiFailure,
  type FakeApiInstallation,
  type FakeApiRefusal,
  type FakeApiRefusalReason,
  type FakeApiRequest,
  type FakeApiRouteHandler,
  type FakeContent,
  type FakeProductApiOptions,
  type FakeProject,
  type FakeSpace,
} from './fake-product-api.js';
export {
  FakeForgeStorage,
  type FakeForgeStorageOptions,
  type FakeStorageAttributeType,
  type FakeStorageEntityDefinition,
  type FakeStorageFailure,
  type FakeStorageRequest,
} from './fake-forge-storage.js';
/** The 2026 points budget of a fake site (`rateLimit` of `FakeProductApiOptions`, `api.setRateLimit()`). */
export { FakeRateLimitBudget, type FakeRateLimitCharge, type FakeRateLimitOptions } from './fake-rate-limit-budget.js';
export { FakeForgeApi, forgeSystemAccountId, type FakeForgeCaller, type FakeForgeRefusal, type FakeForgeTokenOptions, type FakeForgeTokens } from './fake-forge-api.js';
export {
  FakeAuthorizationServer,
  CONNECT_CLIENT_ID_PREFIX,
  CONNECT_USER_ACCOUNT_PREFIX,
  JWT_BEARER_GRANT_TYPE,
  OAUTH_TOKEN_PATH,
  type FakeAccessGrant,
  type FakeAuthorizationServerOptions,
  type FakeOAuthClient,
  type FakeTokenFailure,
  type FakeTokenRequest,
} from './fake-authorization-server.js';
export { signConnectToken, type ClaimOverrides, type SignConnectTokenOptions } from './sign-connect-token.js';
export { createInstallKeyPair, type InstallKeyPair, type CreateInstallKeyPairOptions } from './install-key-pair.js';
export { InstallKeyServer, type InstallKeyServerDelayPhase, type InstallKeyServerOptions, type InstallKeyServerResponse } from './install-key-server.js';
export { httpCall, type HttpCallOptions, type HttpCallResponse } from './http-call.js';
export { startTestDatabase, type TestDatabase } from './test-database.js';
export { FakeForgeHost, SAMPLE_FORGE_ACCOUNT_ID, type FakeForgeHostOptions, type ForgeInvokeOptions, type MintInvocationTokenOptions } from './fake-forge-host.js';
export type {
  ForgeDeliveryAttempt,
  ForgeDeliveryOptions,
  ForgeDeliveryReport,
  ForgeDeliveryRetryContext,
  ForgeLifecycleEventOptions,
  ForgeRetryReason,
  ForgeTriggerOptions,
} from './fake-forge-delivery.js';
export type { RealmMigrationCall, RealmMigrationDriveOptions, RealmMigrationReport, RealmMigrationRollbackReason } from './fake-realm-migration.js';
export { ForgeJwksServer, FORGE_JWKS_PATH, type ForgeJwksServerOptions } from './fake-forge-jwks-server.js';
export { createForgeKeyPair, type ForgeKeyPair } from './fake-forge-keys.js';
/**
 * The loopback hosts of `FakeConnectHost.startSite()` sites (plain http on 127.0.0.1): an app whose tests
 * install such a site lists them in its `allowedHostPatterns` (the same constant as the main entry's).
 */
export { LOOPBACK_HOST_PATTERNS } from '../config/allowed-host-patterns.js';
