import { execFileSync } from 'node:child_process';
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { ConnectError } from '../errors/connect-error.js';
import type { ConnectModuleOptions } from './connect-options.js';
import { resolveConnectOptions } from './resolve-connect-options.js';
import { ConnectOptionalPeers, importPackages, isMissingPackage, nodeModuleLoader, type ModuleLoader } from './optional-peers.js';

const PGLITE = '@electric-sql/pglite';
const SOCKET = '@electric-sql/pglite-socket';
const SCHEDULE = '@nestjs/schedule';

/** The error Node's ESM loader throws for a package that is not installed. */
function notFound(name: string, from = '/app/node_modules/atlassian-connect-nest/dist/connect/config/optional-peers.js'): Error {
  return Object.assign(new Error(`Cannot find package '${name}' imported from ${from}`), { code: 'ERR_MODULE_NOT_FOUND' });
}

/**
 * A loader that plays packages: `missing` are not installed, `failing` are installed but throw the
 * error given; everything else loads for real. Records what was asked for.
 */
function fakeLoader(missing: string[], failing: Record<string, unknown> = {}): ModuleLoader & { loads: string[] } {
  const loads: string[] = [];
  return {
    loads,
    async load(name) {
      loads.push(name);
      if (missing.includes(name)) throw notFound(name);
      // pglite-socket imports pglite: without pglite it fails on pglite's name, not its own
      if (name === SOCKET && missing.includes(PGLITE)) throw notFound(PGLITE, `/app/node_modules/${SOCKET}/dist/index.js`);
      if (name in failing) throw failing[name];
      return nodeModuleLoader.load(name);
    },
    loadDependencyOf(parent, dependency) {
      loads.push(`${parent} > ${dependency}`);
      return nodeModuleLoader.loadDependencyOf(parent, dependency);
    },
  };
}

const APPS = [{ product: 'jira', key: 'com.test.peers', baseUrl: 'https://peers.example.com/jira', descriptor: {} }] as ConnectModuleOptions['apps'];
const EMBEDDED_MISSING =
  'No database URL is given, so the embedded engine would start, but @electric-sql/pglite and @electric-sql/pglite-socket are not installed: npm install @electric-sql/pglite @electric-sql/pglite-socket, or set database.url.';
const SCHEDULE_MISSING =
  'retention.schedule is on (default "17 3 * * *") but @nestjs/schedule is not installed: npm install @nestjs/schedule, or set retention: { schedule: false }.';

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => {
      throw new Error('expected a rejection');
    },
    (error: unknown) => error,
  );
}

describe('isMissingPackage, on the errors Node itself throws', () => {
  let dir = '';
  const errors: Record<string, { code: string; message: string }> = {};

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'acn-peers-'));
    const pkg = (name: string, main: string, source?: string) => {
      mkdirSync(join(dir, 'node_modules', name), { recursive: true });
      writeFileSync(join(dir, 'node_modules', name, 'package.json'), JSON.stringify({ name, version: '1.0.0', type: 'module', main }));
      if (source !== undefined) writeFileSync(join(dir, 'node_modules', name, main), source);
    };
    pkg('broken-peer', 'index.js', "throw new Error('broken at load');");
    pkg('needy-peer', 'index.js', "import 'acn-absent-dependency';");
    pkg('hollow-peer', 'missing.js');
    const script = [
      'const out = {};',
      "for (const name of ['acn-absent-peer', 'broken-peer', 'needy-peer', 'hollow-peer']) {",
      '  try { await import(name); } catch (e) { out[name] = { code: e.code, message: e.message }; }',
      '}',
      "try { (await import('node:module')).createRequire(import.meta.url)('acn-absent-peer'); } catch (e) { out.required = { code: e.code, message: e.message }; }",
      'console.log(JSON.stringify(out));',
    ].join('\n');
    writeFileSync(join(dir, 'probe.mjs'), script);
    Object.assign(errors, JSON.parse(execFileSync(process.execPath, ['probe.mjs'], { cwd: dir, encoding: 'utf8' })) as typeof errors);
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('is true for a package that is not installed (import and require)', () => {
    expect(errors['acn-absent-peer']).toMatchObject({ code: 'ERR_MODULE_NOT_FOUND' });
    expect(isMissingPackage(errors['acn-absent-peer'], 'acn-absent-peer')).toBe(true);
    expect(isMissingPackage(errors.required, 'acn-absent-peer')).toBe(true);
    expect(isMissingPackage(errors['acn-absent-peer'], 'acn-absent')).toBe(false);
  });

  it('is false for an installed package that fails to load, misses a dependency or a file', () => {
    expect(errors['broken-peer']?.message).toBe('broken at load');
    expect(isMissingPackage(errors['broken-peer'], 'broken-peer')).toBe(false);
    expect(isMissingPackage(errors['needy-peer'], 'needy-peer')).toBe(false);
    expect(isMissingPackage(errors['needy-peer'], 'acn-absent-dependency')).toBe(true);
    expect(errors['hollow-peer']).toMatchObject({ code: 'ERR_MODULE_NOT_FOUND' });
    expect(isMissingPackage(errors['hollow-peer'], 'hollow-peer')).toBe(false);
  });

  it('is false for what is not an error', () => {
    expect(isMissingPackage(undefined, 'x')).toBe(false);
    expect(isMissingPackage('Cannot find package', 'x')).toBe(false);
    expect(isMissingPackage({ code: 'ERR_MODULE_NOT_FOUND' }, 'x')).toBe(false);
  });
});

describe('importPackages', () => {
  const explain = (missing: readonly string[]) => `missing: ${missing.join(', ')}`;

  it('maps packages that are not installed to one config/invalid error naming them, in the order given', async () => {
    const error = await rejection(importPackages(fakeLoader([SOCKET, PGLITE]), [PGLITE, SOCKET], explain));
    expect(error).toBeInstanceOf(ConnectError);
    expect(error).toMatchObject({ code: 'config/invalid', message: `missing: ${PGLITE}, ${SOCKET}` });
    expect((error as Error).cause).toMatchObject({ code: 'ERR_MODULE_NOT_FOUND' });
  });

  it('names the package that is missing when another one fails for want of it', async () => {
    const error = await rejection(importPackages(fakeLoader([PGLITE]), [PGLITE, SOCKET], explain));
    expect(error).toMatchObject({ code: 'config/invalid', message: `missing: ${PGLITE}` });
  });

  it('propagates any other failure as it is, also when a package is missing beside it', async () => {
    const broken = new SyntaxError('Unexpected token in pglite-socket');
    expect(await rejection(importPackages(fakeLoader([], { [SOCKET]: broken }), [PGLITE, SOCKET], explain))).toBe(broken);
    expect(await rejection(importPackages(fakeLoader([PGLITE], { [SOCKET]: broken }), [PGLITE, SOCKET], explain))).toMatchObject({ message: `missing: ${PGLITE}` });
    const nested = notFound('some-dependency-of-pglite', `/app/node_modules/${PGLITE}/dist/index.js`);
    expect(await rejection(importPackages(fakeLoader([], { [PGLITE]: nested }), [PGLITE, SOCKET], explain))).toBe(nested);
  });

  it('returns the modules when all are installed', async () => {
    const [pglite, socket] = await importPackages(fakeLoader([]), [PGLITE, SOCKET], explain);
    expect(typeof (pglite as { PGlite?: unknown }).PGlite).toBe('function');
    expect(typeof (socket as { PGLiteSocketServer?: unknown }).PGLiteSocketServer).toBe('function');
  });
});

/** Resolves options with the peers of `loader`, as the module does (the peer check comes last). */
function resolveWith(loader: ModuleLoader, options: ConnectModuleOptions): Promise<unknown> {
  return resolveConnectOptions(options, { nodeEnv: 'test', peers: new ConnectOptionalPeers(loader) });
}

describe('ConnectOptionalPeers.check, as resolveConnectOptions runs it', () => {
  const withUrl: ConnectModuleOptions = { apps: APPS, database: { url: 'postgres://127.0.0.1:1/none' } };

  it('without pglite and no database URL: the one-line error naming both packages and the alternative', async () => {
    const error = await rejection(resolveWith(fakeLoader([PGLITE, SOCKET]), { apps: APPS, retention: { schedule: false } }));
    expect(error).toBeInstanceOf(ConnectError);
    expect(error).toMatchObject({ code: 'config/invalid', message: EMBEDDED_MISSING });
  });

  it('without pglite-socket alone: names only that one', async () => {
    const error = await rejection(resolveWith(fakeLoader([SOCKET]), { apps: APPS, database: { url: '' }, retention: { schedule: false } }));
    expect(error).toMatchObject({
      code: 'config/invalid',
      message:
        'No database URL is given, so the embedded engine would start, but @electric-sql/pglite-socket is not installed: npm install @electric-sql/pglite-socket, or set database.url.',
    });
  });

  it('without @nestjs/schedule while the schedule is on: the one-line error, with the default or the configured expression', async () => {
    expect(await rejection(resolveWith(fakeLoader([SCHEDULE]), withUrl))).toMatchObject({ code: 'config/invalid', message: SCHEDULE_MISSING });
    const hourly = await rejection(resolveWith(fakeLoader([SCHEDULE]), { ...withUrl, retention: { schedule: '0 * * * *' } }));
    expect(hourly).toMatchObject({
      message: 'retention.schedule is on ("0 * * * *") but @nestjs/schedule is not installed: npm install @nestjs/schedule, or set retention: { schedule: false }.',
    });
  });

  it('both missing: both sentences on one line', async () => {
    const error = await rejection(resolveWith(fakeLoader([PGLITE, SOCKET, SCHEDULE]), { apps: APPS }));
    expect(error).toMatchObject({ code: 'config/invalid', message: `${EMBEDDED_MISSING} ${SCHEDULE_MISSING}` });
    expect((error as Error).message).not.toContain('\n');
  });

  it('a peer that is installed but broken propagates its own error, not a config/invalid one', async () => {
    const broken = new TypeError('cron is broken');
    const error = await rejection(resolveWith(fakeLoader([PGLITE, SOCKET], { [SCHEDULE]: broken }), { apps: APPS }));
    expect(error).toBe(broken);
  });

  it('loads nothing that the options do not need', async () => {
    const nothing = fakeLoader([PGLITE, SOCKET, SCHEDULE]);
    await resolveWith(nothing, { ...withUrl, retention: { schedule: false } });
    await resolveWith(nothing, { apps: APPS, tenantStore: { find: async () => null, install: async () => ({}) as never, update: async () => null, ping: async () => undefined } });
    expect(nothing.loads).toEqual([]);
  });

  it('loads each peer once, and @nestjs/schedule with the cron it depends on', async () => {
    const loader = fakeLoader([]);
    const peers = new ConnectOptionalPeers(loader);
    await resolveConnectOptions({ apps: APPS }, { nodeEnv: 'test', peers });
    const { CronJob, SchedulerRegistry } = await peers.scheduling('17 3 * * *');
    await peers.embeddedEngine();
    expect(loader.loads).toEqual([PGLITE, SOCKET, SCHEDULE, `${SCHEDULE} > cron`]);
    expect(typeof SchedulerRegistry).toBe('function');
    const job = CronJob.from({ cronTime: '0 0 1 1 *', onTick: () => undefined, start: false, unrefTimeout: true });
    await job.stop();
  });
});
