import { jest } from '@jest/globals';
import { Injectable, Module, type DynamicModule } from '@nestjs/common';
import { Test, type TestingModuleBuilder } from '@nestjs/testing';
import {
  CONNECT_DEFAULTS,
  ConnectAppRegistry,
  ConnectError,
  ConnectModule,
  TENANT_STORE,
  type ConnectAppOptions,
  type ConnectModuleOptions,
  type ResolvedConnectApp,
  type TenantStore,
} from 'atlassian-connect-nest';
import { FakeConnectHost, signConnectToken, type FakeHostApp, type FakeSite } from 'atlassian-connect-nest/testing';
import { ConnectOptionalPeers, nodeModuleLoader, type ModuleLoader } from '../src/connect/config/optional-peers.js';
import { BootstrapLeakWatch } from './support/bootstrap-leaks.js';
import { listenOn, qshOf, type StartedConnectApp } from './support/connect-test-app.js';
import { whoamiController } from './fixtures/whoami-controller.js';
import { startTestDatabase, type TestDatabaseHandle } from './support/test-database-options.js';

// Starting the embedded engine takes seconds on a busy machine (jest.config.js's per-project testTimeout is not applied).
jest.setTimeout(60_000);

const LIFECYCLE = { installed: '/installed', uninstalled: '/uninstalled', enabled: '/enabled', disabled: '/disabled' };
const API_MIGRATIONS = { 'signed-install': true, 'context-qsh': true };

function bearer(token: string): { headers: Record<string, string> } {
  return { headers: { authorization: `JWT ${token}` } };
}

function tokenWithQsh(site: FakeSite, qsh: string): Promise<string> {
  return signConnectToken({ clientKey: site.clientKey, sharedSecret: site.sharedSecret, qsh });
}

/** A ConfigService look-alike living in a module of its own, as @nestjs/config's does. */
@Injectable()
class SettingsService {
  readonly reads: string[] = [];
  constructor(private readonly values: Record<string, string>) {}
  get(name: string): string {
    this.reads.push(name);
    const value = this.values[name];
    if (value === undefined) throw new Error(`No setting ${name}`);
    return value;
  }
}

const SETTINGS_VALUES = 'SETTINGS_VALUES';

@Module({})
class SettingsModule {
  static register(values: Record<string, string>): DynamicModule {
    return {
      module: SettingsModule,
      providers: [
        { provide: SETTINGS_VALUES, useValue: values },
        { provide: SettingsService, inject: [SETTINGS_VALUES], useFactory: (v: Record<string, string>) => new SettingsService(v) },
      ],
      exports: [SettingsService],
    };
  }
}

function cyclic(): Record<string, unknown> {
  const descriptor: Record<string, unknown> = { name: 'Cyclic' };
  descriptor.self = descriptor;
  return descriptor;
}

describe('ConnectModule options', () => {
  let host: FakeConnectHost;
  let db: TestDatabaseHandle;

  beforeAll(async () => {
    host = await FakeConnectHost.start();
  });

  afterAll(async () => {
    await host?.close();
  });

  describe('forRootAsync', () => {
    let running: StartedConnectApp;
    let settings: SettingsService;
    const factoryArguments: unknown[][] = [];

    beforeAll(async () => {
      db = await startTestDatabase();
      const connect = ConnectModule.forRootAsync({
        imports: [SettingsModule.register({ APP_BASE_URL: 'https://async.example.com/tools/', INSTALL_KEYS_URL: host.installKeysUrl })],
        inject: [SettingsService],
        useFactory: async (config: SettingsService): Promise<ConnectModuleOptions> => {
          factoryArguments.push([config]);
          await new Promise((resolve) => setTimeout(resolve, 10)); // an async factory really awaited
          return {
            apps: [{ product: 'jira', key: 'com.test.async', baseUrl: config.get('APP_BASE_URL'), descriptor: { name: 'Async' } }],
            installKeysUrl: config.get('INSTALL_KEYS_URL'),
            database: db.database,
          };
        },
      });
      running = await listenOn({ module: class AsyncAppModule {}, imports: [connect], controllers: [whoamiController('tools')] });
      settings = running.app.get(SettingsService);
    });

    afterAll(async () => {
      await running?.close();
      await db?.stop();
    });

    it('builds the options from an injected provider of an imported module', async () => {
      expect(factoryArguments).toHaveLength(1);
      expect(factoryArguments[0]![0]).toBe(settings);
      expect(settings.reads).toEqual(expect.arrayContaining(['APP_BASE_URL', 'INSTALL_KEYS_URL']));
      expect(running.app.get(ConnectAppRegistry).apps.map((app) => [app.key, app.baseUrl])).toEqual([['com.test.async', 'https://async.example.com/tools']]);
    });

    it('serves the descriptor and installs with the keys URL that came from the factory', async () => {
      const app: FakeHostApp = { key: 'com.test.async', product: 'jira', baseUrl: 'https://async.example.com/tools', via: running.url };
      const descriptor = await host.send(app, 'GET', '/tools/atlassian-connect.json');
      expect(descriptor.status).toBe(200);
      expect(descriptor.body).toMatchObject({ key: 'com.test.async', name: 'Async', baseUrl: 'https://async.example.com/tools' });

      host.keyServer.resetRequests();
      const site = host.newSite('jira');
      expect((await host.install(app, site)).status).toBe(204);
      expect(host.keyServer.requests(host.kid)).toBeGreaterThanOrEqual(1);
      const stored = await running.app.get<TenantStore>(TENANT_STORE).find('com.test.async', site.clientKey);
      expect(stored).toMatchObject({ sharedSecret: site.sharedSecret });
      const whoami = await host.send(app, 'GET', '/tools/api/whoami', bearer(await tokenWithQsh(site, qshOf('GET&/api/whoami&'))));
      expect(whoami.status).toBe(200);
      expect(whoami.body).toMatchObject({ app: 'com.test.async', clientKey: site.clientKey });
    });
  });

  describe('bad configuration fails at bootstrap with config/invalid', () => {
    const watch = new BootstrapLeakWatch();
    let badDb: TestDatabaseHandle;

    beforeAll(async () => {
      badDb = await startTestDatabase();
      watch.install();
    });

    afterEach(async () => {
      await watch.leftRunning(); // a failed assertion must not leave its leak to the next test
    });

    afterAll(async () => {
      watch.restore();
      await badDb?.stop();
    });

    /** The error compile() rejects with; a module that compiles after all is closed again. */
    async function compileError(builder: TestingModuleBuilder): Promise<unknown> {
      try {
        const moduleRef = await builder.compile();
        await moduleRef.close();
        return undefined;
      } catch (error) {
        return error;
      }
    }

    const jira = (overrides: Partial<ConnectAppOptions> = {}): ConnectAppOptions => ({
      product: 'jira',
      key: 'com.test.jira',
      baseUrl: 'https://bad.example.com/jira',
      descriptor: { name: 'Bad' },
      ...overrides,
    });
    const confluence = (overrides: Partial<ConnectAppOptions> = {}): ConnectAppOptions => ({
      product: 'confluence',
      key: 'com.test.confluence',
      baseUrl: 'https://bad.example.com/confluence',
      descriptor: { name: 'Bad' },
      ...overrides,
    });

    const cases: [string, unknown, RegExp][] = [
      ['no apps', [], /at least one app/],
      ['apps missing', undefined, /at least one app/],
      ['duplicate keys', [jira(), confluence({ key: 'com.test.jira' })], /share the key "com\.test\.jira"/],
      ['duplicate baseUrls', [jira(), confluence({ baseUrl: 'https://bad.example.com/jira' })], /share the baseUrl "bad\.example\.com\/jira"/],
      ['duplicate baseUrls up to case and trailing slash', [jira(), confluence({ baseUrl: 'https://BAD.example.com/jira/' })], /share the baseUrl/],
      ['a key with spaces', [jira({ key: 'com test jira' })], /App key "com test jira" is not valid: use 1 to 64 characters/],
      ['a key of 65 characters', [jira({ key: 'k'.repeat(65) })], new RegExp(`App key "${'k'.repeat(65)}" is not valid`)],
      ['an empty key', [jira({ key: '' })], /App key "" is not valid/],
      ['an unknown product', [jira({ product: 'bitbucket' as never })], /App "com\.test\.jira" has product "bitbucket"; use "jira" or "confluence"/],
      ['a baseUrl that is not a URL', [jira({ baseUrl: 'bad.example.com/jira' })], /App "com\.test\.jira" has baseUrl "bad\.example\.com\/jira", which is not an absolute URL/],
      ['a non-http baseUrl', [jira({ baseUrl: 'ftp://bad.example.com/jira' })], /only http\(s\) URLs/],
      ['a baseUrl with a query', [jira({ baseUrl: 'https://bad.example.com/jira?tenant=1' })], /carries no query, fragment or credentials/],
      ['a baseUrl with a fragment', [jira({ baseUrl: 'https://bad.example.com/jira#top' })], /carries no query, fragment or credentials/],
      [
        'a baseUrl path with a route parameter (:)',
        [jira({ baseUrl: 'https://bad.example.com/a:b' })],
        /has baseUrl https:\/\/bad\.example\.com\/a:b; its path may only use letters, digits/,
      ],
      ['a baseUrl path with a wildcard (*)', [jira({ baseUrl: 'https://bad.example.com/*all' })], /its path may only use letters, digits/],
      ['a baseUrl path with parentheses', [jira({ baseUrl: 'https://bad.example.com/my(app)' })], /its path may only use letters, digits/],
      ['a bad extraBaseUrl', [jira({ extraBaseUrls: ['not a url'] })], /which is not an absolute URL/],
      [
        'a descriptor with another key',
        [jira({ descriptor: { name: 'Bad', key: 'com.other' } })],
        /descriptor of app "com\.test\.jira" sets key to "com\.other", but the framework serves "com\.test\.jira"/,
      ],
      ['a descriptor key with a trailing slash', [jira({ descriptor: { key: 'com.test.jira/' } })], /sets key to "com\.test\.jira\/"/],
      [
        'a descriptor with another baseUrl',
        [jira({ descriptor: { baseUrl: 'https://other.example.com/jira' } })],
        /sets baseUrl to "https:\/\/other\.example\.com\/jira", but the framework serves "https:\/\/bad\.example\.com\/jira"/,
      ],
      [
        'a descriptor with another lifecycle.installed',
        [jira({ descriptor: { lifecycle: { installed: '/other' } } })],
        /sets lifecycle\.installed to "\/other", but the framework serves "\/installed"/,
      ],
      [
        'a descriptor turning off signed installs',
        [jira({ descriptor: { apiMigrations: { 'signed-install': false } } })],
        /sets apiMigrations\.signed-install to false, but the framework serves true/,
      ],
      ['a descriptor with another authentication', [jira({ descriptor: { authentication: { type: 'none' } } })], /sets authentication\.type to "none"/],
      ['a descriptor that is not an object', [jira({ descriptor: [] as never })], /descriptor of app "com\.test\.jira" must be an object/],
      ['a descriptor holding a function', [jira({ descriptor: { name: 'Bad', modules: { render: () => 'x' } } })], /descriptor of app "com\.test\.jira" must be plain JSON data/],
      ['a descriptor holding a BigInt', [jira({ descriptor: { name: 'Bad', apiVersion: 1n } })], /descriptor of app "com\.test\.jira" must be plain JSON data/],
      ['a descriptor with a cycle', [jira({ descriptor: cyclic() })], /descriptor of app "com\.test\.jira" must be plain JSON data/],
      ['a descriptor function returning a conflict', [jira({ descriptor: () => ({ lifecycle: { uninstalled: '/gone' } }) })], /sets lifecycle\.uninstalled to "\/gone"/],
    ];

    it.each(cases)('refuses %s, and leaves no database running', async (_name, apps, message) => {
      const options = { apps, installKeysUrl: host.installKeysUrl, database: badDb.database } as ConnectModuleOptions;
      const error = await compileError(Test.createTestingModule({ imports: [ConnectModule.forRoot(options)] }));
      expect(error).toBeInstanceOf(ConnectError);
      expect(error).toMatchObject({ code: 'config/invalid', message: expect.stringMatching(message) });
      expect(await watch.leftRunning()).toEqual({ engines: 0, dataSources: 0 });
    });

    it('refuses bad options from forRootAsync too, and leaves no database running', async () => {
      const module = ConnectModule.forRootAsync({
        useFactory: async () => ({ apps: [jira(), confluence({ key: 'com.test.jira' })], installKeysUrl: host.installKeysUrl, database: badDb.database }),
      });
      const error = await compileError(Test.createTestingModule({ imports: [module] }));
      expect(error).toBeInstanceOf(ConnectError);
      expect(error).toMatchObject({ code: 'config/invalid', message: expect.stringMatching(/share the key "com\.test\.jira"/) });
      expect(await watch.leftRunning()).toEqual({ engines: 0, dataSources: 0 });
    });

    /** Optional peers as if `missing` were not installed (Node's own error for those), the others loaded for real. */
    const peersWithout = (...missing: string[]): ConnectOptionalPeers => {
      const loader: ModuleLoader = {
        load: (name) =>
          missing.includes(name)
            ? Promise.reject(
                Object.assign(new Error(`Cannot find package '${name}' imported from /app/node_modules/atlassian-connect-nest/dist/connect/config/optional-peers.js`), {
                  code: 'ERR_MODULE_NOT_FOUND',
                }),
              )
            : nodeModuleLoader.load(name),
        loadDependencyOf: (parent, dependency) => nodeModuleLoader.loadDependencyOf(parent, dependency),
      };
      return new ConnectOptionalPeers(loader);
    };

    it.each([
      [
        'the embedded engine without pglite',
        { embeddedDataDir: 'memory' },
        { schedule: false as const },
        ['@electric-sql/pglite', '@electric-sql/pglite-socket'],
        'No database URL is given, so the embedded engine would start, but @electric-sql/pglite and @electric-sql/pglite-socket are not installed: npm install @electric-sql/pglite @electric-sql/pglite-socket, or set database.url.',
      ],
      [
        'the retention schedule without @nestjs/schedule',
        undefined,
        {},
        ['@nestjs/schedule'],
        'retention.schedule is on (default "17 3 * * *") but @nestjs/schedule is not installed: npm install @nestjs/schedule, or set retention: { schedule: false }.',
      ],
    ])('refuses %s with one config/invalid line, before any database is opened (forRoot and forRootAsync)', async (_name, database, retention, missing, message) => {
      const options = { apps: [jira()], installKeysUrl: host.installKeysUrl, database: database ?? badDb.database, retention } as ConnectModuleOptions;
      for (const module of [ConnectModule.forRoot(options), ConnectModule.forRootAsync({ useFactory: async () => options })]) {
        const builder = Test.createTestingModule({ imports: [module] })
          .overrideProvider(ConnectOptionalPeers)
          .useValue(peersWithout(...missing));
        const before = watch.started;
        const error = await compileError(builder);
        expect(error).toBeInstanceOf(ConnectError);
        expect(error).toMatchObject({ code: 'config/invalid', message });
        // not started and stopped again: never started
        expect(watch.started).toEqual(before);
        expect(await watch.leftRunning()).toEqual({ engines: 0, dataSources: 0 });
      }
    });

    it('opens the database when the missing peers are not needed (a database URL, no schedule)', async () => {
      const before = watch.started.dataSources;
      const moduleRef = await Test.createTestingModule({
        imports: [ConnectModule.forRoot({ apps: [jira()], installKeysUrl: host.installKeysUrl, database: badDb.database, retention: { schedule: false } })],
      })
        .overrideProvider(ConnectOptionalPeers)
        .useValue(peersWithout(...(badDb.engine === 'postgres' ? ['@electric-sql/pglite', '@electric-sql/pglite-socket'] : []), '@nestjs/schedule'))
        .compile();
      expect(watch.started.dataSources - before).toBe(1);
      await moduleRef.close();
      expect(await watch.leftRunning()).toEqual({ engines: 0, dataSources: 0 });
    });

    it('does compile a good configuration with the same database (so the refusals above are about the apps)', async () => {
      const before = watch.started.dataSources;
      const moduleRef = await Test.createTestingModule({
        imports: [ConnectModule.forRoot({ apps: [jira(), confluence()], installKeysUrl: host.installKeysUrl, database: badDb.database })],
      }).compile();
      expect(watch.started.dataSources - before).toBe(1);
      expect(moduleRef.get(ConnectAppRegistry).apps.map((app) => app.key)).toEqual(['com.test.jira', 'com.test.confluence']);
      await moduleRef.close();
      expect(await watch.leftRunning()).toEqual({ engines: 0, dataSources: 0 });
    });
  });

  describe('descriptors, audiences and base paths', () => {
    let running: StartedConnectApp;
    const seen: Omit<ResolvedConnectApp, 'descriptor'>[] = [];
    const LONG_KEY = `com.test.${'l'.repeat(64 - 'com.test.'.length)}`;
    const fn: FakeHostApp = { key: 'com.test.fn', product: 'confluence', baseUrl: 'https://fn.example.com/fn', via: '' };
    const slash: FakeHostApp = { key: 'com.test.slash', product: 'jira', baseUrl: 'https://slash.example.com/slash', via: '' };
    const ext: FakeHostApp = { key: 'com.test.ext', product: 'jira', baseUrl: 'https://ext.example.com/ext', via: '' };
    const nested: FakeHostApp = { key: 'com.test.nested', product: 'jira', baseUrl: 'https://x.example.com/apps/jira', via: '' };
    const long: FakeHostApp = { key: LONG_KEY, product: 'jira', baseUrl: 'https://long.example.com/long', via: '' };

    beforeAll(async () => {
      db = await startTestDatabase();
      const connect = ConnectModule.forRoot({
        apps: [
          {
            product: 'confluence',
            key: 'com.test.fn',
            baseUrl: 'https://fn.example.com/fn/',
            descriptor: (app) => {
              seen.push(app);
              return { name: `Built for ${app.key}`, description: `${app.product} at ${app.baseUrl} under ${app.basePath}`, modules: { webItems: [] } };
            },
          },
          // The author repeats the baseUrl (with its trailing slash) in the descriptor: allowed, served normalised.
          { product: 'jira', key: 'com.test.slash', baseUrl: 'https://slash.example.com/slash/', descriptor: { name: 'Slash', baseUrl: 'https://slash.example.com/slash/' } },
          {
            product: 'jira',
            key: 'com.test.ext',
            baseUrl: 'https://ext.example.com/ext',
            extraBaseUrls: ['https://tunnel.example.net/', 'https://old.example.com/ext'],
            descriptor: { name: 'Ext' },
          },
          {
            product: 'jira',
            key: 'com.test.nested',
            baseUrl: 'https://x.example.com/apps/jira',
            descriptor: { name: 'Nested', key: 'com.test.nested', lifecycle: { installed: '/installed' } },
          },
          { product: 'jira', key: LONG_KEY, baseUrl: 'https://long.example.com/long', descriptor: { name: 'Long' } },
        ],
        installKeysUrl: host.installKeysUrl,
        database: db.database,
      });
      running = await listenOn({ module: class DescriptorAppsModule {}, imports: [connect], controllers: [whoamiController('apps/jira'), whoamiController('ext')] });
      for (const app of [fn, slash, ext, nested, long]) app.via = running.url;
    });

    afterAll(async () => {
      await running?.close();
      await db?.stop();
    });

    it('calls a descriptor function with the resolved app and serves what it returns', async () => {
      expect(seen).toHaveLength(1);
      expect(seen[0]).toEqual({
        key: 'com.test.fn',
        product: 'confluence',
        connect: true,
        baseUrl: 'https://fn.example.com/fn',
        hostname: 'fn.example.com',
        basePath: '/fn',
        audiences: ['https://fn.example.com/fn'],
        allowedHostPatterns: CONNECT_DEFAULTS.apps.allowedHostPatterns,
      });
      const response = await host.send(fn, 'GET', '/fn/atlassian-connect.json');
      expect(response.status).toBe(200);
      expect(response.body).toEqual({
        name: 'Built for com.test.fn',
        description: 'confluence at https://fn.example.com/fn under /fn',
        modules: { webItems: [] },
        key: 'com.test.fn',
        baseUrl: 'https://fn.example.com/fn',
        authentication: { type: 'jwt' },
        lifecycle: LIFECYCLE,
        apiMigrations: API_MIGRATIONS,
      });
    });

    it('normalises a baseUrl with a trailing slash, also when the author repeats it in the descriptor', async () => {
      const response = await host.send(slash, 'GET', '/slash/atlassian-connect.json');
      expect(response.status).toBe(200);
      expect(response.body).toMatchObject({ key: 'com.test.slash', name: 'Slash', baseUrl: 'https://slash.example.com/slash' });
      // Installs signed for the baseUrl with or without the slash are both this app's.
      const site = host.newSite('jira');
      expect((await host.install(slash, site)).status).toBe(204);
      expect((await host.install(slash, host.newSite('jira'), { claims: { aud: 'https://slash.example.com/slash/' } })).status).toBe(204);
    });

    it('accepts protocol fields the author repeats with the framework values', async () => {
      const response = await host.send(nested, 'GET', '/apps/jira/atlassian-connect.json');
      expect(response.body).toMatchObject({ key: 'com.test.nested', lifecycle: LIFECYCLE });
    });

    it('accepts a key of exactly 64 characters', async () => {
      const response = await host.send(long, 'GET', '/long/atlassian-connect.json');
      expect(response.body).toMatchObject({ key: LONG_KEY });
      const site = host.newSite('jira');
      expect((await host.install(long, site)).status).toBe(204);
      expect(await running.app.get<TenantStore>(TENANT_STORE).find(LONG_KEY, site.clientKey)).not.toBeNull();
    });

    it('accepts extraBaseUrls as the aud of a signed install, and no other URL', async () => {
      const store = running.app.get<TenantStore>(TENANT_STORE);
      for (const aud of [
        'https://tunnel.example.net',
        'https://tunnel.example.net/',
        'https://old.example.com/ext',
        ['https://unrelated.example.org', 'https://old.example.com/ext'],
      ]) {
        const site = host.newSite('jira');
        const response = await host.install(ext, site, { claims: { aud } });
        expect({ aud, status: response.status }).toEqual({ aud, status: 204 });
        expect(await store.find('com.test.ext', site.clientKey)).toMatchObject({ sharedSecret: site.sharedSecret });
      }
      for (const aud of ['https://unlisted.example.net', 'https://tunnel.example.net/ext', 'https://ext.example.com', 'https://old.example.com', 'https://fn.example.com/fn']) {
        const site = host.newSite('jira');
        const response = await host.install(ext, site, { claims: { aud } });
        expect({ aud, status: response.status, type: (response.body as { type?: string }).type }).toEqual({ aud, status: 401, type: 'jwt/invalid-aud' });
        expect(await store.find('com.test.ext', site.clientKey)).toBeNull();
      }
      // The extra URLs are for signed installs only: the descriptor keeps the one baseUrl.
      expect((await host.send(ext, 'GET', '/ext/atlassian-connect.json')).body).toMatchObject({ baseUrl: 'https://ext.example.com/ext' });
    });

    it('serves a nested baseUrl path at /apps/jira/... and strips all of /apps/jira for the qsh', async () => {
      const descriptor = await host.send(nested, 'GET', '/apps/jira/atlassian-connect.json');
      expect(descriptor.status).toBe(200);
      expect(descriptor.body).toMatchObject({ key: 'com.test.nested', baseUrl: 'https://x.example.com/apps/jira' });
      expect((await host.send(nested, 'GET', '/jira/atlassian-connect.json')).status).toBe(404);
      expect((await host.send(nested, 'GET', '/apps/atlassian-connect.json')).status).toBe(404);

      const site = host.newSite('jira');
      // The install's qsh is over POST /installed (what FakeConnectHost signs, prefix stripped).
      expect((await host.install(nested, site)).status).toBe(204);
      expect((await host.lifecycle('installed', nested, host.newSite('jira'), { claims: { qsh: qshOf('POST&/apps/jira/installed&') } })).status).toBe(401);

      const ok = await host.send(nested, 'GET', '/apps/jira/api/whoami?x=1', bearer(await tokenWithQsh(site, qshOf('GET&/api/whoami&x=1'))));
      expect(ok.status).toBe(200);
      expect(ok.body).toMatchObject({ app: 'com.test.nested', clientKey: site.clientKey });
      for (const wrong of ['GET&/apps/jira/api/whoami&x=1', 'GET&/jira/api/whoami&x=1', 'GET&/apps/api/whoami&x=1']) {
        const refused = await host.send(nested, 'GET', '/apps/jira/api/whoami?x=1', bearer(await tokenWithQsh(site, qshOf(wrong))));
        expect({ wrong, status: refused.status, type: (refused.body as { type?: string }).type }).toEqual({ wrong, status: 401, type: 'jwt/invalid-qsh' });
      }
      // Lifecycle routes exist only under the nested path.
      expect((await host.send(nested, 'POST', '/installed', { body: {} })).status).toBe(404);
      expect((await host.send(nested, 'POST', '/jira/installed', { body: {} })).status).toBe(404);
    });
  });
});
