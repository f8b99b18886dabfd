import { readdirSync, readFileSync } from 'node:fs';
import { posix } from 'node:path';
import ts from 'typescript';
import {
  APP_DEPENDENCIES,
  APP_DEV_DEPENDENCIES,
  APP_OPTIONAL_PEERS,
  EXAMPLE_ONLY_DEPENDENCIES,
  FRAMEWORK_PEERS,
  readFrameworkManifest,
  scaffoldVersions,
  type FrameworkManifest,
} from './framework-manifest.js';
import { scaffoldFiles } from './scaffold-files.js';
import type { ScaffoldFile } from './scaffold-model.js';
import { resolveScaffoldOptions, type ScaffoldInput } from './scaffold-options.js';

const OUR_PACKAGE = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as {
  version: string;
  dependencies: Record<string, string>;
  peerDependencies: Record<string, string>;
  peerDependenciesMeta: Record<string, { optional?: boolean }>;
  devDependencies: Record<string, string>;
};
const VERSIONS = scaffoldVersions(readFrameworkManifest());

function generate(input: Partial<ScaffoldInput> = {}): ScaffoldFile[] {
  return scaffoldFiles(resolveScaffoldOptions({ directory: 'my-app', keyPrefix: 'com.example.myapp', ...input }, '/tmp'), VERSIONS);
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

  it.each(['jira', 'confluence', 'jira,confluence'])('--products %s: every TypeScript file parses and imports only the public API, Nest and its own files', (products) => {
    const files = generate({ products });
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
    expect([...external].sort()).toEqual(['@nestjs/common', '@nestjs/core', 'atlassian-connect-nest', 'atlassian-connect-nest/testing', 'node:fs', 'reflect-metadata'].sort());
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

  it('writes a package.json with the framework and the versions this repository is built with', () => {
    const manifest = JSON.parse(contentsOf(generate(), 'package.json')) as Record<string, unknown> & {
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
    // engine by default and schedules retention), at the framework's ranges, and the Express adapter;
    // the framework's own dependencies (jose) come with it, and nothing else is added
    expect(Object.keys(manifest.dependencies).sort()).toEqual(['atlassian-connect-nest', ...Object.keys(OUR_PACKAGE.peerDependencies), '@nestjs/platform-express'].sort());
    for (const [name, range] of Object.entries(OUR_PACKAGE.peerDependencies)) expect([name, manifest.dependencies[name]]).toEqual([name, range]);
    expect(manifest.dependencies['@nestjs/platform-express']).toBe(OUR_PACKAGE.devDependencies['@nestjs/platform-express']);
    for (const name of [...Object.keys(OUR_PACKAGE.dependencies), 'cron']) expect([name, manifest.dependencies[name]]).toEqual([name, undefined]);
    for (const name of [...APP_DEV_DEPENDENCIES]) expect([name, manifest.devDependencies[name]]).toEqual([name, OUR_PACKAGE.devDependencies[name]]);
    // the example's Fastify adapter is left out, which is safe only while no framework module imports it
    for (const name of EXAMPLE_ONLY_DEPENDENCIES) expect([name, manifest.dependencies[name]]).toEqual([name, undefined]);
    expect(frameworkModulesImporting(EXAMPLE_ONLY_DEPENDENCIES)).toEqual([]);

    const local = JSON.parse(contentsOf(generate({ frameworkSpec: 'file:/tmp/atlassian-connect-nest-0.1.0.tgz' }), 'package.json')) as { dependencies: Record<string, string> };
    expect(local.dependencies['atlassian-connect-nest']).toBe('file:/tmp/atlassian-connect-nest-0.1.0.tgz');
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
    expect(() => scaffoldVersions(manifest)).toThrow(/does not name a version of @electric-sql\/pglite, .*typeorm/);
  });

  it('takes a peer at the range the framework declares for it, not the one it develops with', () => {
    const all = Object.fromEntries(APP_DEPENDENCIES.map((name) => [name, '^1.0.0']));
    const versions = scaffoldVersions({
      ...manifest,
      devDependencies: { ...all, ...Object.fromEntries(APP_DEV_DEPENDENCIES.map((n) => [n, '^1.0.0'])) },
      peerDependencies: { typeorm: '^0.9.0' },
    });
    expect(versions.dependencies).toMatchObject({ typeorm: '^0.9.0', pg: '^1.0.0' });
  });

  it('lists exactly the peers package.json declares, the optional ones as optional', () => {
    expect([...FRAMEWORK_PEERS, ...APP_OPTIONAL_PEERS].sort()).toEqual(Object.keys(OUR_PACKAGE.peerDependencies).sort());
    expect(Object.keys(OUR_PACKAGE.peerDependenciesMeta).sort()).toEqual([...APP_OPTIONAL_PEERS].sort());
    for (const name of APP_OPTIONAL_PEERS) expect([name, OUR_PACKAGE.peerDependenciesMeta[name]]).toEqual([name, { optional: true }]);
  });

  it("reads this package's own manifest", () => {
    expect(VERSIONS.framework).toBe(OUR_PACKAGE.version);
    expect(VERSIONS.node).toBe('>=20.19');
  });
});
