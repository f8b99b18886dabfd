/** The HTTP adapters the example can run on (`HTTP_ADAPTER`). */
export const EXAMPLE_HTTP_ADAPTERS = ['express', 'fastify'] as const;
export type ExampleHttpAdapter = (typeof EXAMPLE_HTTP_ADAPTERS)[number];

/** The example app's settings, read from the environment (see README). */
export interface ExampleConfig {
  port: number;
  /**
   * Which Nest HTTP adapter serves the app (default `fastify`, about four times Express's throughput in
   * docs/benchmarks.md); the framework behaves the same on both.
   */
  httpAdapter?: ExampleHttpAdapter | undefined;
  /** Public URL of this process; the apps live at `<appBaseUrl>/jira` and `<appBaseUrl>/confluence`. */
  appBaseUrl: string;
  databaseUrl?: string | undefined;
  installKeysUrl?: string | undefined;
  /** Where the embedded engine keeps its files (default `.data/pglite`); `memory` for none. */
  embeddedDataDir?: string | undefined;
  /** PostgreSQL schema for the tenant table (tests use one per run). */
  databaseSchema?: string | undefined;
  /** OAuth 2.0 authorization server for acting as a user (default Atlassian's). */
  authorizationServerUrl?: string | undefined;
  /** Keys encrypting the tenants' shared secrets (`CONNECT_ENCRYPTION_KEYS`, comma-separated); the first encrypts. */
  encryptionKeys?: string[] | undefined;
  /** Development only: where the generated encryption key is kept (default `.data/connect-encryption.key`). */
  encryptionDevKeyFile?: string | undefined;
  /** Forge app id of the Jira app (`FORGE_APP_ID_JIRA`, default `EXAMPLE_FORGE_APP_IDS.jira`): enables Forge Remote calls for it. */
  forgeAppIdJira?: string | undefined;
  /** Forge app id of the Confluence app (`FORGE_APP_ID_CONFLUENCE`, default `EXAMPLE_FORGE_APP_IDS.confluence`). */
  forgeAppIdConfluence?: string | undefined;
  /** Where Forge Invocation Token keys come from (`FORGE_JWKS_URL`, default Forge's production JWKS). */
  forgeJwksUrl?: string | undefined;
  /** Least time between JWKS refetches for unknown kids (`FORGE_JWKS_COOLDOWN_MS`, default 30 s). */
  forgeJwksCooldownMs?: number | undefined;
  /** Base URL of Forge's hosted storage REST API (`FORGE_STORAGE_API_URL`, default Atlassian's; a `FakeForgeStorage` in tests). */
  forgeStorageApiBaseUrl?: string | undefined;
  /** How often the background job calls each Forge installation with its saved token (`FORGE_SYNC_INTERVAL_MS`, default 15 min; 0: never). */
  forgeSyncIntervalMs?: number | undefined;
  /**
   * Also accept installs from sites on loopback (`localhost`, `127.0.0.1`, `[::1]`, plain http allowed):
   * the site `atlassian-connect-nest simulate` and the test kit serve. Off means Atlassian's cloud domains
   * only. `exampleConfigFromEnv` turns it on unless `NODE_ENV=production`.
   */
  allowLoopbackSites?: boolean | undefined;
}

/**
 * The Forge app ids the example uses when `FORGE_APP_ID_JIRA` / `FORGE_APP_ID_CONFLUENCE` are not set, so
 * that `npm start` serves the Forge endpoints and `manifest` writes a manifest with no setup. They name no
 * real Forge app: set the variables to the ids `forge register` gave yours before deploying.
 */
export const EXAMPLE_FORGE_APP_IDS = Object.freeze({ jira: '0e8a0000-0000-4000-8000-00000000a001', confluence: '0e8a0000-0000-4000-8000-00000000a002' });

export function exampleConfigFromEnv(env: NodeJS.ProcessEnv = process.env): ExampleConfig {
  const port = Number(env.PORT ?? 3000);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`PORT must be a port number, not ${JSON.stringify(env.PORT)}.`);
  const httpAdapter = (env.HTTP_ADAPTER || 'fastify').trim().toLowerCase();
  if (!isHttpAdapter(httpAdapter)) {
    throw new Error(`HTTP_ADAPTER must be ${EXAMPLE_HTTP_ADAPTERS.join(' or ')}, not ${JSON.stringify(env.HTTP_ADAPTER)}.`);
  }
  return {
    port,
    httpAdapter,
    appBaseUrl: (env.APP_BASE_URL || `http://localhost:${port}`).replace(/\/+$/, ''),
    databaseUrl: env.DATABASE_URL || undefined,
    installKeysUrl: env.CONNECT_INSTALL_KEYS_URL || undefined,
    embeddedDataDir: env.CONNECT_EMBEDDED_DATA_DIR || undefined,
    databaseSchema: env.CONNECT_DATABASE_SCHEMA || undefined,
    authorizationServerUrl: env.CONNECT_AUTHORIZATION_SERVER_URL || undefined,
    encryptionKeys: splitList(env.CONNECT_ENCRYPTION_KEYS),
    encryptionDevKeyFile: env.CONNECT_ENCRYPTION_DEV_KEY_FILE || undefined,
    forgeAppIdJira: env.FORGE_APP_ID_JIRA || EXAMPLE_FORGE_APP_IDS.jira,
    forgeAppIdConfluence: env.FORGE_APP_ID_CONFLUENCE || EXAMPLE_FORGE_APP_IDS.confluence,
    forgeJwksUrl: env.FORGE_JWKS_URL || undefined,
    forgeJwksCooldownMs: env.FORGE_JWKS_COOLDOWN_MS ? Number(env.FORGE_JWKS_COOLDOWN_MS) : undefined,
    forgeStorageApiBaseUrl: env.FORGE_STORAGE_API_URL || undefined,
    forgeSyncIntervalMs: env.FORGE_SYNC_INTERVAL_MS ? syncInterval(env.FORGE_SYNC_INTERVAL_MS) : undefined,
    // Local development simulates sites on loopback; a production process takes Atlassian's sites only.
    allowLoopbackSites: env.NODE_ENV !== 'production',
  };
}

/** `a, b,,c` → `['a', 'b', 'c']`; nothing → `undefined`. */
function syncInterval(value: string): number {
  const ms = Number(value);
  if (!Number.isInteger(ms) || ms < 0) throw new Error(`FORGE_SYNC_INTERVAL_MS must be a whole number of milliseconds (0: off), not ${JSON.stringify(value)}.`);
  return ms;
}

function splitList(value: string | undefined): string[] | undefined {
  const items = (value ?? '')
    .split(',')
    .map((item) => item.trim())
    .filter((item) => item !== '');
  return items.length === 0 ? undefined : items;
}

function isHttpAdapter(value: string): value is ExampleHttpAdapter {
  return (EXAMPLE_HTTP_ADAPTERS as readonly string[]).includes(value);
}
