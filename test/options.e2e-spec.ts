import { jest } from '@jest/globals';
import { readFileSync } from 'node:fs';
import { Test } from '@nestjs/testing';
import {
  CONNECT_DEFAULTS,
  ConnectError,
  ConnectModule,
  RESOLVED_CONNECT_OPTIONS,
  TENANT_STORE,
  type ConnectAppOptions,
  type ConnectModuleOptions,
  type ResolvedConnectOptions,
  type TenantStore,
} from 'atlassian-connect-nest';
import { CachingTenantStore } from 'atlassian-connect-nest/advanced';
import { BootstrapLeakWatch } from './support/bootstrap-leaks.js';
import { startTestDatabase, type TestDatabaseHandle } from './support/test-database-options.js';

// Starting the embedded engine takes seconds on a busy machine.
jest.setTimeout(60_000);

const FORGE_APP_ID = '6f0f3a4e-1f7c-4c1b-9a57-2d1e3c4b5a69';

const jira = (overrides: Partial<ConnectAppOptions> = {}): ConnectAppOptions => ({
  product: 'jira',
  key: 'com.test.options',
  baseUrl: 'https://options.example.com/jira',
  descriptor: { name: 'Options' },
  ...overrides,
});

/** A store that keeps tenants in a Map: the smallest complete `TenantStore`. */
function mapStore(): TenantStore & { finds: number } {
  const rows = new Map<string, Awaited<ReturnType<TenantStore['find']>>>();
  return {
    finds: 0,
    async find(appKey, clientKey) {
      this.finds++;
      return rows.get(`${appKey}/${clientKey}`) ?? null;
    },
    async install() {
      throw new Error('not used');
    },
    async update() {
      return null;
    },
    async ping() {},
  };
}

/** Handles that mean "something was opened": listening servers and sockets. */
function openSockets(): number {
  return process.getActiveResourcesInfo().filter((name) => name === 'TCPServerWrap' || name === 'TCPSocketWrap' || name === 'PipeServerWrap').length;
}

async function compileError(options: ConnectModuleOptions): Promise<unknown> {
  try {
    const moduleRef = await Test.createTestingModule({ imports: [ConnectModule.forRoot(options)] }).compile();
    await moduleRef.close();
    return undefined;
  } catch (error) {
    return error;
  }
}

describe('bad options open nothing', () => {
  const watch = new BootstrapLeakWatch();
  let db: TestDatabaseHandle;
  const nodeEnv = process.env.NODE_ENV;

  beforeAll(async () => {
    db = await startTestDatabase();
    watch.install();
  });

  afterEach(() => {
    process.env.NODE_ENV = nodeEnv;
  });

  afterAll(async () => {
    watch.restore();
    await db?.stop();
  });

  const cases: [string, Partial<ConnectModuleOptions>, RegExp][] = [
    ['an empty verified-request cache', { verifiedRequestCache: { maxEntries: 0 } }, /verifiedRequestCache\.maxEntries must be an integer \(1 or more\), not 0/],
    ['a negative retention', { retention: { uninstalledDays: -1 } }, /retention\.uninstalledDays must be an integer from 0 to 36500, not -1/],
    ['a schedule that is not cron', { retention: { schedule: 'every night' } }, /retention\.schedule "every night" is not a valid cron expression/],
    ['a tenant cache TTL of 0', { tenantCache: { ttlMs: 0 } }, /tenantCache\.ttlMs must be an integer/],
    ['a rate limit of 0', { lifecycleRateLimit: { limit: 0 } }, /lifecycleRateLimit\.limit must be an integer/],
    ['a negative client timeout', { client: { timeoutMs: -5 } }, /client\.timeoutMs must be an integer/],
    ['no attempts at all', { client: { retry: { maxAttempts: 0 } } }, /client\.retry\.maxAttempts must be an integer from 1 to 100/],
    ['a leeway of 20 minutes', { leewaySeconds: 1200 }, /leewaySeconds must be a number of seconds from 0 to 300, not 1200/],
    ['a token lifetime of 0', { maxTokenLifetimeSeconds: 0 }, /maxTokenLifetimeSeconds must be an integer \(1 or more\)/],
    ['a health path without a slash', { healthPath: 'health' }, /healthPath must be false or a path such as "\/health"/],
    ['an ftp install-keys URL', { installKeysUrl: 'ftp://keys.example.com' }, /install keys URL must use http or https/],
    ['a schema name with upper case', { database: { schema: 'Tenants' } }, /database\.schema must be a lower-case SQL identifier/],
    ['a pool of 0', { database: { poolSize: 0 } }, /database\.poolSize must be an integer from 1 to 1000/],
    ['an encryption key of 5 bytes', { encryption: { keys: ['c2hvcnQ='] } }, /encryption\.keys\[0\] is not 32 bytes/],
    ['a tenant store without find', { tenantStore: {} as TenantStore }, /tenantStore must implement find, install, update, ping; .* lacks find, install, update, ping/],
    ['an http Forge JWKS URL', { forge: { jwksUrl: 'http://forge.example.com/jwks.json' } }, /forge\.jwksUrl .* must be https/],
  ];

  for (const engine of ['PostgreSQL', 'the embedded engine'] as const) {
    it.each(cases)(`refuses %s before opening anything, on ${engine}`, async (_name, overrides, message) => {
      const before = { ...watch.started, sockets: openSockets() };
      const database = engine === 'PostgreSQL' ? db.database : { embeddedDataDir: 'memory' };
      const error = await compileError({ apps: [jira()], database, ...overrides } as ConnectModuleOptions);
      expect(error).toBeInstanceOf(ConnectError);
      expect(error).toMatchObject({ code: 'config/invalid', message: expect.stringMatching(message) });
      // Nothing was even started: no engine, no DataSource, no new listening server or socket.
      expect(watch.started).toEqual({ engines: before.engines, dataSources: before.dataSources });
      expect(openSockets()).toBeLessThanOrEqual(before.sockets);
      expect(await watch.leftRunning()).toEqual({ engines: 0, dataSources: 0 });
    });
  }

  it('refuses production without an encryption key before the embedded engine starts', async () => {
    process.env.NODE_ENV = 'production';
    const before = watch.started;
    const error = await compileError({ apps: [jira()], database: { embeddedDataDir: 'memory' } });
    expect(error).toMatchObject({ code: 'config/invalid', message: expect.stringContaining('NODE_ENV is production') });
    expect(watch.started).toEqual(before);
  });

  it('refuses a Forge app whose own store cannot find tenants by installation', async () => {
    const store = mapStore();
    const error = await compileError({ apps: [jira({ forge: { appId: FORGE_APP_ID } })], tenantStore: store });
    expect(error).toMatchObject({ code: 'config/invalid', message: expect.stringMatching(/tenantStore must implement .*findByInstallationId.*; .* lacks findByInstallationId/) });
  });
});

describe('resolved options', () => {
  it('are what the services receive: frozen, every default filled in', async () => {
    const moduleRef = await Test.createTestingModule({ imports: [ConnectModule.forRoot({ apps: [jira()], tenantStore: mapStore(), retention: { schedule: false } })] }).compile();
    try {
      const resolved = moduleRef.get<ResolvedConnectOptions>(RESOLVED_CONNECT_OPTIONS);
      expect(Object.isFrozen(resolved)).toBe(true);
      expect(Object.isFrozen(resolved.client.retry)).toBe(true);
      expect(resolved.leewaySeconds).toBe(CONNECT_DEFAULTS.leewaySeconds);
      expect(resolved.tenantCache).toEqual(CONNECT_DEFAULTS.tenantCache);
      expect(resolved.client.retry).toEqual(CONNECT_DEFAULTS.client.retry);
      expect(resolved.forge.leewaySeconds).toBe(CONNECT_DEFAULTS.leewaySeconds);
      expect(resolved.installKeys.url).toBe(CONNECT_DEFAULTS.installKeysUrl);
      expect(() => {
        (resolved as { leewaySeconds: number }).leewaySeconds = 1;
      }).toThrow(TypeError);
    } finally {
      await moduleRef.close();
    }
  });

  it('put the cache in front of a custom tenant store: a second lookup does not reach it', async () => {
    const store = mapStore();
    let installed = false;
    store.find = async function (appKey, clientKey) {
      this.finds++;
      return installed ? ({ appKey, clientKey, enabled: true, uninstalledAt: null } as unknown as Awaited<ReturnType<TenantStore['find']>>) : null;
    };
    const moduleRef = await Test.createTestingModule({ imports: [ConnectModule.forRoot({ apps: [jira()], tenantStore: store, retention: { schedule: false } })] }).compile();
    try {
      const tenants = moduleRef.get<TenantStore>(TENANT_STORE);
      expect(tenants).toBeInstanceOf(CachingTenantStore);
      expect(tenants).not.toBe(store);
      installed = true;
      await tenants.find('com.test.options', 'site-1');
      await tenants.find('com.test.options', 'site-1');
      expect(store.finds).toBe(1);
    } finally {
      await moduleRef.close();
    }
  });
});

describe("README's options tables", () => {
  const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');

  /** `| \`name\` | default | … |` rows of every table whose header is `| Option | Default |`. */
  function optionRows(): Map<string, string> {
    const rows = new Map<string, string>();
    let inTable = false;
    for (const line of readme.split('\n')) {
      if (/^\| Option \| Default \|/.test(line)) {
        inTable = true;
        continue;
      }
      if (!line.startsWith('|')) {
        inTable = false;
        continue;
      }
      const match = inTable ? /^\| `([a-zA-Z.[\]*]+)` \| ([^|]*) \|/.exec(line) : null;
      // An option of each app is written `apps[].name`; its default sits under `CONNECT_DEFAULTS.apps.name`.
      if (match) rows.set(match[1]!.replace('apps[].', 'apps.'), match[2]!.trim());
    }
    return rows;
  }

  /** Every leaf of the module options' defaults, as `a.b.c` → value. */
  function leaves(value: unknown, prefix = ''): [string, unknown][] {
    if (typeof value !== 'object' || value === null || Array.isArray(value)) return [[prefix, value]];
    return Object.entries(value).flatMap(([key, field]) => leaves(field, prefix === '' ? key : `${prefix}.${key}`));
  }

  /** How the README writes a default: numbers with thousands separators, strings in backticks. */
  function written(value: unknown): string {
    if (typeof value === 'number') return value.toLocaleString('en-US');
    if (typeof value === 'string') return `\`${value}\``;
    if (Array.isArray(value)) return value.map(written).join(', ');
    // A list of named rules (`installKeyHosts`) is written by the rules' names; a section shows the rest.
    if (typeof value === 'object' && value !== null && typeof (value as { name?: unknown }).name === 'string') return written((value as { name: string }).name);
    return `\`${String(value)}\``;
  }

  const NOT_OPTIONS = new Set(['installKeyFetch', 'forgeJwksFetch', 'calls', 'tenantChangeListener']);
  const optionDefaults = leaves(Object.fromEntries(Object.entries(CONNECT_DEFAULTS).filter(([key]) => !NOT_OPTIONS.has(key))));

  it('list every default of CONNECT_DEFAULTS with its value', () => {
    const rows = optionRows();
    const mismatches = optionDefaults
      .filter(([name, value]) => rows.get(name) !== written(value))
      .map(([name, value]) => `${name}: README ${rows.get(name) ?? '(missing)'}, code ${written(value)}`);
    expect(mismatches).toEqual([]);
  });

  it('name no option default that the code does not have', () => {
    const known = new Set(optionDefaults.map(([name]) => name));
    const rows = optionRows();
    // A row without a default says so, or names the option whose value it takes.
    const noDefault = (value: string) => value === '—' || value === 'none' || value === '' || rows.has(/^`([a-zA-Z.]+)`$/.exec(value)?.[1] ?? '');
    const unknown = [...rows.entries()].filter(([name, value]) => !noDefault(value) && !known.has(name)).map(([name]) => name);
    expect(unknown).toEqual([]);
    // The table is really there: every group of options has rows.
    expect(rows.size).toBeGreaterThanOrEqual(optionDefaults.length);
  });
});
