/** The example app's settings, read from the environment (see README). */
export interface ExampleConfig {
  port: number;
  /** Public URL of this process; the apps live at `<appBaseUrl>/jira` and `<appBaseUrl>/confluence`. */
  appBaseUrl: string;
  databaseUrl?: string;
  installKeysUrl?: string;
  /** Where the embedded engine keeps its files (default `.data/pglite`); `memory` for none. */
  embeddedDataDir?: string;
  /** PostgreSQL schema for the tenant table (tests use one per run). */
  databaseSchema?: string;
  /** OAuth 2.0 authorization server for acting as a user (default Atlassian's). */
  authorizationServerUrl?: string;
  /** Keys encrypting the tenants' shared secrets (`CONNECT_ENCRYPTION_KEYS`, comma-separated); the first encrypts. */
  encryptionKeys?: string[];
  /** Development only: where the generated encryption key is kept (default `.data/connect-encryption.key`). */
  encryptionDevKeyFile?: string;
}

export function exampleConfigFromEnv(env: NodeJS.ProcessEnv = process.env): ExampleConfig {
  const port = Number(env.PORT ?? 3000);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`PORT must be a port number, not ${JSON.stringify(env.PORT)}.`);
  return {
    port,
    appBaseUrl: (env.APP_BASE_URL || `http://localhost:${port}`).replace(/\/+$/, ''),
    databaseUrl: env.DATABASE_URL || undefined,
    installKeysUrl: env.CONNECT_INSTALL_KEYS_URL || undefined,
    embeddedDataDir: env.CONNECT_EMBEDDED_DATA_DIR || undefined,
    databaseSchema: env.CONNECT_DATABASE_SCHEMA || undefined,
    authorizationServerUrl: env.CONNECT_AUTHORIZATION_SERVER_URL || undefined,
    encryptionKeys: splitList(env.CONNECT_ENCRYPTION_KEYS),
    encryptionDevKeyFile: env.CONNECT_ENCRYPTION_DEV_KEY_FILE || undefined,
  };
}

/** `a, b,,c` → `['a', 'b', 'c']`; nothing → `undefined`. */
function splitList(value: string | undefined): string[] | undefined {
  const items = (value ?? '').split(',').map((item) => item.trim()).filter((item) => item !== '');
  return items.length === 0 ? undefined : items;
}
