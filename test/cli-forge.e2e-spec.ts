import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { INestApplication } from '@nestjs/common';
import { startTestDatabase } from 'atlassian-connect-nest/testing';
import { AppModule } from '../src/example/app.module.js';
import type { ExampleConfig } from '../src/example/example-config.js';
import { createTestApp } from './support/http-adapter.js';
import { assertCliBuilt, freePort, runCli, type CliRun } from './support/simulate-kit.js';

const FORGE_APP_ID = '0b9f8a40-55a8-4c3e-9f1e-3d3b2c1a0f11';
const OTHER_FORGE_APP_ID = '7c1d2e3f-4a5b-4c6d-8e9f-a0b1c2d3e4f5';

/** The table row of a step: `<step>  <status>  <ms>  <result>`, split into its cells. */
function row(run: CliRun, step: string): { status: string; result: string } {
  const line = run.stdout.split('\n').find((l) => l.startsWith(step));
  if (line === undefined) throw new Error(`No row ${JSON.stringify(step)} in:\n${run.stdout}\n${run.stderr}`);
  const match = /^(.*?)\s{2,}(\d+|-)\s+(\d+|-)\s{2}(.*)$/.exec(line);
  if (match === null) throw new Error(`Not a table row: ${line}`);
  return { status: match[2]!, result: match[4]! };
}

describe('atlassian-connect-nest simulate --forge-remote (built CLI against the example app)', () => {
  let jwksPort: number;
  let keysPort: number;
  let app: INestApplication;
  let url: string;
  let stopDatabase: (() => Promise<void>) | undefined;

  beforeAll(async () => {
    assertCliBuilt();
    jwksPort = await freePort();
    keysPort = await freePort();
    const port = await freePort();
    const database = process.env.DATABASE_URL ? await startTestDatabase() : undefined;
    stopDatabase = database ? () => database.stop() : undefined;
    url = `http://127.0.0.1:${port}`;
    const config: ExampleConfig = {
      port,
      appBaseUrl: url,
      installKeysUrl: `http://127.0.0.1:${keysPort}`,
      ...(database ? { databaseUrl: database.url, databaseSchema: database.schema } : { embeddedDataDir: 'memory' }),
      forgeAppIdJira: FORGE_APP_ID,
      forgeJwksUrl: `http://127.0.0.1:${jwksPort}/.well-known/jwks.json`,
      // Every CLI run brings a new key: the app must refetch for it (the default 30 s would fail the next run).
      forgeJwksCooldownMs: 0,
    };
    app = await createTestApp(AppModule.register(config), { logger: process.env.CONNECT_TEST_LOGS ? ['error', 'warn'] : false });
    await app.listen(port, '127.0.0.1');
  });
  afterAll(async () => {
    await app?.close();
    await stopDatabase?.();
  });

  it('passes against the example Forge Remote endpoint and prints the FORGE_JWKS_URL to use', async () => {
    const run = await runCli(['simulate', '--forge-remote', `${url}/forge/remote/hello`, '--forge-app-id', FORGE_APP_ID, '--forge-jwks-port', String(jwksPort)]);
    expect({ code: run.code, stderr: run.stderr }).toEqual({ code: 0, stderr: '' });
    expect(run.stdout).toContain(`(the app must run with FORGE_JWKS_URL=http://127.0.0.1:${jwksPort}/.well-known/jwks.json)`);
    expect(row(run, 'forge remote POST (valid FIT)')).toEqual({ status: '200', result: 'ok' });
    expect(row(run, 'forge remote: no token (must fail)')).toEqual({ status: '401', result: 'ok' });
    expect(row(run, 'forge remote: wrong aud (must fail)')).toEqual({ status: '401', result: 'ok' });
    expect(row(run, 'forge remote: expired FIT (must fail)')).toEqual({ status: '401', result: 'ok' });
    expect(run.stdout).toMatch(/\nPASS: 4 steps, 0 failed\./);
  });

  it('runs the Forge steps after the Connect steps of --descriptor, in one table', async () => {
    const run = await runCli([
      'simulate',
      '--descriptor',
      `${url}/jira/atlassian-connect.json`,
      '--keys-port',
      String(keysPort),
      '--forge-remote',
      `${url}/forge/remote/hello`,
      '--forge-app-id',
      FORGE_APP_ID,
      '--forge-jwks-port',
      String(jwksPort),
    ]);
    expect({ code: run.code, stderr: run.stderr }).toEqual({ code: 0, stderr: '' });
    expect(row(run, 'installed (signed install, RS256)')).toEqual({ status: '204', result: 'ok' });
    expect(row(run, 'forge remote POST (valid FIT)')).toEqual({ status: '200', result: 'ok' });
    expect(row(run, 'forge remote: expired FIT (must fail)')).toEqual({ status: '401', result: 'ok' });
    expect(run.stdout).toMatch(/\nPASS: \d+ steps, 0 failed\./);
  });

  it('fails (exit 1) with a hint when the app is not configured with the Forge app id', async () => {
    const run = await runCli(['simulate', '--forge-remote', `${url}/forge/remote/hello`, '--forge-app-id', OTHER_FORGE_APP_ID, '--forge-jwks-port', String(jwksPort)]);
    expect(run.code).toBe(1);
    expect(row(run, 'forge remote POST (valid FIT)')).toEqual({ status: '401', result: 'FAIL: expected 2xx, got 401 (forge/unknown-app)' });
    expect(run.stdout).toContain(`Hint: The app is not configured with Forge app id ${OTHER_FORGE_APP_ID}`);
    expect(run.stdout).toMatch(/\nFAIL: 4 steps, 1 failed\./);
  });

  it('fails with a hint when the app does not use the simulator JWKS', async () => {
    const run = await runCli(['simulate', '--forge-remote', `${url}/forge/remote/hello`, '--forge-app-id', FORGE_APP_ID]);
    expect(run.code).toBe(1);
    expect(row(run, 'forge remote POST (valid FIT)').result).toMatch(/^FAIL: expected 2xx, got 503 \(forge\/jwks-unavailable\)$/);
    expect(run.stdout).toMatch(/Hint: The app does not use this simulator's keys: start it with FORGE_JWKS_URL=http:\/\/127\.0\.0\.1:\d+\/\.well-known\/jwks\.json/);
  });

  it('fails every must-fail step against an endpoint that checks nothing', async () => {
    const lax: Server = createServer((req, res) => {
      req.resume();
      req.on('end', () => res.writeHead(200, { 'content-type': 'application/json' }).end('{}'));
    });
    await new Promise<void>((resolve) => lax.listen(0, '127.0.0.1', resolve));
    try {
      const laxUrl = `http://127.0.0.1:${(lax.address() as AddressInfo).port}/forge/remote/hello`;
      const run = await runCli(['simulate', '--forge-remote', laxUrl, '--forge-app-id', FORGE_APP_ID]);
      expect(run.code).toBe(1);
      expect(row(run, 'forge remote POST (valid FIT)').result).toBe('ok');
      expect(row(run, 'forge remote: no token (must fail)')).toEqual({ status: '200', result: 'FAIL: expected 401, got 200: the endpoint must refuse this token' });
      expect(row(run, 'forge remote: wrong aud (must fail)').status).toBe('200');
      expect(row(run, 'forge remote: expired FIT (must fail)').status).toBe('200');
      expect(run.stdout).toContain('accepted the FIT without fetching');
      expect(run.stdout).toMatch(/\nFAIL: 4 steps, 3 failed\./);
    } finally {
      await new Promise((resolve) => lax.close(resolve));
    }
  });
});
