import { readdirSync, readFileSync } from 'node:fs';
import { posix } from 'node:path';
import ts from 'typescript';
import {
  APP_DEPENDENCIES,
  APP_DEV_DEPENDENCIES,
  APP_OPTIONAL_PEERS,
  FRAMEWORK_PEERS,
  HTTP_ADAPTER_PACKAGES,
  readFrameworkManifest,
  scaffoldVersions,
  type FrameworkManifest,
  type ScaffoldVersions,
} from './framework-manifest.js';
import { scaffoldFiles } from './scaffold-files.js';
import type { ScaffoldFile } from './scaffold-model.js';
import { resolveScaffoldOptions, SCAFFOLD_HTTP_ADAPTERS, type ScaffoldHttpAdapter, type ScaffoldInput } from './scaffold-options.js';

const OUR_PACKAGE = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as {
  version: string;
  dependencies: Record<string, string>;
  peerDependencies: Record<string, string>;
  peerDependenciesMeta: Record<string, { optional?: boolean }>;
  devDependencies: Record<string, string>;
};
const VERSIONS: Record<ScaffoldHttpAdapter, ScaffoldVersions> = {
  fastify: scaffoldVersions(readFrameworkManifest(), 'fastify'),
  express: scaffoldVersions(readFrameworkManifest(), 'express'),
};

function generate(input: Partial<ScaffoldInput> = {}): ScaffoldFile[] {
  const options = resolveScaffoldOptions({ directory: 'my-app', keyPrefix: 'com.example.myapp', ...input }, '/tmp');
  return scaffoldFiles(options, VERSIONS[options.adapter]);
}

function contentsOf(files: ScaffoldFile[], path: string): string {
  const found = files.find((f) => f.path === path);
  if (found === undefined) throw new Error(`${path} was not generated`);
  return found.contents;
}

/** The framework's modules (src/connect, specs aside) that import any of `packages`. */
function frameworkModulesImporting(packages: readonly string[]): string[] {
  const root = new URL('../', import.meta.url);
  const modules = readdirSync(root, { recursive: true, encoding: 'utf8' }).filter((path) => path.endsWith('.ts') && !path.endsWith('.spec.ts'));
  const imports = packages.map((name) => new RegExp(`(?:from|import)\\s*\\(?\\s*['"]${name.replace(/[/.]/g, '\\$&')}(?:/[^'"]*)?['"]`));
  return modules.filter((path) => imports.some((pattern) => pattern.test(readFileSync(new URL(path, root), 'utf8'))));
}

const COMMON = [
  '.env.example',
  '.gitignore',
  'README.md',
  'docker-compose.yml',
  'jest.config.js',
  'nest-cli.json',
  'package.json',
  'src/app-config.spec.ts',
  'src/app-config.ts',
  'src/app.module.ts',
  'src/forge-events.service.ts',
  'src/installation-log.service.ts',
  'src/main.ts',
  'src/pages/hello-page.ts',
  'test/app.e2e-spec.ts',
  'test/support/start-app.ts',
  'tsconfig.build.json',
  'tsconfig.json',
];
const JIRA = ['src/jira/jira.controller.ts', 'src/jira/jira.descriptor.ts', 'test/jira.e2e-spec.ts'];
const CONFLUENCE = ['src/confluence/confluence.controller.ts', 'src/confluence/confluence.descriptor.ts', 'test/confluence.e2e-spec.ts'];

/** Module specifiers of every import and export-from in a TypeScript file. */
function importsOf(source: string): string[] {
  return [...source.matchAll(/^(?:import|export)\s[^;]*?from\s+'([^']+)';/gms), ...source.matchAll(/^import\s+'([^']+)';/gm)].map((match) => match[1]!);
}

describe('scaffoldFiles', () => {
  it.each<[string, string[]]>([
    ['jira', [...COMMON, ...JIRA]],
    ['confluence', [...COMMON, ...CONFLUENCE]],
    ['jira,confluence', [...COMMON, ...JIRA, ...CONFLUENCE]],
  ])('--products %s: the file list', (products, expected) => {
    const files = generate({ products });
    expect(files.map((f) => f.path).sort()).toEqual([...expected].sort());
    expect(files.every((f) => f.contents.endsWith('\n') && !f.contents.includes('\r'))).toBe(true);
  });

  it.each<[string, ScaffoldHttpAdapter]>([
    ['jira', 'fastify'],
    ['confluence', 'fastify'],
    ['jira,confluence', 'fastify'],
    ['jira', 'express'],
    ['jira,confluence', 'express'],
  ])('--products %s --adapter %s: every TypeScript file parses and imports only the public API, Nest, its adapter and its own files', (products, adapter) => {
    const files = generate({ products, adapter });
    const paths = new Set(files.map((f) => f.path));
    const external = new Set<string>();
    for (const { path, contents } of files.filter((f) => f.path.endsWith('.ts'))) {
      const output = ts.transpileModule(contents, {
        fileName: path,
        reportDiagnostics: true,
        compilerOptions: { target: ts.ScriptTarget.ES2022, module: ts.ModuleKind.NodeNext, experimentalDecorators: true, emitDecoratorMetadata: true },
      });
      expect({ path, diagnostics: (output.diagnostics ?? []).map((d) => ts.flattenDiagnosticMessageText(d.messageText, '\n')) }).toEqual({ path, diagnostics: [] });
      for (const specifier of importsOf(contents)) {
        if (specifier.startsWith('.')) {
          expect(specifier).toMatch(/\.js$/);
          const target = posix.normalize(posix.join(posix.dirname(path), specifier.replace(/\.js$/, '.ts')));
          expect({ path, specifier, exists: paths.has(target) }).toEqual({ path, specifier, exists: true });
        } else {
          external.add(specifier);
        }
      }
    }
    const adapterModules = adapter === 'fastify' ? ['@nestjs/platform-fastify', 'node:os'] : ['@nestjs/platform-express'];
    expect([...external].sort()).toEqual(
      ['@nestjs/common', '@nestjs/core', ...adapterModules, 'atlassian-connect-nest', 'atlassian-connect-nest/testing', 'node:fs', 'reflect-metadata'].sort(),
    );
    // The public API only: never a path inside the package.
    expect(files.some((f) => /atlassian-connect-nest\/(dist|src)/.test(f.contents))).toBe(false);
  });

  it('configures one app per product, with distinct keys and baseUrl paths', () => {
    const both = contentsOf(generate(), 'src/app.module.ts');
    expect(both).toContain("export const JIRA_APP_KEY = 'com.example.myapp.jira';");
    expect(both).toContain("export const CONFLUENCE_APP_KEY = 'com.example.myapp.confluence';");
    expect(both).toContain("{ product: 'jira', key: JIRA_APP_KEY, baseUrl: `${config.appBaseUrl}/jira`, descriptor: jiraDescriptor, allowedHostPatterns }");
    expect(both).toContain("{ product: 'confluence', key: CONFLUENCE_APP_KEY, baseUrl: `${config.appBaseUrl}/confluence`, descriptor: confluenceDescriptor, allowedHostPatterns }");
    expect(both).toContain('ConnectModule.forRoot(connectOptions(config))');
    // Loopback sites (simulate, the generated tests) only when the config allows them, as outside production.
    expect(both).toContain('config.allowLoopbackSites ? [...CONNECT_DEFAULTS.apps.allowedHostPatterns, ...LOOPBACK_HOST_PATTERNS] : undefined');
    expect(contentsOf(generate(), 'src/app-config.ts')).toContain("allowLoopbackSites: env.NODE_ENV !== 'production',");
    expect(both).toContain('controllers: [JiraController, ConfluenceController]');

    const jiraOnly = generate({ products: 'jira' });
    expect(jiraOnly.map((f) => f.contents).join('\n')).not.toMatch(/confluence/i);
    const confluenceOnly = generate({ products: 'confluence' });
    expect(confluenceOnly.map((f) => f.path).join('\n')).not.toMatch(/jira/);
    expect(contentsOf(confluenceOnly, 'src/app.module.ts')).not.toMatch(/jira/i);
  });

  it('reads the same environment variables as the example app', () => {
    const config = contentsOf(generate(), 'src/app-config.ts');
    for (const name of ['PORT', 'APP_BASE_URL', 'DATABASE_URL', 'CONNECT_INSTALL_KEYS_URL', 'CONNECT_AUTHORIZATION_SERVER_URL']) {
      expect(config).toContain(`env.${name}`);
      expect(contentsOf(generate(), '.env.example')).toContain(name);
    }
  });

  it('has the routes, hooks and outbound calls of the issue', () => {
    const files = generate();
    const jira = contentsOf(files, 'src/jira/jira.controller.ts');
    const confluence = contentsOf(files, 'src/confluence/confluence.controller.ts');
    for (const controller of [jira, confluence]) {
      expect(controller).toContain("@Get('pages/hello')");
      expect(controller).toContain("@Get('api/whoami')\n  @ConnectAuth()\n");
      expect(controller).toContain("@Get('api/context/whoami')\n  @ConnectAuth({ qsh: 'context' })\n");
    }
    expect(jira).toContain("this.client.asApp(context).get<JiraUser>('/rest/api/3/myself')");
    expect(confluence).toContain("this.client.asApp(context).paginate<ConfluenceSpace>('/rest/api/space'");
    expect(contentsOf(files, 'src/installation-log.service.ts')).toContain('@OnInstalled()');
    expect(contentsOf(files, 'src/jira/jira.descriptor.ts')).toContain("generalPages: [\n      { key: 'hello-page'");
  });

  it('has Forge event handlers, registered as a provider, calling the product with the saved system token', () => {
    const files = generate();
    expect(contentsOf(files, 'src/app.module.ts')).toContain('providers: [InstallationLog, ForgeEvents]');
    const events = contentsOf(files, 'src/forge-events.service.ts');
    expect(events).toContain("@OnForgeEvent('avi:forge:installed:app')\n  installed(event: ForgeEventContext): void {");
    expect(events).toContain('@OnForgeScheduledTrigger()\n  async scheduled(event: ForgeEventContext): Promise<void> {');
    expect(events).toContain('this.client.asForgeApp({ appKey: event.app.key, installationId: event.forge.installationId })');
    expect(events).toContain("forge.get<{ accountId: string }>(event.app.product === 'jira' ? '/rest/api/3/myself' : '/wiki/rest/api/user/current')");
    expect(contentsOf(generate({ products: 'jira' }), 'src/forge-events.service.ts')).toContain("forge.get<{ accountId: string }>('/rest/api/3/myself')");
    expect(contentsOf(generate({ products: 'confluence' }), 'src/forge-events.service.ts')).toContain("forge.get<{ accountId: string }>('/wiki/rest/api/user/current')");
    expect(contentsOf(files, 'README.md')).toContain('| `src/forge-events.service.ts` |');
  });

  it('tests each product with the testing kit: install, authenticated call, 401, outbound call against a started site', () => {
    const files = generate();
    const support = contentsOf(files, 'test/support/start-app.ts');
    expect(support).toContain("from 'atlassian-connect-nest/testing'");
    expect(support).toContain("{ embeddedDataDir: 'memory' }");
    expect(support).toContain('process.env.DATABASE_URL ? await startTestDatabase()');
    for (const product of ['jira', 'confluence']) {
      const spec = contentsOf(files, `test/${product}.e2e-spec.ts`);
      expect(spec).toContain(`site = await running.host.startSite('${product}');`);
      expect(spec).toContain(`await running.host.install(running.${product}, site);`);
      expect(spec).toContain("type: 'jwt/missing'");
      expect(spec).toContain('site.api.refusals');
    }
  });

  it.each(SCAFFOLD_HTTP_ADAPTERS)('--adapter %s: writes a package.json with the framework, that adapter only, and the versions this repository is built with', (adapter) => {
    const manifest = JSON.parse(contentsOf(generate({ adapter }), 'package.json')) as Record<string, unknown> & {
      scripts: Record<string, string>;
      dependencies: Record<string, string>;
      devDependencies: Record<string, string>;
    };
    expect(manifest).toMatchObject({ name: 'my-app', private: true, type: 'module' });
    expect(manifest.scripts).toEqual({
      build: 'tsc -p tsconfig.build.json',
      typecheck: 'tsc -p tsconfig.json --noEmit',
      start: 'tsc -p tsconfig.build.json && node dist/main.js',
      test: 'node --experimental-vm-modules node_modules/jest/bin/jest.js --runInBand',
    });
    expect(manifest.dependencies['atlassian-connect-nest']).toBe(`^${OUR_PACKAGE.version}`);
    // the app lists every peer of the framework itself, optional ones included (it runs on the embedded
    // engine by default and schedules retention), at the framework's ranges, and the chosen adapter only;
    // the framework's own dependencies (jose) come with it, and nothing else is added
    const chosen = HTTP_ADAPTER_PACKAGES[adapter];
    expect(Object.keys(manifest.dependencies).sort()).toEqual(['atlassian-connect-nest', ...Object.keys(OUR_PACKAGE.peerDependencies), chosen].sort());
    for (const [name, range] of Object.entries(OUR_PACKAGE.peerDependencies)) expect([name, manifest.dependencies[name]]).toEqual([name, range]);
    expect(manifest.dependencies[chosen]).toBe(OUR_PACKAGE.devDependencies[chosen]);
    for (const name of [...Object.keys(OUR_PACKAGE.dependencies), 'cron']) expect([name, manifest.dependencies[name]]).toEqual([name, undefined]);
    for (const name of [...APP_DEV_DEPENDENCIES]) expect([name, manifest.devDependencies[name]]).toEqual([name, OUR_PACKAGE.devDependencies[name]]);
    // the other adapter is left out, which is safe only while no framework module imports either
    const others = Object.values(HTTP_ADAPTER_PACKAGES).filter((name) => name !== chosen);
    expect(others).toHaveLength(1);
    for (const name of others) expect([name, manifest.dependencies[name], manifest.devDependencies[name]]).toEqual([name, undefined, undefined]);
    expect(frameworkModulesImporting(Object.values(HTTP_ADAPTER_PACKAGES))).toEqual([]);

    const local = JSON.parse(contentsOf(generate({ adapter, frameworkSpec: 'file:/tmp/atlassian-connect-nest-0.1.0.tgz' }), 'package.json')) as {
      dependencies: Record<string, string>;
    };
    expect(local.dependencies['atlassian-connect-nest']).toBe('file:/tmp/atlassian-connect-nest-0.1.0.tgz');
  });

  it('defaults to Fastify', () => {
    expect(generate()).toEqual(generate({ adapter: 'fastify' }));
    expect(JSON.parse(contentsOf(generate(), 'package.json')).dependencies).toHaveProperty(['@nestjs/platform-fastify']);
  });

  it('refuses versions made for the other adapter', () => {
    const options = resolveScaffoldOptions({ directory: 'my-app', adapter: 'express' }, '/tmp');
    expect(() => scaffoldFiles(options, VERSIONS.fastify)).toThrow('The versions are for the fastify adapter, the options for express.');
  });

  it('--adapter fastify: main.ts and the test helper create the app on a tuned FastifyAdapter; main.ts listens on every interface', () => {
    const files = generate({ adapter: 'fastify' });
    const main = contentsOf(files, 'src/main.ts');
    expect(main).toContain("import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';");
    expect(main).toContain("import { tuneHttpAdapter } from 'atlassian-connect-nest';");
    expect(main).toContain('const app = await NestFactory.create<NestFastifyApplication>(AppModule.register(config), tuneHttpAdapter(new FastifyAdapter()));');
    // Fastify alone listens on localhost only: "::" (dual stack) or 0.0.0.0, as the example app does
    expect(main).toContain('await app.listen(config.port, anyInterfaceHost());');
    expect(main).toContain("return ipv6 ? '::' : '0.0.0.0';");
    expect(main).toContain('app.enableShutdownHooks();');
    expect(main).toContain('Listening on port ${config.port} (Fastify).');
    const support = contentsOf(files, 'test/support/start-app.ts');
    expect(support).toContain("import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';");
    expect(support).toContain('app = await NestFactory.create<NestFastifyApplication>(AppModule.register(config), tuneHttpAdapter(new FastifyAdapter()), {');
    expect(support).toContain("await app.listen(0, '127.0.0.1');");
    // (README.md says how to switch; jest.config.js's comment names where path-to-regexp 9 comes from)
    for (const f of files.filter((file) => file.path.endsWith('.ts') || file.path === 'package.json')) {
      expect([f.path, /platform-express|ExpressAdapter|NestExpressApplication/.test(f.contents)]).toEqual([f.path, false]);
    }
  });

  it('--adapter express: main.ts and the test helper create the app on a tuned ExpressAdapter', () => {
    const files = generate({ adapter: 'express' });
    const main = contentsOf(files, 'src/main.ts');
    expect(main).toContain("import { ExpressAdapter, type NestExpressApplication } from '@nestjs/platform-express';");
    expect(main).toContain('const app = await NestFactory.create<NestExpressApplication>(AppModule.register(config), tuneHttpAdapter(new ExpressAdapter()));');
    // Express listens on every interface by itself
    expect(main).toContain('await app.listen(config.port);');
    expect(main).not.toContain('anyInterfaceHost');
    expect(main).toContain('Listening on port ${config.port} (Express).');
    const support = contentsOf(files, 'test/support/start-app.ts');
    expect(support).toContain("import { ExpressAdapter, type NestExpressApplication } from '@nestjs/platform-express';");
    expect(support).toContain('app = await NestFactory.create<NestExpressApplication>(AppModule.register(config), tuneHttpAdapter(new ExpressAdapter()), {');
    expect(support).toContain('  app: NestExpressApplication;');
    for (const f of files.filter((file) => file.path.endsWith('.ts') || file.path === 'package.json')) {
      expect([f.path, /platform-fastify|FastifyAdapter|NestFastifyApplication/.test(f.contents)]).toEqual([f.path, false]);
    }
  });

  it.each(SCAFFOLD_HTTP_ADAPTERS)('--adapter %s: nothing but the adapter differs, and no code is specific to one adapter', (adapter) => {
    const other = adapter === 'fastify' ? 'express' : 'fastify';
    const mine = generate({ adapter });
    const theirs = generate({ adapter: other });
    const differing = mine.filter((f) => f.contents !== contentsOf(theirs, f.path)).map((f) => f.path);
    expect(differing.sort()).toEqual(['README.md', 'package.json', 'src/main.ts', 'test/support/start-app.ts']);
    // Express-only (or Fastify-only) APIs would break on the other adapter.
    for (const f of mine.filter((file) => file.path.endsWith('.ts'))) {
      expect([f.path, f.contents.match(/\bapp\.(set|use|disable|enable|useBodyParser|register)\(|@(Req|Res)\(|\b(Request|Response|FastifyRequest|FastifyReply)\b/g)]).toEqual([
        f.path,
        null,
      ]);
    }
  });

  it.each<[ScaffoldHttpAdapter, string, string]>([
    ['fastify', 'The app runs on Fastify (`@nestjs/platform-fastify`), the default', 'To switch to Express:'],
    ['express', 'The app runs on Express (`@nestjs/platform-express`), as chosen with `atlassian-connect-nest new --adapter express`', 'To switch to Fastify:'],
  ])('--adapter %s: the README says which adapter, why Fastify is the default, and how to switch', (adapter, which, howTo) => {
    const readme = contentsOf(generate({ adapter }), 'README.md');
    const section = readme.slice(readme.indexOf('## HTTP adapter'), readme.indexOf('## Installing into a cloud site'));
    expect(section).toContain(which);
    expect(section).toContain('27,200 vs 6,900 requests per second');
    expect(section).toContain('12.7 times the requests of atlassian-connect-express, on Express\n3.2 times');
    expect(section).toContain(howTo);
    expect(section).toContain('`src/main.ts` and `test/support/start-app.ts`');
    const [mine, theirs] = adapter === 'fastify' ? ['@nestjs/platform-fastify', '@nestjs/platform-express'] : ['@nestjs/platform-express', '@nestjs/platform-fastify'];
    expect(section).toContain(`npm uninstall ${mine} && npm install ${theirs}@${OUR_PACKAGE.peerDependencies['@nestjs/core']}`);
    expect(section).toContain(`tuneHttpAdapter(new ${adapter === 'fastify' ? 'ExpressAdapter' : 'FastifyAdapter'}())`);
    expect(readme).toContain(`| \`src/main.ts\` | start-up: reads the settings, creates the app on ${adapter === 'fastify' ? 'Fastify' : 'Express'}, listens |`);
  });

  it('compiles the ESM-only path-to-regexp 9 (from @fastify/middie) to CommonJS in jest, for either adapter', () => {
    const config = contentsOf(generate(), 'jest.config.js');
    expect(contentsOf(generate({ adapter: 'express' }), 'jest.config.js')).toBe(config);
    expect(config).toContain("const ESM_ONLY_REQUIRED = '(?:.+/node_modules/)?path-to-regexp/';");
    expect(config).toContain('transformIgnorePatterns: [`/node_modules/(?!${ESM_ONLY_REQUIRED})`],');
    expect(config).toContain("[`/node_modules/${ESM_ONLY_REQUIRED}.+\\\\.js$`]: ['ts-jest', { tsconfig: { allowJs: true, isolatedModules: true }, diagnostics: false }],");
    // What jest would read: the patterns pick path-to-regexp wherever npm put it, and nothing else.
    const ESM_ONLY_REQUIRED = '(?:.+/node_modules/)?path-to-regexp/';
    const ignored = new RegExp(`/node_modules/(?!${ESM_ONLY_REQUIRED})`);
    const transformed = new RegExp(`/node_modules/${ESM_ONLY_REQUIRED}.+\\.js$`);
    for (const path of ['/app/node_modules/@fastify/middie/node_modules/path-to-regexp/dist/index.js', '/app/node_modules/path-to-regexp/dist/index.js']) {
      expect([path, ignored.test(path), transformed.test(path)]).toEqual([path, false, true]);
    }
    for (const path of ['/app/node_modules/@fastify/middie/lib/engine.js', '/app/node_modules/fastify/fastify.js', '/app/node_modules/path-to-regexp-x/index.js']) {
      expect([path, ignored.test(path)]).toEqual([path, true]);
    }
    expect(transformed.test('/app/src/main.ts')).toBe(false);
  });

  it('writes valid JSON and a README with the two-command promise', () => {
    const files = generate();
    for (const f of files.filter((file) => file.path.endsWith('.json'))) expect(() => JSON.parse(f.contents)).not.toThrow();
    const readme = contentsOf(files, 'README.md');
    expect(readme).toContain('npm install && npm start');
    expect(readme).toContain('npm test ');
    expect(readme).toContain('`http://localhost:3000/jira/atlassian-connect.json` (key `com.example.myapp.jira`)');
    expect(contentsOf(files, 'docker-compose.yml')).toContain('image: postgres:');
    expect(contentsOf(files, '.gitignore')).toContain('node_modules/');
  });

  it('embeds a name with quotes, backslashes and markup safely', () => {
    const name = 'It\'s "A" \\ <b>*/ app';
    const files = generate({ name });
    expect(contentsOf(files, 'src/jira/jira.descriptor.ts')).toContain("name: 'It\\'s \"A\" \\\\ <b>*/ app',");
    for (const f of files.filter((file) => file.path.endsWith('.ts'))) {
      const output = ts.transpileModule(f.contents, { fileName: f.path, reportDiagnostics: true, compilerOptions: { experimentalDecorators: true } });
      expect({ path: f.path, diagnostics: output.diagnostics?.length ?? 0 }).toEqual({ path: f.path, diagnostics: 0 });
    }
    expect(JSON.parse(contentsOf(files, 'package.json')).description).toContain(name);
  });
});

describe('scaffoldVersions', () => {
  const manifest: FrameworkManifest = { name: 'atlassian-connect-nest', version: '1.2.3', dependencies: {}, peerDependencies: {}, devDependencies: {}, node: undefined };

  it('names what is missing from the framework manifest', () => {
    expect(() => scaffoldVersions(manifest, 'fastify')).toThrow(/does not name a version of @electric-sql\/pglite, .*typeorm/);
  });

  it.each(SCAFFOLD_HTTP_ADAPTERS)("takes the %s adapter's package, and only that one, at the version the repository develops with", (adapter) => {
    const all = Object.fromEntries([...APP_DEPENDENCIES, ...APP_DEV_DEPENDENCIES].map((name) => [name, '^1.0.0']));
    const chosen = HTTP_ADAPTER_PACKAGES[adapter];
    const other = HTTP_ADAPTER_PACKAGES[adapter === 'fastify' ? 'express' : 'fastify'];
    expect(() => scaffoldVersions({ ...manifest, devDependencies: { ...all, [other]: '^2.0.0' } }, adapter)).toThrow(`does not name a version of ${chosen}.`);
    const versions = scaffoldVersions({ ...manifest, devDependencies: { ...all, [chosen]: '^2.0.0', [other]: '^3.0.0' } }, adapter);
    expect(versions.adapter).toBe(adapter);
    expect(versions.dependencies[chosen]).toBe('^2.0.0');
    expect(Object.keys(versions.dependencies)).not.toContain(other);
    expect(Object.keys(versions.dependencies)).toEqual([...Object.keys(versions.dependencies)].sort());
  });

  it('takes a peer at the range the framework declares for it, not the one it develops with', () => {
    const all = Object.fromEntries(APP_DEPENDENCIES.map((name) => [name, '^1.0.0']));
    const versions = scaffoldVersions(
      {
        ...manifest,
        devDependencies: { ...all, ...Object.fromEntries([...APP_DEV_DEPENDENCIES, HTTP_ADAPTER_PACKAGES.express].map((n) => [n, '^1.0.0'])) },
        peerDependencies: { typeorm: '^0.9.0' },
      },
      'express',
    );
    expect(versions.dependencies).toMatchObject({ typeorm: '^0.9.0', pg: '^1.0.0' });
  });

  it('lists exactly the peers package.json declares, the optional ones as optional', () => {
    expect([...FRAMEWORK_PEERS, ...APP_OPTIONAL_PEERS].sort()).toEqual(Object.keys(OUR_PACKAGE.peerDependencies).sort());
    expect(Object.keys(OUR_PACKAGE.peerDependenciesMeta).sort()).toEqual([...APP_OPTIONAL_PEERS].sort());
    for (const name of APP_OPTIONAL_PEERS) expect([name, OUR_PACKAGE.peerDependenciesMeta[name]]).toEqual([name, { optional: true }]);
  });

  it("reads this package's own manifest", () => {
    expect(VERSIONS.fastify.framework).toBe(OUR_PACKAGE.version);
    expect(VERSIONS.fastify.node).toBe('>=20.19');
    // both adapters' packages are among this repository's development dependencies (the example runs on either)
    for (const name of Object.values(HTTP_ADAPTER_PACKAGES)) expect([name, typeof OUR_PACKAGE.devDependencies[name]]).toEqual([name, 'string']);
  });
});
