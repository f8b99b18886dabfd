/**
 * `atlassian-connect-nest manifest` (the BUILT command line, as users run it: `npm test` builds first;
 * run `npm run build` before this file alone) against the example app, and `doctor --manifest` against
 * the running example. The manifests are validated with Atlassian's own `@forge/manifest` package.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import forgeManifest from '@forge/manifest';
import { readForgeManifestYaml } from '../src/connect/forge/manifest/read-forge-manifest-yaml.js';
import { CONFLUENCE_APP_KEY, JIRA_APP_KEY } from '../src/example/app-keys.js';
import { PUBLIC_BASE_URL, startExample, type RunningExample } from './support/example-app.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const CLI = join(ROOT, 'dist/connect/cli/main.js');
const ENTRY = 'dist/example/forge-manifest-app.js';
const JIRA_FORGE_APP_ID = '7a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d';
const CONFLUENCE_FORGE_APP_ID = '8b2c3d4e-5f6a-4b7c-9d8e-0f1a2b3c4d5e';

interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** The built CLI as a child process, with the example's settings (embedded engine in memory). */
function cli(args: string[]): Promise<CliRun> {
  const env: NodeJS.ProcessEnv = { ...process.env, APP_BASE_URL: PUBLIC_BASE_URL, FORGE_APP_ID_JIRA: JIRA_FORGE_APP_ID, FORGE_APP_ID_CONFLUENCE: CONFLUENCE_FORGE_APP_ID };
  delete env.DATABASE_URL; // the manifest does not depend on the database; no migrations on the shared test server
  return new Promise((resolve) => {
    execFile(process.execPath, [CLI, ...args], { cwd: ROOT, timeout: 60_000, env }, (error, stdout, stderr) => {
      resolve({ code: error ? (typeof error.code === 'number' ? error.code : null) : 0, stdout, stderr });
    });
  });
}

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any -- field-by-field checks of parsed YAML

/** Atlassian's full validation (what `forge lint` runs): the errors, warnings left out. */
async function forgeErrors(file: string): Promise<{ message: string }[]> {
  const result = await forgeManifest.validate(false, file);
  return (result.errors ?? []).filter((error) => error.level === 'error');
}

/**
 * `connectModules` are open in the package's top-level schema; the same package describes every Connect
 * module type as `modules["connect-<product>:<type>"]`. Checks each entry against that.
 */
async function connectModuleErrors(manifest: Json): Promise<string[]> {
  const full = JSON.parse(readFileSync(join(ROOT, 'node_modules/@forge/manifest/out/schema/manifest-schema.json'), 'utf8')) as Json;
  const modules = full.properties.modules as Json;
  const moduleSchemas = (
    typeof modules.$ref === 'string'
      ? (modules.$ref as string)
          .split('/')
          .slice(1)
          .reduce((node: Json, part) => node[part], full)
      : modules
  ).properties as Json;
  const properties: Json = {};
  for (const name of Object.keys(manifest.connectModules)) {
    const schema = moduleSchemas[`connect-${name}`];
    if (schema === undefined) return [`${name} is not a Connect module type @forge/manifest knows`];
    properties[name] = schema;
  }
  const schema = { definitions: full.definitions, type: 'object', properties: { connectModules: { type: 'object', additionalProperties: false, properties } } };
  const result = await new forgeManifest.SchemaValidator(schema).validate({ yamlContent: { connectModules: manifest.connectModules }, yamlContentByLine: [] } as never);
  return (result.errors ?? []).map((error) => error.message);
}

describe('atlassian-connect-nest manifest', () => {
  let dir: string;
  let ex: RunningExample;
  const jiraFile = () => join(dir, 'jira.yml');

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'connect-manifest-'));
    ex = await startExample({ forgeAppIdJira: JIRA_FORGE_APP_ID, forgeAppIdConfluence: CONFLUENCE_FORGE_APP_ID, forgeSyncIntervalMs: 0 });
  });
  afterAll(async () => {
    await ex?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('writes the Jira manifest field by field from the app: ids, connect key, remote, connectModules, endpoints, triggers, migration, scopes', async () => {
    const run = await cli(['manifest', '--module', ENTRY, '--app', JIRA_APP_KEY, '--out', jiraFile()]);
    expect(run).toMatchObject({ code: 0, stdout: '' });
    expect(run.stderr).toContain(`wrote ${jiraFile()}`);
    const manifest = readForgeManifestYaml(readFileSync(jiraFile(), 'utf8')) as Json;
    const descriptor = (await (await fetch(`${ex.url}/jira/atlassian-connect.json`)).json()) as Json;

    expect(Object.keys(manifest)).toEqual(['app', 'connectModules', 'modules', 'remotes', 'permissions']);
    expect(manifest.app).toEqual({ id: `ari:cloud:ecosystem::app/${JIRA_FORGE_APP_ID}`, runtime: { name: 'nodejs24.x' }, connect: { key: descriptor.key, remote: 'backend' } });
    expect(manifest.remotes).toEqual([
      {
        key: 'backend',
        baseUrl: descriptor.baseUrl,
        operations: ['storage', 'compute'],
        storage: { inScopeEUD: true },
        // ForgeRemoteController's @ForgeAuth() routes take this app's calls.
        auth: { appSystemToken: { enabled: true }, appUserToken: { enabled: true } },
      },
    ]);
    // The served descriptor's lifecycle and modules, 1:1 under <product>:<type>.
    expect(manifest.connectModules).toEqual({
      'jira:lifecycle': [{ key: 'connect-lifecycle', ...descriptor.lifecycle }],
      'jira:generalPages': descriptor.modules.generalPages,
    });
    // The example's handlers: @OnForgeEvent('avi:jira:created:issue'), @OnForgeScheduledTrigger('hourly-sync'), @OnForgePreUninstall().
    expect(manifest.modules.trigger).toEqual([
      { key: 'forge-events-trigger', endpoint: 'forge-events', events: ['avi:forge:installed:app', 'avi:forge:upgraded:app', 'avi:jira:created:issue'] },
    ]);
    expect(manifest.modules.scheduledTrigger).toEqual([{ key: 'hourly-sync', endpoint: 'forge-scheduled', interval: 'hour' }]);
    expect(manifest.modules.preUninstall).toEqual([{ key: 'forge-pre-uninstall-trigger', endpoint: 'forge-pre-uninstall' }]);
    const system = { appSystemToken: { enabled: true } };
    expect(manifest.modules.endpoint).toEqual([
      { key: 'forge-events', remote: 'backend', route: { path: '/forge/events' }, auth: system },
      { key: 'forge-scheduled', remote: 'backend', route: { path: '/forge/events/scheduled' }, auth: system },
      { key: 'forge-pre-uninstall', remote: 'backend', route: { path: '/forge/events/pre-uninstall' }, auth: system },
    ]);
    // baseUrl + route.path is a route the framework serves: it refuses a call without a FIT with 401 (a typo would be 404).
    for (const endpoint of manifest.modules.endpoint as Json[]) {
      const url = `${descriptor.baseUrl}${endpoint.route.path}`.replace(PUBLIC_BASE_URL, ex.url);
      const response = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
      expect({ url, status: response.status }).toEqual({ url, status: 401 });
    }
    // SiteNotesMigration has @OnRealmMigration() handlers of every phase; the hooks are served at <basePath>/forge/realm-migration.
    expect(Object.keys(manifest.modules)).toEqual(['trigger', 'scheduledTrigger', 'preUninstall', 'endpoint', 'migration:dataResidency']);
    expect(manifest.modules['migration:dataResidency']).toEqual([
      { key: 'forge-realm-migration', remote: 'backend', path: '/forge/realm-migration', maxMigrationDurationHours: 1.5 },
    ]);
    // The service calls <remote baseUrl><path>/<hook>: served, and refusing a call without a FIT (a wrong path would be 404).
    const hooks = `${descriptor.baseUrl}/forge/realm-migration`.replace(PUBLIC_BASE_URL, ex.url);
    const start = await fetch(`${hooks}/start`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
    const status = await fetch(`${hooks}/status?migrationId=1`);
    expect([start.status, status.status]).toEqual([401, 401]);
    expect((await fetch(`${hooks}/nope`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' })).status).toBe(404);
    expect(descriptor.scopes).toEqual(['READ', 'ACT_AS_USER']);
    // ForgeRemoteController injects ForgeStorage: storage:app, found without --storage.
    expect(manifest.permissions).toEqual({ scopes: ['read:connect-jira', 'act-as-user:connect-jira', 'read:app-system-token', 'read:app-user-token', 'storage:app'] });
  });

  it('passes @forge/manifest validation with zero errors, for the Jira and the Confluence app', async () => {
    const confluenceFile = join(dir, 'confluence.yml');
    expect((await cli(['manifest', '--module', ENTRY, '--app', CONFLUENCE_APP_KEY, '--out', confluenceFile])).code).toBe(0);
    for (const file of [jiraFile(), confluenceFile]) {
      expect(await forgeErrors(file)).toEqual([]);
      expect(await connectModuleErrors(readForgeManifestYaml(readFileSync(file, 'utf8')) as Json)).toEqual([]);
    }
    const confluence = readForgeManifestYaml(readFileSync(confluenceFile, 'utf8')) as Json;
    expect(Object.keys(confluence.connectModules)).toEqual(['confluence:lifecycle', 'confluence:generalPages', 'confluence:staticContentMacros']);
    expect(confluence.modules.trigger[0].events).toEqual(['avi:forge:installed:app', 'avi:forge:upgraded:app']); // the Jira-only handler is not here
  });

  it('the validation is real: a broken manifest gets errors', async () => {
    const broken = join(dir, 'broken.yml');
    writeFileSync(broken, readFileSync(jiraFile(), 'utf8').replace('interval: "hour"', 'interval: "hourly"').replace('"read:connect-jira"', '"read:connect-nope"'));
    expect((await forgeErrors(broken)).map((error) => error.message).join('\n')).toContain("'fiveMinute', 'hour', 'day', 'week'");
    const brokenMigration = join(dir, 'broken-migration.yml');
    writeFileSync(brokenMigration, readFileSync(jiraFile(), 'utf8').replace('maxMigrationDurationHours: 1.5', 'maxMigrationDurationHours: 0.7'));
    expect((await forgeErrors(brokenMigration)).map((error) => error.message)).toEqual(['migration:dataResidency property maxMigrationDurationHours must be multiple of 0.5']);
    const wrongModule = { connectModules: { 'jira:generalPages': [{ key: 'p', weight: 'heavy' }], 'jira:noSuchModules': [{ key: 'x' }] } };
    expect(await connectModuleErrors(wrongModule)).toEqual(['jira:noSuchModules is not a Connect module type @forge/manifest knows']);
    expect((await connectModuleErrors({ connectModules: { 'jira:generalPages': [{ key: 'p', weight: 'heavy' }] } })).join('\n')).toMatch(/weight/);
  });

  it('writes to standard output without --out, honours the options, and refuses what it cannot build with a typed error', async () => {
    const run = await cli(['manifest', '--module', ENTRY, '--app', JIRA_APP_KEY, '--remote-key', 'connect-app', '--in-scope-eud', 'false', '--scope', 'read:jira-work']);
    expect(run.code).toBe(0);
    const manifest = readForgeManifestYaml(run.stdout) as Json;
    expect(manifest.app.connect.remote).toBe('connect-app');
    expect(manifest.remotes[0]).toMatchObject({ key: 'connect-app', storage: { inScopeEUD: false } });
    expect(manifest.permissions.scopes.at(-1)).toBe('read:jira-work');

    const told = await cli(['manifest', '--module', ENTRY, '--app', JIRA_APP_KEY, '--storage', 'false', '--migration-hours', '6']);
    expect(told.code).toBe(0);
    const toldManifest = readForgeManifestYaml(told.stdout) as Json;
    expect(toldManifest.permissions.scopes).not.toContain('storage:app');
    expect(toldManifest.modules['migration:dataResidency'][0].maxMigrationDurationHours).toBe(6);
    const badHours = await cli(['manifest', '--module', ENTRY, '--app', JIRA_APP_KEY, '--migration-hours', '0.7']);
    expect(badHours.code).toBe(1);
    expect(badHours.stderr).toContain(
      'forge/invalid-manifest: No Forge manifest for "com.example.connect-nest.jira": maxMigrationDurationHours 0.7 is not 0.5 to 24 in steps of 0.5.',
    );
    expect((await cli(['manifest', '--module', ENTRY, '--app', JIRA_APP_KEY, '--storage', 'yes'])).code).toBe(2);

    const unknown = await cli(['manifest', '--module', ENTRY, '--app', 'com.example.nope']);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain('forge/invalid-manifest: No app "com.example.nope" is configured');
    expect((await cli(['manifest', '--app', JIRA_APP_KEY])).code).toBe(2);
    expect((await cli(['manifest', '--module', 'dist/example/app-keys.js', '--app', JIRA_APP_KEY])).stderr).toContain('has no export "default"');
    expect((await cli(['manifest', '--module', ENTRY, '--app', JIRA_APP_KEY, '--in-scope-eud', 'maybe'])).code).toBe(2);
  });

  describe('doctor --manifest', () => {
    const doctor = (manifestFile: string) => cli(['doctor', `${ex.url}/jira`, '--manifest', manifestFile, '--install-keys-url', ex.host.installKeysUrl]);
    const lineOf = (run: CliRun, name: string) => run.stdout.split('\n').find((text) => text.slice(6).startsWith(`${name} `));

    it('passes every manifest check for the generated manifest', async () => {
      const run = await doctor(jiraFile());
      for (const name of [
        'manifest connect.key',
        'manifest connect.remote',
        'endpoint forge-events',
        'endpoint forge-scheduled',
        'endpoint forge-pre-uninstall',
        'trigger forge-events-trigger',
        'scheduledTrigger hourly-sync',
        'preUninstall forge-pre-uninstall-trigger',
        'migration:dataResidency forge-realm-migration',
      ]) {
        expect(lineOf(run, name)).toMatch(/^PASS/);
      }
      expect(lineOf(run, 'endpoint forge-events')).toContain(`POST ${ex.url}/jira/forge/events without a Forge Invocation Token: HTTP 401`);
      expect(lineOf(run, 'migration:dataResidency forge-realm-migration')).toContain(
        `POST ${ex.url}/jira/forge/realm-migration/start without a Forge Invocation Token: HTTP 401; GET ${ex.url}/jira/forge/realm-migration/status without a Forge Invocation Token: HTTP 401`,
      );
    });

    it('fails a manifest whose app.connect.key is not the served key', async () => {
      const wrong = join(dir, 'wrong-key.yml');
      writeFileSync(wrong, readFileSync(jiraFile(), 'utf8').replace(`key: "${JIRA_APP_KEY}"`, 'key: "com.example.other"'));
      const run = await doctor(wrong);
      expect(run.code).toBe(1);
      expect(lineOf(run, 'manifest connect.key')).toMatch(/^FAIL .*"com\.example\.other".*"com\.example\.connect-nest\.jira"/);
    });

    it('fails an endpoint the app does not serve (404), and the trigger delivered to it', async () => {
      const wrong = join(dir, 'wrong-path.yml');
      writeFileSync(wrong, readFileSync(jiraFile(), 'utf8').replace('path: "/forge/events/scheduled"', 'path: "/forge/scheduled"'));
      const run = await doctor(wrong);
      expect(run.code).toBe(1);
      expect(lineOf(run, 'endpoint forge-scheduled')).toMatch(/^FAIL .*HTTP 404: the route is not served/);
      expect(lineOf(run, 'scheduledTrigger hourly-sync')).toMatch(/^FAIL /);
      expect(lineOf(run, 'endpoint forge-events')).toMatch(/^PASS/);
    });

    it('fails a migration:dataResidency path the app does not serve (404)', async () => {
      const wrong = join(dir, 'wrong-migration.yml');
      writeFileSync(wrong, readFileSync(jiraFile(), 'utf8').replace('path: "/forge/realm-migration"', 'path: "/forge/migration"'));
      const run = await doctor(wrong);
      expect(run.code).toBe(1);
      expect(lineOf(run, 'migration:dataResidency forge-realm-migration')).toMatch(
        /^FAIL .*\/jira\/forge\/migration\/start .*HTTP 404: the route is not served .*forgeRealmMigration\.path/,
      );
      expect(lineOf(run, 'endpoint forge-events')).toMatch(/^PASS/);
    });

    it('with --module and --app, checks that every handler of the app is in the manifest', async () => {
      const withHandlers = (file: string) =>
        cli(['doctor', `${ex.url}/jira`, '--manifest', file, '--module', ENTRY, '--app', JIRA_APP_KEY, '--install-keys-url', ex.host.installKeysUrl]);
      const good = await withHandlers(jiraFile());
      // (The baseUrl check fails here as in the other doctor tests: the app is reached on loopback, not its declared URL.)
      expect(good.stdout.split('\n').filter((line) => line.startsWith('FAIL') && line.slice(6).startsWith('handler'))).toEqual([]);
      for (const name of [
        'handler avi:forge:installed:app',
        'handler avi:jira:created:issue',
        'handler scheduled hourly-sync',
        'handler preUninstall',
        'handler realm migration',
      ]) {
        expect([name, lineOf(good, name)]).toEqual([name, expect.stringMatching(/^PASS/)]);
      }
      // The trigger no longer lists the event the example handles, and the scheduled trigger has another key.
      const drifted = join(dir, 'drifted.yml');
      writeFileSync(drifted, readFileSync(jiraFile(), 'utf8').replace('"avi:jira:created:issue"', '"avi:jira:updated:issue"').replace('key: "hourly-sync"', 'key: "daily-sync"'));
      const run = await withHandlers(drifted);
      expect(lineOf(run, 'handler avi:jira:created:issue')).toMatch(/^FAIL .*no trigger module of the manifest lists it/);
      expect(lineOf(run, 'handler scheduled hourly-sync')).toMatch(/^FAIL .*no scheduledTrigger with that key/);
      expect(lineOf(run, 'handler avi:forge:installed:app')).toMatch(/^PASS/);
      // Without --manifest, --module has nothing to check against.
      expect((await cli(['doctor', `${ex.url}/jira`, '--module', ENTRY, '--app', JIRA_APP_KEY])).code).toBe(2);
    });

    it('refuses a file that is not manifest YAML as a usage error', async () => {
      const bad = join(dir, 'bad.yml');
      writeFileSync(bad, 'app: &anchor\n  id: x\n');
      const run = await doctor(bad);
      expect(run.code).toBe(2);
      expect(run.stderr).toContain('anchors, aliases, tags and block scalars are not read');
    });
  });
});
