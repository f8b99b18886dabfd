import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm, symlink } from 'node:fs/promises';
import { networkInterfaces, tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './support/child-app.js';
import { childEnv, CommandRunner, MINUTE, REPO_ROOT } from './support/npm-pack.js';

// `atlassian-connect-nest new` for real: packs this repository (`npm test` has built it; run
// `npm run build` before running this file alone), generates apps with the BUILT command line, installs
// them against the tarball, and runs their own build, type check and tests, then starts them and fetches
// their descriptors over HTTP. The apps run on Fastify (the default) but one, made with `--adapter
// express`, which gets an install of its own (no Fastify in it). Slow (two npm installs, side by side,
// and four jest runs): a few minutes on a small machine.
const CLI = join(REPO_ROOT, 'dist/connect/cli/main.js');

const children = new Set<ChildProcess>();
let work = '';
let tarball = '';
const runner = new CommandRunner((text) => (text === CLI ? 'dist/connect/cli/main.js' : work === '' ? text : text.replace(work, '$TMP')));
const timings = runner.timings;
const mustRun = runner.mustRun.bind(runner);
const npm = runner.npm.bind(runner);

/** The generated app's own checks: build, type check (tests included), its jest suite. */
async function buildAndTest(dir: string): Promise<string> {
  await npm(['run', 'build'], dir);
  await npm(['run', 'typecheck'], dir);
  const tested = await npm(['test'], dir);
  return `${tested.stdout}\n${tested.stderr}`;
}

interface StartedApp {
  child: ChildProcess;
  /** `http://127.0.0.1:<port>` */
  base: string;
  port: number;
  log(): string;
}

/** `npm start` without the rebuild: node dist/main.js on a free port, on the embedded engine; resolves once /health answers 200. */
async function startBuilt(dir: string): Promise<StartedApp> {
  const port = await freePort();
  const started = Date.now();
  const child = spawn(process.execPath, ['dist/main.js'], { cwd: dir, env: childEnv({ PORT: String(port) }, ['DATABASE_URL']), stdio: ['ignore', 'pipe', 'pipe'] });
  children.add(child);
  let log = '';
  child.stdout!.on('data', (chunk: Buffer) => (log += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (log += chunk.toString()));
  const base = `http://127.0.0.1:${port}`;
  try {
    for (;;) {
      if (child.exitCode !== null) throw new Error(`the app exited with ${child.exitCode}:\n${log}`);
      if (Date.now() - started > 2 * MINUTE) throw new Error(`the app did not answer /health within 2 minutes:\n${log}`);
      const health = await fetch(`${base}/health`).catch(() => undefined);
      if (health?.status === 200) break;
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  } catch (error) {
    await stop(child);
    throw error;
  }
  timings.push(`node dist/main.js in ${dir.replace(work, '$TMP')} answered /health after ${((Date.now() - started) / 1000).toFixed(1)} s`);
  return { child, base, port, log: () => log };
}

/** An address of this machine that is not loopback, if it has one: the app must answer there too (every interface). */
function externalAddress(): string | undefined {
  for (const addresses of Object.values(networkInterfaces())) {
    for (const address of addresses ?? []) if (!address.internal && address.family === 'IPv4') return address.address;
  }
  return undefined;
}

/** Stops a started app: SIGTERM (it closes its database), SIGKILL after 20 s. */
async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
  await exited;
  clearTimeout(timer);
  children.delete(child);
}

describe('atlassian-connect-nest new: generated apps install, build, pass their own tests and start', () => {
  const both = () => join(work, 'both-products');
  const onExpress = () => join(work, 'jira-on-express');

  beforeAll(async () => {
    work = await mkdtemp(join(tmpdir(), 'acn-scaffold-'));
    tarball = await runner.packRepository(work);

    const created = await mustRun(
      process.execPath,
      [CLI, 'new', 'both-products', '--products', 'jira,confluence', '--name', 'Scaffold Proof', '--key-prefix', 'com.example.proof', '--framework-spec', `file:${tarball}`],
      work,
      MINUTE,
    );
    expect(created.stdout).toMatch(/^Created Scaffold Proof in both-products \(\d+ files, on Fastify\):$/m);
    const express = await mustRun(
      process.execPath,
      [CLI, 'new', 'jira-on-express', '--adapter', 'express', '--products', 'jira', '--key-prefix', 'com.example.express', '--framework-spec', `file:${tarball}`],
      work,
      MINUTE,
    );
    expect(express.stdout).toMatch(/^Created Jira On Express in jira-on-express \(\d+ files, on Express\):$/m);
    // Two installs side by side: the Express app shares none of the adapter packages with the others.
    await Promise.all([runner.install(both()), runner.install(onExpress())]);
  }, 10 * MINUTE);

  afterAll(async () => {
    await Promise.all([...children].map(stop));
    if (work !== '') await rm(work, { recursive: true, force: true });
    process.stdout.write(`scaffold proof timings:\n  ${timings.join('\n  ')}\n`);
  }, 2 * MINUTE);

  it('installed the framework from the packed tarball, with its dist/ and the testing kit', async () => {
    const installed = join(both(), 'node_modules', 'atlassian-connect-nest');
    const manifest = JSON.parse(await readFile(join(installed, 'package.json'), 'utf8')) as { exports: Record<string, unknown> };
    expect(Object.keys(manifest.exports)).toEqual(['.', './advanced', './testing']);
    expect(await readdir(join(installed, 'dist', 'connect', 'testing'))).toContain('index.js');
    const app = JSON.parse(await readFile(join(both(), 'package.json'), 'utf8')) as { dependencies: Record<string, string> };
    expect(app.dependencies['atlassian-connect-nest']).toBe(`file:${tarball}`);
    // one HTTP adapter each: the default Fastify, or Express when asked for
    const adapters = async (dir: string) => {
      const declared = (JSON.parse(await readFile(join(dir, 'package.json'), 'utf8')) as { dependencies: Record<string, string> }).dependencies;
      return {
        declared: Object.keys(declared).filter((name) => name.startsWith('@nestjs/platform-')),
        installed: (await readdir(join(dir, 'node_modules', '@nestjs'))).filter((name) => name.startsWith('platform-')),
      };
    };
    expect(await adapters(both())).toEqual({ declared: ['@nestjs/platform-fastify'], installed: ['platform-fastify'] });
    expect(await adapters(onExpress())).toEqual({ declared: ['@nestjs/platform-express'], installed: ['platform-express'] });
  });

  it(
    'Jira + Confluence: builds, passes its own tests, starts and serves both descriptors',
    async () => {
      const output = await buildAndTest(both());
      expect(output).toMatch(/Test Suites: 4 passed, 4 total/);
      expect(output).toMatch(/PASS test\/jira\.e2e-spec\.ts/);
      expect(output).toMatch(/PASS test\/confluence\.e2e-spec\.ts/);
      // The Forge event handlers compiled with the rest (they wait for an app with forge.appId).
      expect(await readdir(join(both(), 'dist'))).toContain('forge-events.service.js');

      const { child, base, port, log } = await startBuilt(both());
      try {
        for (const [product, key] of [
          ['jira', 'com.example.proof.jira'],
          ['confluence', 'com.example.proof.confluence'],
        ] as const) {
          const response = await fetch(`${base}/${product}/atlassian-connect.json`);
          expect(response.status).toBe(200);
          const descriptor = (await response.json()) as Record<string, unknown>;
          expect(descriptor).toMatchObject({
            key,
            name: 'Scaffold Proof',
            baseUrl: `http://localhost:${port}/${product}`,
            authentication: { type: 'jwt' },
            apiMigrations: { 'signed-install': true, 'context-qsh': true },
            modules: { generalPages: [expect.objectContaining({ url: '/pages/hello' })] },
          });
        }
        const refused = await fetch(`${base}/jira/api/whoami`);
        expect(refused.status).toBe(401);
        expect(await refused.json()).toMatchObject({ type: 'jwt/missing' });
        // Fastify, listening on every interface (it would take localhost only unless given a host)
        expect(log()).toContain(`Listening on port ${port} (Fastify).`);
        const external = externalAddress();
        if (external !== undefined) expect((await fetch(`http://${external}:${port}/health`)).status).toBe(200);
        expect(log()).toContain(`Jira descriptor:        http://localhost:${port}/jira/atlassian-connect.json`);
        // ForgeEvents is a provider of the app module: the framework found its two handlers.
        expect(log()).toContain('Found 2 Forge event handler(s).');
      } finally {
        await stop(child);
      }
      expect(child.exitCode !== null || child.signalCode !== null).toBe(true);
    },
    10 * MINUTE,
  );

  it.each(['jira', 'confluence'] as const)(
    '%s alone: builds and passes its own tests',
    async (product) => {
      const dir = join(work, `${product}-only`);
      await mustRun(process.execPath, [CLI, 'new', dir, '--products', product, '--key-prefix', `com.example.${product}only`, '--framework-spec', `file:${tarball}`], work, MINUTE);
      const other = product === 'jira' ? 'confluence' : 'jira';
      expect(await readdir(join(dir, 'src'))).not.toContain(other);
      expect(await readdir(join(dir, 'test'))).toEqual(expect.arrayContaining([`${product}.e2e-spec.ts`]));
      expect(await readdir(join(dir, 'test'))).not.toContain(`${other}.e2e-spec.ts`);
      // Its dependencies are those of the app installed above, so it shares that node_modules.
      const manifest = async (path: string) => JSON.parse(await readFile(join(path, 'package.json'), 'utf8')) as { dependencies: unknown; devDependencies: unknown };
      const [mine, installed] = await Promise.all([manifest(dir), manifest(both())]);
      expect({ dependencies: mine.dependencies, devDependencies: mine.devDependencies }).toEqual({
        dependencies: installed.dependencies,
        devDependencies: installed.devDependencies,
      });
      await symlink(join(both(), 'node_modules'), join(dir, 'node_modules'), 'dir');

      const output = await buildAndTest(dir);
      expect(output).toMatch(/Test Suites: 3 passed, 3 total/);
      expect(output).toMatch(new RegExp(`PASS test/${product}\\.e2e-spec\\.ts`));
      expect(await readdir(join(dir, 'dist'))).toContain('forge-events.service.js');
    },
    10 * MINUTE,
  );

  it(
    'Jira on Express (--adapter express): installed on its own, builds, passes its own tests, starts and serves its descriptor',
    async () => {
      expect(await readFile(join(onExpress(), 'src', 'main.ts'), 'utf8')).toContain('tuneHttpAdapter(new ExpressAdapter())');
      const output = await buildAndTest(onExpress());
      expect(output).toMatch(/Test Suites: 3 passed, 3 total/);
      expect(output).toMatch(/PASS test\/jira\.e2e-spec\.ts/);

      const { child, base, port, log } = await startBuilt(onExpress());
      try {
        const response = await fetch(`${base}/jira/atlassian-connect.json`);
        expect(response.status).toBe(200);
        expect(await response.json()).toMatchObject({ key: 'com.example.express.jira', baseUrl: `http://localhost:${port}/jira` });
        // tuneHttpAdapter() took the Express adapter: no X-Powered-By
        expect(response.headers.get('x-powered-by')).toBeNull();
        expect(log()).toContain(`Listening on port ${port} (Express).`);
        const external = externalAddress();
        if (external !== undefined) expect((await fetch(`http://${external}:${port}/health`)).status).toBe(200);
      } finally {
        await stop(child);
      }
      expect(child.exitCode !== null || child.signalCode !== null).toBe(true);
    },
    10 * MINUTE,
  );
});
