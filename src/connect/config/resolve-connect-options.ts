import { ConnectError } from '../errors/connect-error.js';
import { isIsolatedCloudLabel } from '../util/isolated-cloud-label.js';
import { CONNECT_DEFAULTS } from './connect-defaults.js';
import { parseEncryptionKeys } from './encryption-key-option.js';
import { installKeyHostsOption } from './install-key-hosts-option.js';
import type { ConnectForgeOptions, ConnectModuleOptions, RateLimitOptions, RetryOptions } from './connect-options.js';
import { ConnectOptionalPeers, type SchedulingModules } from './optional-peers.js';
import { booleanOption, groupOption, integerOption, numberOption, schemaNameOption, shown } from './option-checks.js';
import { resolveConnectApps } from './resolve-connect-apps.js';
import type { ResolvedConnectOptions } from './resolved-connect-options.js';
import { parseForgeJwksUrl, parseInstallKeysBaseUrl } from './url-options.js';

/** Injection token of the {@link ResolvedConnectOptions} (what the framework's services receive). */
export const RESOLVED_CONNECT_OPTIONS = Symbol.for('atlassian-connect-nest:ResolvedConnectOptions');

/** What the resolution depends on besides the options. */
export interface ResolveConnectOptionsContext {
  /** Default `process.env.NODE_ENV`. */
  readonly nodeEnv?: string | undefined;
  /**
   * How the optional peers are loaded (default: from the framework's location). The options decide
   * which are needed: the embedded engine's packages without a database URL, `@nestjs/schedule` while
   * a retention schedule is on. One that is missing fails the resolution with `config/invalid`.
   */
  readonly peers?: ConnectOptionalPeers | undefined;
}

/** The longest clock skew that makes sense to tolerate: 5 minutes. */
const MAX_LEEWAY_SECONDS = 300;
/** One day, the longest an outbound call may be given; timeouts and windows are bounded by it too. */
const DAY_MS = 86_400_000;

/**
 * Checks `ConnectModule` options and fills in every default (`CONNECT_DEFAULTS`), once, before anything
 * is opened: the module's options provider calls it, and every resource (database, engine, pool,
 * listener, timer) waits for it. Anything wrong throws `config/invalid` with a message naming the option.
 * The result is deeply frozen.
 */
export async function resolveConnectOptions(options: ConnectModuleOptions, context: ResolveConnectOptionsContext = {}): Promise<ResolvedConnectOptions> {
  if (typeof options !== 'object' || options === null) {
    throw ConnectError.create('config/invalid', `ConnectModule options must be an object, not ${shown(options)}.`);
  }
  const nodeEnv = 'nodeEnv' in context ? context.nodeEnv : process.env.NODE_ENV;
  const apps = resolveConnectApps(options.apps);
  const leewaySeconds = integerOrNumber('leewaySeconds', options.leewaySeconds ?? CONNECT_DEFAULTS.leewaySeconds, 0, MAX_LEEWAY_SECONDS);
  const resolved: ResolvedConnectOptions = {
    apps,
    leewaySeconds,
    maxTokenLifetimeSeconds: integerOption('maxTokenLifetimeSeconds', options.maxTokenLifetimeSeconds ?? CONNECT_DEFAULTS.maxTokenLifetimeSeconds, 1),
    maxRequestHeaders: integerOption('maxRequestHeaders', options.maxRequestHeaders ?? CONNECT_DEFAULTS.maxRequestHeaders, 1),
    maxLifecycleJsonDepth: integerOption('maxLifecycleJsonDepth', options.maxLifecycleJsonDepth ?? CONNECT_DEFAULTS.maxLifecycleJsonDepth, 1),
    healthPath: healthPathOf(options.healthPath),
    installKeys: installKeysOf(options),
    tenantStore: objectWith('tenantStore', options.tenantStore, [
      'find',
      'install',
      'update',
      'ping',
      ...(apps.some((app) => app.forgeAppId !== undefined) ? ['findByInstallationId'] : []),
    ]),
    database: databaseOf(options),
    tenantCache: tenantCacheOf(options),
    verifiedRequestCache: verifiedRequestCacheOf(options),
    lifecycleRateLimit: lifecycleRateLimitOf(options),
    retention: retentionOf(options),
    forgeEvents: forgeEventsOf(options),
    forgeRealmMigration: forgeRealmMigrationOf(options),
    encryption: encryptionOf(options, nodeEnv),
    client: clientOf(options),
    forge: forgeOf(options, leewaySeconds),
    nodeEnv,
  };
  // Last, so that every plain mistake is reported before a missing package is.
  const peers = context.peers ?? new ConnectOptionalPeers();
  await peers.check(resolved);
  if (resolved.tenantStore === undefined && resolved.retention.schedule !== false)
    checkCronExpression(resolved.retention.schedule, await peers.scheduling(resolved.retention.schedule));
  return deepFreeze(resolved);
}

function installKeysOf(options: ConnectModuleOptions): ResolvedConnectOptions['installKeys'] {
  return {
    url: parseInstallKeysBaseUrl(stringOption('installKeysUrl', options.installKeysUrl ?? CONNECT_DEFAULTS.installKeysUrl)).href.replace(/\/+$/, ''),
    timeoutMs: integerOption('installKeyTimeoutMs', options.installKeyTimeoutMs ?? CONNECT_DEFAULTS.installKeyTimeoutMs, 1, DAY_MS),
    resolver: objectWith('installKeyResolver', options.installKeyResolver, ['resolve']),
    // An installKeysUrl of its own and no rules: that one host serves every site, as before there were
    // regional hosts (a local key server standing in for all of Atlassian, in tests and the simulator).
    hosts: installKeyHostsOption('installKeyHosts', options.installKeyHosts ?? (options.installKeysUrl !== undefined ? [] : CONNECT_DEFAULTS.installKeyHosts)),
  };
}

function databaseOf(options: ConnectModuleOptions): ResolvedConnectOptions['database'] {
  const database = groupOption('database', options.database);
  const url = database.url === undefined || database.url === '' ? undefined : stringOption('database.url', database.url);
  const dataDir = stringOption('database.embeddedDataDir', database.embeddedDataDir ?? CONNECT_DEFAULTS.database.embeddedDataDir);
  const schema = database.schema === undefined ? undefined : schemaNameOption('database.schema', database.schema);
  const poolSize = integerOption('database.poolSize', database.poolSize ?? CONNECT_DEFAULTS.database.poolSize, 1, 1000);
  return {
    url,
    embeddedDataDir: dataDir === 'memory' ? undefined : dataDir,
    schema,
    // PGlite has a single session: a second pooled connection would share it (see EmbeddedPostgres).
    poolSize: url === undefined ? 1 : poolSize,
    connectTimeoutMs: integerOption('database.connectTimeoutMs', database.connectTimeoutMs ?? CONNECT_DEFAULTS.database.connectTimeoutMs, 1, DAY_MS),
    queryTimeoutMs: integerOption('database.queryTimeoutMs', database.queryTimeoutMs ?? CONNECT_DEFAULTS.database.queryTimeoutMs, 1, DAY_MS),
  };
}

function tenantCacheOf(options: ConnectModuleOptions): ResolvedConnectOptions['tenantCache'] {
  const cache = groupOption('tenantCache', options.tenantCache);
  const ttlMs = integerOption('tenantCache.ttlMs', cache.ttlMs ?? CONNECT_DEFAULTS.tenantCache.ttlMs, 1, DAY_MS);
  return {
    maxEntries: integerOption('tenantCache.maxEntries', cache.maxEntries ?? CONNECT_DEFAULTS.tenantCache.maxEntries, 1),
    ttlMs,
    // A configured ttlMs is also the observed one unless that is given: whoever shortens the TTL means it.
    observedTtlMs: integerOption('tenantCache.observedTtlMs', cache.observedTtlMs ?? cache.ttlMs ?? CONNECT_DEFAULTS.tenantCache.observedTtlMs, 1, DAY_MS),
  };
}

function verifiedRequestCacheOf(options: ConnectModuleOptions): ResolvedConnectOptions['verifiedRequestCache'] {
  if (options.verifiedRequestCache === false) return false;
  const cache = groupOption('verifiedRequestCache', options.verifiedRequestCache);
  return {
    maxEntries: integerOption('verifiedRequestCache.maxEntries', cache.maxEntries ?? CONNECT_DEFAULTS.verifiedRequestCache.maxEntries, 1),
    maxKeyLength: integerOption('verifiedRequestCache.maxKeyLength', cache.maxKeyLength ?? CONNECT_DEFAULTS.verifiedRequestCache.maxKeyLength, 1),
  };
}

function lifecycleRateLimitOf(options: ConnectModuleOptions): ResolvedConnectOptions['lifecycleRateLimit'] {
  if (options.lifecycleRateLimit === false) return false;
  const limit = groupOption('lifecycleRateLimit', options.lifecycleRateLimit);
  const defaults = CONNECT_DEFAULTS.lifecycleRateLimit;
  return {
    limit: integerOption('lifecycleRateLimit.limit', limit.limit ?? defaults.limit, 1),
    windowMs: integerOption('lifecycleRateLimit.windowMs', limit.windowMs ?? defaults.windowMs, 1, DAY_MS),
    maxSources: integerOption('lifecycleRateLimit.maxSources', limit.maxSources ?? defaults.maxSources, 1),
    exemptLoopback: booleanOption('lifecycleRateLimit.exemptLoopback', limit.exemptLoopback ?? defaults.exemptLoopback),
  };
}

function retentionOf(options: ConnectModuleOptions): ResolvedConnectOptions['retention'] {
  const retention = groupOption('retention', options.retention);
  const uninstalledDays = integerOption('retention.uninstalledDays', retention.uninstalledDays ?? CONNECT_DEFAULTS.retention.uninstalledDays, 0, 36_500);
  const schedule = retention.schedule ?? CONNECT_DEFAULTS.retention.schedule;
  if (schedule !== false && (typeof schedule !== 'string' || schedule.trim() === '')) {
    throw ConnectError.create('config/invalid', `retention.schedule must be a cron expression or false, not ${shown(schedule)}.`);
  }
  return { uninstalledDays, schedule };
}

/** The expression parsed by the `cron` that will run it (that of the app's `@nestjs/schedule`). */
function checkCronExpression(schedule: string, { CronTime }: SchedulingModules): void {
  try {
    new CronTime(schedule);
  } catch (error) {
    throw ConnectError.create('config/invalid', `retention.schedule ${JSON.stringify(schedule)} is not a valid cron expression.`, undefined, error);
  }
}

function encryptionOf(options: ConnectModuleOptions, nodeEnv: string | undefined): ResolvedConnectOptions['encryption'] {
  const encryption = groupOption('encryption', options.encryption);
  if (encryption.keys !== undefined && !Array.isArray(encryption.keys)) {
    throw ConnectError.create('config/invalid', `encryption.keys must be an array of keys, not ${shown(encryption.keys)}.`);
  }
  const keys = (encryption.keys ?? []).filter((key) => typeof key !== 'string' || key.trim() !== '');
  if (keys.length > 0) parseEncryptionKeys(keys);
  else if (nodeEnv === 'production' && options.tenantStore === undefined) throw ConnectError.create('config/invalid', NO_PRODUCTION_KEY);
  return { keys, devKeyFile: stringOption('encryption.devKeyFile', encryption.devKeyFile ?? CONNECT_DEFAULTS.encryption.devKeyFile) };
}

/** How to make a key, quoted in the production refusal. */
export const MAKE_KEY_COMMAND = `node -e "console.log(require('crypto').randomBytes(32).toString('base64'))"`;

/** Why production does not start without a key (stated once, here). */
export const NO_PRODUCTION_KEY =
  'No encryption key for tenant secrets: NODE_ENV is production, so the app will not generate one. ' +
  `Make a key with  ${MAKE_KEY_COMMAND}  and set CONNECT_ENCRYPTION_KEYS=<that key> ` +
  '(or pass encryption: { keys: [...] } to ConnectModule). Keep it secret and keep it: without it the stored secrets cannot be read.';

function clientOf(options: ConnectModuleOptions): ResolvedConnectOptions['client'] {
  const client = groupOption('client', options.client);
  const retry = groupOption('client.retry', client.retry);
  const defaults = CONNECT_DEFAULTS.client;
  const resolvedRetry: RetryOptions = {
    maxAttempts: integerOption('client.retry.maxAttempts', retry.maxAttempts ?? defaults.retry.maxAttempts, 1, 100),
    maxTotalMs: integerOption('client.retry.maxTotalMs', retry.maxTotalMs ?? defaults.retry.maxTotalMs, 0, DAY_MS),
    baseDelayMs: integerOption('client.retry.baseDelayMs', retry.baseDelayMs ?? defaults.retry.baseDelayMs, 0, DAY_MS),
    maxDelayMs: integerOption('client.retry.maxDelayMs', retry.maxDelayMs ?? defaults.retry.maxDelayMs, 0, DAY_MS),
    retryNonIdempotent: booleanOption('client.retry.retryNonIdempotent', retry.retryNonIdempotent ?? defaults.retry.retryNonIdempotent),
  };
  const restApiPrefixes = new Map<string, NonNullable<(typeof options.apps)[number]['restApiPrefix']>>();
  for (const app of options.apps) {
    const prefix = app.restApiPrefix;
    if (prefix === undefined) continue;
    if (typeof prefix !== 'function' && (typeof prefix !== 'string' || !prefix.startsWith('/'))) {
      throw ConnectError.create('config/invalid', `App "${app.key}" has restApiPrefix ${shown(prefix)}; use a path starting with "/" or a function of the tenant.`);
    }
    restApiPrefixes.set(app.key, prefix);
  }
  return {
    authorizationServerUrl: httpUrlOption('client.authorizationServerUrl', client.authorizationServerUrl ?? defaults.authorizationServerUrl),
    timeoutMs: integerOption('client.timeoutMs', client.timeoutMs ?? defaults.timeoutMs, 1, DAY_MS),
    retry: resolvedRetry,
    userTokenCacheSize: integerOption('client.userTokenCacheSize', client.userTokenCacheSize ?? defaults.userTokenCacheSize, 1),
    rateLimit: rateLimitOf(groupOption('client.rateLimit', client.rateLimit)),
    restApiPrefixes,
  };
}

function rateLimitOf(rateLimit: Partial<RateLimitOptions>): RateLimitOptions {
  const defaults = CONNECT_DEFAULTS.client.rateLimit;
  return {
    pacing: booleanOption('client.rateLimit.pacing', rateLimit.pacing ?? defaults.pacing),
    paceBelow: numberOption('client.rateLimit.paceBelow', rateLimit.paceBelow ?? defaults.paceBelow, 0, 1),
    maxQueuedPerTenant: integerOption('client.rateLimit.maxQueuedPerTenant', rateLimit.maxQueuedPerTenant ?? defaults.maxQueuedPerTenant, 0, 1_000_000),
    maxWaitMs: integerOption('client.rateLimit.maxWaitMs', rateLimit.maxWaitMs ?? defaults.maxWaitMs, 0, DAY_MS),
    maxTenants: integerOption('client.rateLimit.maxTenants', rateLimit.maxTenants ?? defaults.maxTenants, 1, 10_000_000),
  };
}

function forgeOf(options: ConnectModuleOptions, leewaySeconds: number): ResolvedConnectOptions['forge'] {
  const forge = groupOption('forge', options.forge);
  const defaults = CONNECT_DEFAULTS.forge;
  return {
    jwksUrl: parseForgeJwksUrl(forge.jwksUrl ?? defaults.jwksUrl).href,
    leewaySeconds: integerOrNumber('forge.leewaySeconds', forge.leewaySeconds ?? leewaySeconds, 0, MAX_LEEWAY_SECONDS),
    jwksTimeoutMs: integerOption('forge.jwksTimeoutMs', forge.jwksTimeoutMs ?? defaults.jwksTimeoutMs, 1, DAY_MS),
    jwksCooldownMs: integerOption('forge.jwksCooldownMs', forge.jwksCooldownMs ?? defaults.jwksCooldownMs, 0, DAY_MS),
    jwksCacheMaxAgeMs: integerOption('forge.jwksCacheMaxAgeMs', forge.jwksCacheMaxAgeMs ?? defaults.jwksCacheMaxAgeMs, 0, DAY_MS),
    isolatedCloudJwksUrls: isolatedCloudJwksUrlsOf(forge.isolatedCloudJwksUrls),
    ...systemTokenTimingOf(forge),
    storageApiBaseUrl: parseForgeJwksUrl(forge.storageApiBaseUrl ?? defaults.storageApiBaseUrl, 'forge.storageApiBaseUrl').href.replace(/\/+$/, ''),
  };
}

/** Label → parsed JWKS URL. A Map: a label such as `__proto__` is a key like any other, never a prototype. */
function isolatedCloudJwksUrlsOf(value: unknown): ReadonlyMap<string, string> {
  const urls = groupOption<Record<string, unknown>>('forge.isolatedCloudJwksUrls', value as Record<string, unknown> | undefined);
  const resolved = new Map<string, string>();
  for (const [label, url] of Object.entries(urls)) {
    if (!isIsolatedCloudLabel(label)) {
      throw ConnectError.create(
        'config/invalid',
        `forge.isolatedCloudJwksUrls has the label ${shown(label)}; an Isolated Cloud label is 1 to 50 of a-z, 0-9, _ and - (such as "orange").`,
      );
    }
    resolved.set(label, parseForgeJwksUrl(url, `forge.isolatedCloudJwksUrls.${label}`).href);
  }
  return resolved;
}

function systemTokenTimingOf(forge: Partial<ConnectForgeOptions>): Pick<ResolvedConnectOptions['forge'], 'systemTokenLifetimeSeconds' | 'systemTokenSafetyMarginSeconds'> {
  const defaults = CONNECT_DEFAULTS.forge;
  // At most a day: the longest a saved token is trusted even when its own exp says more.
  const lifetime = integerOption('forge.systemTokenLifetimeSeconds', forge.systemTokenLifetimeSeconds ?? defaults.systemTokenLifetimeSeconds, 60, 86_400);
  const margin = integerOption('forge.systemTokenSafetyMarginSeconds', forge.systemTokenSafetyMarginSeconds ?? defaults.systemTokenSafetyMarginSeconds, 0, 3600);
  if (margin >= lifetime) {
    throw ConnectError.create(
      'config/invalid',
      `forge.systemTokenSafetyMarginSeconds (${margin}) must be smaller than forge.systemTokenLifetimeSeconds (${lifetime}), or a saved token without exp is never used.`,
    );
  }
  return { systemTokenLifetimeSeconds: lifetime, systemTokenSafetyMarginSeconds: margin };
}

function forgeEventsOf(options: ConnectModuleOptions): ResolvedConnectOptions['forgeEvents'] {
  const events = groupOption('forgeEvents', options.forgeEvents);
  const defaults = CONNECT_DEFAULTS.forgeEvents;
  const path = events.path ?? defaults.path;
  if (path !== false && (typeof path !== 'string' || !/^(\/[A-Za-z0-9\-._~]+)+$/.test(path))) {
    throw ConnectError.create('config/invalid', `forgeEvents.path must be false or a path such as "/forge/events" (segments of letters, digits and - . _ ~), not ${shown(path)}.`);
  }
  return {
    path,
    deadlineMs: integerOption('forgeEvents.deadlineMs', events.deadlineMs ?? defaults.deadlineMs, 1, 4900),
    dedupeWindowSeconds: integerOption('forgeEvents.dedupeWindowSeconds', events.dedupeWindowSeconds ?? defaults.dedupeWindowSeconds, 1, 86_400),
    claimTimeoutSeconds: integerOption('forgeEvents.claimTimeoutSeconds', events.claimTimeoutSeconds ?? defaults.claimTimeoutSeconds, 1, 3600),
  };
}

function forgeRealmMigrationOf(options: ConnectModuleOptions): ResolvedConnectOptions['forgeRealmMigration'] {
  const path = groupOption('forgeRealmMigration', options.forgeRealmMigration).path ?? CONNECT_DEFAULTS.forgeRealmMigration.path;
  if (path !== false && (typeof path !== 'string' || !/^(\/[A-Za-z0-9\-._~]+)+$/.test(path))) {
    throw ConnectError.create(
      'config/invalid',
      `forgeRealmMigration.path must be false or a path such as "/forge/realm-migration" (segments of letters, digits and - . _ ~), not ${shown(path)}.`,
    );
  }
  return { path };
}

function healthPathOf(value: ConnectModuleOptions['healthPath']): string | false {
  const path = value ?? CONNECT_DEFAULTS.healthPath;
  if (path === false) return false;
  if (typeof path !== 'string' || !/^\/[A-Za-z0-9\-._~%$&',;=@/]*$/.test(path)) {
    throw ConnectError.create('config/invalid', `healthPath must be false or a path such as "/health" (letters, digits and - . _ ~ % $ & ' , ; = @ /), not ${shown(path)}.`);
  }
  return path;
}

/** Seconds of leeway may be fractional; everything else counted is an integer. */
function integerOrNumber(name: string, value: unknown, min: number, max: number): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < min || value > max) {
    throw ConnectError.create('config/invalid', `${name} must be a number of seconds from ${min} to ${max}, not ${shown(value)}.`);
  }
  return value;
}

function stringOption(name: string, value: unknown): string {
  if (typeof value !== 'string' || value === '') throw ConnectError.create('config/invalid', `${name} must be a non-empty string, not ${shown(value)}.`);
  return value;
}

function httpUrlOption(name: string, value: unknown): string {
  const text = stringOption(name, value);
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw ConnectError.create('config/invalid', `${name} ${JSON.stringify(text)} is not an absolute URL.`);
  }
  if ((url.protocol !== 'https:' && url.protocol !== 'http:') || url.username || url.password || url.search || url.hash) {
    throw ConnectError.create('config/invalid', `${name} must be an http(s) URL without credentials, query or fragment, not ${JSON.stringify(text)}.`);
  }
  return text.replace(/\/+$/, '');
}

/** An object that has the given methods (a replacement store or resolver), or `undefined`. */
function objectWith<T>(name: string, value: T | undefined, methods: readonly string[]): T | undefined {
  if (value === undefined) return undefined;
  const missing = methods.filter((method) => typeof (value as Record<string, unknown> | null)?.[method] !== 'function');
  if (missing.length > 0) {
    throw ConnectError.create('config/invalid', `${name} must implement ${methods.join(', ')}; ${shown(value)} lacks ${missing.join(', ')}.`);
  }
  return value;
}

function deepFreeze<T>(value: T): T {
  if (typeof value !== 'object' || value === null || Object.isFrozen(value)) return value;
  // The app's own store and resolver are the app's objects: handed on as they are, never frozen.
  for (const [key, field] of Object.entries(value)) if (key !== 'tenantStore' && key !== 'resolver' && !(field instanceof Map)) deepFreeze(field);
  return Object.freeze(value);
}
