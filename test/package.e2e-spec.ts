import { readFileSync } from 'node:fs';
import { copyFile, mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { FakeConnectHost, startTestDatabase, type FakeHostApp } from 'atlassian-connect-nest/testing';
import { freePort, startChild, type ChildApp } from './support/child-app.js';
import { CommandRunner, MINUTE, REPO_ROOT, run } from './support/npm-pack.js';

// The framework as a user's app gets it: this repository packed with `npm pack` (`npm test` has built
// it; run `npm run build` before running this file alone) and installed into a project of its own with
// only the framework's required peers and both HTTP adapters, no optional peer. test/support/
// package-proof-app.mjs boots ConnectModule.forRoot() there. It must refuse to start, with one line
// that says what to install, when a feature needs an optional peer that is missing, and boot, serve
// its descriptor and take a real signed install over HTTP on Express and on Fastify otherwise. Then
// @nestjs/schedule and the pglite packages are added to the same install, and what needs them boots.
// The PostgreSQL variants need DATABASE_URL (CI's first pass); each uses a schema of its own.

const MANIFEST = JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as {
  dependencies: Record<string, string>;
  peerDependencies: Record<string, string>;
  peerDependenciesMeta: Record<string, { optional?: boolean }>;
  devDependencies: Record<string, string>;
};
const OPTIONAL = Object.keys(MANIFEST.peerDependenciesMeta).filter((name) => MANIFEST.peerDependenciesMeta[name]?.optional === true);
const REQUIRED_PEERS = Object.keys(MANIFEST.peerDependencies).filter((name) => !OPTIONAL.includes(name));
const PGLITE = ['@electric-sql/pglite', '@electric-sql/pglite-socket'];
const SCHEDULE = '@nestjs/schedule';
/** `name@range`, the range as this repository's package.json gives it. */
const spec = (name: string): string => `${name}@${MANIFEST.peerDependencies[name] ?? MANIFEST.devDependencies[name]}`;

const KEY = 'com.example.packaged';
const BASE_URL = 'https://packaged.example.test/jira';
const EMBEDDED_MISSING =
  'No database URL is given, so the embedded engine would start, but @electric-sql/pglite and @electric-sql/pglite-socket are not installed: npm install @electric-sql/pglite @electric-sql/pglite-socket, or set database.url.';
const SCHEDULE_MISSING =
  'retention.schedule is on (default "17 3 * * *") but @nestjs/schedule is not installed: npm install @nestjs/schedule, or set retention: { schedule: false }.';

const databaseUrl = process.env.DATABASE_URL;
// eslint-disable-next-line no-console
if (!databaseUrl) console.info('package.e2e-spec: the PostgreSQL variants are skipped, DATABASE_URL is not set.');

let work = '';
let appDir = '';
let host: FakeConnectHost;
const runner = new CommandRunner((text) => (work === '' ? text : text.replace(work, '$TMP')));
const children = new Set<ChildApp>();

/** Starts the app in the temporary project and waits for its `ready` line. */
async function startApp(env: Record<string, string>): Promise<{ child: ChildApp; ready: { adapter: string; retentionJobListed: boolean | null } }> {
  const port = await freePort();
  const started = Date.now();
  const child = await startChild(
    join(appDir, 'main.mjs'),
    { PORT: String(port), APP_BASE_URL: BASE_URL, INSTALL_KEYS_URL: host.installKeysUrl, ...env },
    { port, cwd: appDir, timeoutMs: 2 * MINUTE },
  );
  children.add(child);
  for (;;) {
    const line = /^ready (.*)$/m.exec(child.output());
    if (line) {
      runner.timings.push(`${env.HTTP_ADAPTER} app answered /health after ${((Date.now() - started) / 1000).toFixed(1)} s`);
      return { child, ready: JSON.parse(line[1]!) as { adapter: string; retentionJobListed: boolean | null } };
    }
    if (Date.now() - started > MINUTE) throw new Error(`no ready line:\n${child.output()}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** Runs the app to its end, which must come by itself (nothing left open), and returns how it failed. */
async function failedStartup(env: Record<string, string>): Promise<{ code: number | null; stderr: string; facts: Record<string, unknown> }> {
  const port = await freePort();
  const result = await run(process.execPath, ['main.mjs'], appDir, MINUTE, {
    PATH: process.env.PATH ?? '',
    HOME: process.env.HOME ?? '',
    NODE_ENV: 'test',
    PORT: String(port),
    APP_BASE_URL: BASE_URL,
    INSTALL_KEYS_URL: host.installKeysUrl,
    ...env,
  });
  // killed by the timeout (signal SIGKILL, code null): the failed start-up left something running
  expect(result.signal).toBeNull();
  expect(result.stdout).not.toMatch(/^ready /m);
  const line = /^startup failed (.*)$/m.exec(result.stderr);
  if (!line) throw new Error(`no "startup failed" line (exit ${result.code}):\n${result.stderr}`);
  return { code: result.code, stderr: result.stderr, facts: JSON.parse(line[1]!) as Record<string, unknown> };
}

/** The descriptor, a signed install, an authenticated and a refused call: over HTTP, against the packaged framework. */
async function installAndCall(child: ChildApp): Promise<string> {
  const descriptor = await fetch(`${child.url}/jira/atlassian-connect.json`);
  expect(descriptor.status).toBe(200);
  expect(await descriptor.json()).toMatchObject({
    key: KEY,
    name: 'Packaged',
    baseUrl: BASE_URL,
    authentication: { type: 'jwt' },
    lifecycle: { installed: '/installed', uninstalled: '/uninstalled' },
    apiMigrations: { 'signed-install': true, 'context-qsh': true },
  });
  const app: FakeHostApp = { key: KEY, product: 'jira', baseUrl: BASE_URL, via: child.url };
  const site = host.newSite('jira');
  const installed = await host.install(app, site);
  expect({ status: installed.status, text: installed.text }).toEqual({ status: 204, text: '' });
  const token = await host.tokenFor(app, site, 'GET', '/jira/api/whoami');
  const whoami = await host.send(app, 'GET', '/jira/api/whoami', { headers: { authorization: `JWT ${token}` } });
  expect({ status: whoami.status, body: whoami.body }).toEqual({ status: 200, body: { app: KEY, clientKey: site.clientKey } });
  const refused = await fetch(`${child.url}/jira/api/whoami`);
  expect(refused.status).toBe(401);
  expect(await refused.json()).toMatchObject({ type: 'jwt/missing' });
  return site.clientKey;
}

async function tenantsIn(schema: string): Promise<string[]> {
  const client = new pg.Client({ connectionString: databaseUrl, connectionTimeoutMillis: 10_000 });
  await client.connect();
  try {
    const { rows } = await client.query<{ client_key: string }>(`SELECT "client_key" FROM "${schema}"."connect_tenant" WHERE "app_key" = $1`, [KEY]);
    return rows.map((row) => row.client_key);
  } finally {
    await client.end();
  }
}

async function exists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false,
  );
}

/** The installed framework's files (relative paths) whose imports name one of `packages`. */
async function filesImporting(dir: string, packages: string[], extensions: string[]): Promise<string[]> {
  const names = packages.map((name) => name.replace(/[/.]/g, '\\$&')).join('|');
  const pattern = new RegExp(`(?:\\bfrom\\s*|\\bimport\\s*\\(?\\s*)['"](?:${names})(?:/[^'"]*)?['"]`);
  const files = (await readdir(dir, { recursive: true, encoding: 'utf8' })).filter((path) => extensions.some((ext) => path.endsWith(ext)));
  const found: string[] = [];
  for (const file of files) if (pattern.test(await readFile(join(dir, file), 'utf8'))) found.push(file);
  return found;
}

describe('the packed framework in an app of its own: its peers from the app, optional peers only when used', () => {
  beforeAll(async () => {
    work = await mkdtemp(join(tmpdir(), 'acn-package-'));
    const tarball = await runner.packRepository(work);
    appDir = join(work, 'app');
    await mkdir(appDir);
    const dependencies = Object.fromEntries(
      [...REQUIRED_PEERS, '@nestjs/platform-express', '@nestjs/platform-fastify'].map((name) => [name, MANIFEST.peerDependencies[name] ?? MANIFEST.devDependencies[name]]),
    );
    await writeFile(
      join(appDir, 'package.json'),
      `${JSON.stringify({ name: 'acn-package-proof', version: '1.0.0', private: true, type: 'module', dependencies: { 'atlassian-connect-nest': `file:${tarball}`, ...dependencies } }, null, 2)}\n`,
    );
    await copyFile(join(REPO_ROOT, 'test/support/package-proof-app.mjs'), join(appDir, 'main.mjs'));
    await runner.install(appDir);
    host = await FakeConnectHost.start();
  }, 10 * MINUTE);

  afterAll(async () => {
    await Promise.all([...children].map((child) => child.stop()));
    await host?.close();
    if (work !== '') await rm(work, { recursive: true, force: true });
    process.stdout.write(`package proof timings:\n  ${runner.timings.join('\n  ')}\n`);
  }, 2 * MINUTE);

  it("installs on the app's peers: no @nestjs of its own, no optional peer, no cron, no import of them in what it ships", async () => {
    const framework = join(appDir, 'node_modules', 'atlassian-connect-nest');
    expect(await exists(join(framework, 'node_modules', '@nestjs'))).toBe(false);
    for (const name of [...REQUIRED_PEERS, '@nestjs/platform-express', '@nestjs/platform-fastify'])
      expect([name, await exists(join(appDir, 'node_modules', name))]).toEqual([name, true]);
    for (const name of [...OPTIONAL, 'cron']) expect([name, await exists(join(appDir, 'node_modules', name))]).toEqual([name, false]);
    const installed = JSON.parse(await readFile(join(framework, 'package.json'), 'utf8')) as typeof MANIFEST;
    expect(installed.dependencies).toEqual({ jose: MANIFEST.dependencies.jose });
    expect(installed.peerDependencies).toEqual(MANIFEST.peerDependencies);
    expect(await filesImporting(join(framework, 'dist'), [...OPTIONAL, 'cron'], ['.js', '.d.ts'])).toEqual([]);
    // the scan does find imports (of a required peer)
    expect((await filesImporting(join(framework, 'dist'), ['@nestjs/common'], ['.d.ts'])).length).toBeGreaterThan(5);
  });

  it('without pglite and without a database URL: start-up fails with the one-line config/invalid error and leaves nothing running', async () => {
    const failed = await failedStartup({ HTTP_ADAPTER: 'express', RETENTION_SCHEDULE: 'off' });
    expect(failed.code).toBe(1);
    expect(failed.stderr).toContain(EMBEDDED_MISSING);
    expect(failed.facts).toEqual({ phase: 'create', name: 'ConnectError', ctor: 'ConnectError', code: 'config/invalid', message: EMBEDDED_MISSING });
  });

  it('without @nestjs/schedule and retention scheduled (the default): start-up fails with the one-line error before connecting to the database', async () => {
    // Nothing listens on port 1: had the database been opened first, this would be a connection error.
    const failed = await failedStartup({ HTTP_ADAPTER: 'express', DATABASE_URL: 'postgres://postgres@127.0.0.1:1/none' });
    expect(failed.code).toBe(1);
    expect(failed.stderr).toContain(SCHEDULE_MISSING);
    expect(failed.facts).toEqual({ phase: 'create', name: 'ConnectError', ctor: 'ConnectError', code: 'config/invalid', message: SCHEDULE_MISSING });
  });

  (databaseUrl ? describe : describe.skip)('on PostgreSQL (DATABASE_URL)', () => {
    it.each(['express', 'fastify'])(
      'on %s with retention: { schedule: false }: boots, serves the descriptor, takes a signed install into its own schema, authenticates',
      async (adapter) => {
        const db = await startTestDatabase();
        try {
          const { child, ready } = await startApp({ HTTP_ADAPTER: adapter, DATABASE_URL: db.url, CONNECT_DATABASE_SCHEMA: db.schema!, RETENTION_SCHEDULE: 'off' });
          expect(ready).toEqual({ adapter, retentionJobListed: null });
          const clientKey = await installAndCall(child);
          expect(await tenantsIn(db.schema!)).toEqual([clientKey]);
          await child.stop();
        } finally {
          await db.stop();
        }
      },
      2 * MINUTE,
    );

    it(
      "with @nestjs/schedule added: boots with the default schedule, and the job is in the app's SchedulerRegistry",
      async () => {
        await runner.install(appDir, [spec(SCHEDULE)]);
        expect(await exists(join(appDir, 'node_modules', 'atlassian-connect-nest', 'node_modules', '@nestjs'))).toBe(false);
        const db = await startTestDatabase();
        try {
          const { child, ready } = await startApp({ HTTP_ADAPTER: 'express', DATABASE_URL: db.url, CONNECT_DATABASE_SCHEMA: db.schema!, SCHEDULE_MODULE: '1' });
          expect(ready).toEqual({ adapter: 'express', retentionJobListed: true });
          await installAndCall(child);
          await child.stop();
        } finally {
          await db.stop();
        }
      },
      5 * MINUTE,
    );
  });

  it(
    'with pglite and pglite-socket added: boots on the embedded engine without a database URL, retention scheduled, and takes a signed install',
    async () => {
      await runner.install(appDir, [...PGLITE, SCHEDULE].map(spec));
      const { child, ready } = await startApp({ HTTP_ADAPTER: 'fastify' });
      expect(ready).toEqual({ adapter: 'fastify', retentionJobListed: null });
      await installAndCall(child);
      await child.stop();
    },
    5 * MINUTE,
  );
});
