import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { INestApplication } from '@nestjs/common';
import { ForgeInstallations } from 'atlassian-connect-nest';
import { startTestDatabase } from 'atlassian-connect-nest/testing';
import { AppModule, JIRA_APP_KEY } from '../src/example/app.module.js';
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

/** The installation the simulator's FITs carried, from its `Forge Remote endpoint: … installation <id>` line. */
function installationOf(run: CliRun): string {
  const id = /\(Forge app id [0-9a-f-]+, installation (ari:cloud:ecosystem::installation\/[0-9a-f-]{36})\)/.exec(run.stdout)?.[1];
  if (id === undefined) throw new Error(`No installation id in:\n${run.stdout}`);
  return id;
}

/** What the framework answers a delivery it ran, with or without handlers of the example for it. */
const DONE = /^ok \(done, \d+ handlers?\)$/;

/** A node:http app on 127.0.0.1 for the endpoints the example does not have. */
async function listen(handler: (req: IncomingMessage, res: ServerResponse, body: string) => void): Promise<{ url: string; close(): Promise<void> }> {
  const server: Server = createServer((req, res) => {
    let body = '';
    req.on('data', (chunk: Buffer) => (body += chunk.toString('utf8')));
    req.on('end', () => handler(req, res, body));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, close: () => new Promise((resolve) => server.close(() => resolve())) };
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
      allowLoopbackSites: true,
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
    // Without --descriptor the app's basePath is unknown: the event steps are left out, and it says so.
    expect(run.stdout).toContain("Forge events: not simulated: without --descriptor the app's basePath is unknown; give --forge-events-path <basePath>/forge/events.");
    expect(run.stdout).not.toContain('forge event ');
    expect(run.stdout).toMatch(/\nPASS: 4 steps, 0 failed\./);
  });

  it('delivers the installed event, a product event, a scheduled trigger and preUninstall to --forge-events-path, and checks the FIT is required', async () => {
    const run = await runCli([
      'simulate',
      '--forge-remote',
      `${url}/forge/remote/hello`,
      '--forge-app-id',
      FORGE_APP_ID,
      '--forge-jwks-port',
      String(jwksPort),
      '--forge-events-path',
      '/jira/forge/events',
    ]);
    expect({ code: run.code, stderr: run.stderr }).toEqual({ code: 0, stderr: '' });
    expect(run.stdout).toContain(`Forge events endpoint: ${url}/jira/forge/events (scheduled trigger simulated-trigger).`);
    expect(row(run, 'forge event avi:forge:installed:app')).toEqual({ status: '200', result: expect.stringMatching(DONE) });
    expect(row(run, 'forge event avi:jira:created:issue')).toEqual({ status: '200', result: expect.stringMatching(DONE) });
    expect(row(run, 'forge scheduled trigger simulated-trigger')).toEqual({ status: '200', result: expect.stringMatching(DONE) });
    expect(row(run, 'forge preUninstall')).toEqual({ status: '200', result: expect.stringMatching(DONE) });
    expect(row(run, 'forge events: no token (must fail)')).toEqual({ status: '401', result: 'ok' });
    expect(run.stdout).toMatch(/\nPASS: 9 steps, 0 failed\./);

    // The deliveries reached the framework: the installed event recorded the installation, preUninstall marked it.
    const installation = await app.get(ForgeInstallations).get(JIRA_APP_KEY, installationOf(run));
    expect(installation).toMatchObject({ installedAt: expect.any(Date), uninstalledAt: expect.any(Date) });
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
    // The events endpoint by default: the descriptor's baseUrl + /forge/events.
    expect(run.stdout).toContain(`Forge events endpoint: ${url}/jira/forge/events (scheduled trigger simulated-trigger).`);
    expect(row(run, 'forge event avi:forge:installed:app')).toEqual({ status: '200', result: expect.stringMatching(DONE) });
    expect(row(run, 'forge event avi:jira:created:issue').status).toBe('200');
    expect(row(run, 'forge preUninstall').status).toBe('200');
    expect(row(run, 'forge events: no token (must fail)')).toEqual({ status: '401', result: 'ok' });
    expect(run.stdout).toMatch(/\nPASS: \d+ steps, 0 failed\./);
  });

  it('fails (exit 1) every event step when the events endpoint is not where --forge-events-path says', async () => {
    const run = await runCli([
      'simulate',
      '--forge-remote',
      `${url}/forge/remote/hello`,
      '--forge-app-id',
      FORGE_APP_ID,
      '--forge-jwks-port',
      String(jwksPort),
      '--forge-events-path',
      `${url}/jira/forge/nowhere`,
    ]);
    expect(run.code).toBe(1);
    expect(row(run, 'forge remote POST (valid FIT)')).toEqual({ status: '200', result: 'ok' });
    for (const step of ['forge event avi:forge:installed:app', 'forge event avi:jira:created:issue', 'forge scheduled trigger simulated-trigger', 'forge preUninstall']) {
      expect(row(run, step)).toEqual({ status: '404', result: 'FAIL: expected 2xx, got 404, also on the redelivery' });
    }
    expect(row(run, 'forge events: no token (must fail)')).toEqual({ status: '404', result: 'FAIL: expected 401, got 404' });
    expect(run.stdout).toContain(`Hint: Nothing answers the Forge events at ${url}/jira/forge/nowhere: the framework serves them at <app basePath>/forge/events`);
    expect(run.stdout).toMatch(/\nFAIL: 9 steps, 5 failed\./);
  });

  it('fails the event steps of an app without forge.appId (no events endpoint), unless --no-forge-events', async () => {
    const args = ['simulate', '--descriptor', `${url}/confluence/atlassian-connect.json`, '--keys-port', String(keysPort)];
    const forge = ['--forge-remote', `${url}/forge/remote/hello`, '--forge-app-id', FORGE_APP_ID, '--forge-jwks-port', String(jwksPort)];
    const run = await runCli([...args, ...forge]);
    expect(run.code).toBe(1);
    expect(row(run, 'installed (signed install, RS256)')).toEqual({ status: '204', result: 'ok' });
    expect(row(run, 'forge event avi:confluence:created:page')).toEqual({ status: '404', result: 'FAIL: expected 2xx, got 404, also on the redelivery' });
    expect(run.stdout).toContain(`Hint: Nothing answers the Forge events at ${url}/confluence/forge/events`);

    const skipped = await runCli([...args, ...forge, '--no-forge-events']);
    expect({ code: skipped.code, stderr: skipped.stderr }).toEqual({ code: 0, stderr: '' });
    expect(skipped.stdout).not.toContain('forge event');
    expect(skipped.stdout).toMatch(/\nPASS: \d+ steps, 0 failed\./);
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

      // Its events endpoint takes every delivery, so it also takes one without a FIT.
      const events = await runCli(['simulate', '--forge-remote', laxUrl, '--forge-app-id', FORGE_APP_ID, '--forge-events-path', '/forge/events']);
      expect(events.code).toBe(1);
      expect(row(events, 'forge event avi:forge:installed:app')).toEqual({ status: '200', result: 'ok' });
      expect(row(events, 'forge preUninstall')).toEqual({ status: '200', result: 'ok' });
      expect(row(events, 'forge events: no token (must fail)')).toEqual({ status: '200', result: 'FAIL: expected 401, got 200: the endpoint must refuse this token' });
      expect(events.stdout).toMatch(/\nFAIL: 9 steps, 4 failed\./);
    } finally {
      await new Promise((resolve) => lax.close(resolve));
    }
  });

  it('redelivers a failed event once with retryContext, and reports the attempts', async () => {
    // Refuses calls without a FIT; answers each event path's first delivery 500, the redelivery 200.
    const seen: { path: string; retryCount: unknown }[] = [];
    const flaky = await listen((req, res, body) => {
      const path = (req.url ?? '').split('?')[0]!;
      const json = (status: number, value: unknown) => res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(value));
      if (!req.headers.authorization) return json(401, { type: 'forge/missing-token', message: 'No token.' });
      if (!path.startsWith('/app/forge/events')) return json(200, {});
      const retryCount = (JSON.parse(body) as { payload: { retryContext?: { retryCount: number } } }).payload.retryContext?.retryCount;
      seen.push({ path, retryCount });
      if (retryCount === undefined) return json(500, { type: 'forge/event-failed', message: 'The handler failed.' });
      json(200, { status: 'done', handlers: 1 });
    });
    try {
      const run = await runCli([
        'simulate',
        '--forge-remote',
        `${flaky.url}/remote`,
        '--forge-app-id',
        FORGE_APP_ID,
        '--forge-events-path',
        '/app/forge/events',
        '--product',
        'confluence',
      ]);
      const redelivered = 'ok (done, 1 handler; delivered on attempt 2, after 500 (forge/event-failed))';
      expect(row(run, 'forge event avi:forge:installed:app')).toEqual({ status: '200', result: redelivered });
      expect(row(run, 'forge event avi:confluence:created:page')).toEqual({ status: '200', result: redelivered });
      expect(row(run, 'forge scheduled trigger simulated-trigger')).toEqual({ status: '200', result: redelivered });
      expect(row(run, 'forge preUninstall')).toEqual({ status: '200', result: redelivered });
      expect(row(run, 'forge events: no token (must fail)')).toEqual({ status: '401', result: 'ok' });
      expect(seen).toEqual(
        ['/app/forge/events', '/app/forge/events', '/app/forge/events/scheduled', '/app/forge/events/pre-uninstall'].flatMap((path) => [
          { path, retryCount: undefined },
          { path, retryCount: 1 },
        ]),
      );
      // Only its remote endpoint takes a wrong aud and an expired FIT.
      expect(run.code).toBe(1);
      expect(run.stdout).toMatch(/\nFAIL: 9 steps, 2 failed\./);
    } finally {
      await flaky.close();
    }
  });
});
