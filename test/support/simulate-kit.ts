import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createServer, request as httpRequest, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { resolve } from 'node:path';
import type { INestApplication } from '@nestjs/common';
import { startTestDatabase } from 'atlassian-connect-nest/testing';
import { AppModule } from '../../src/example/app.module.js';
import type { ExampleConfig } from '../../src/example/example-config.js';
import { createTestApp, testAdapterName } from './http-adapter.js';

/** The built CLI: the e2e runs it exactly as a user would (`npm test` builds first). */
export const CLI = resolve(process.cwd(), 'dist/connect/cli/main.js');

export function assertCliBuilt(): void {
  if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run \`npm run build\` before this test.`);
}

/** A port that was free a moment ago (listen on 0, read it, close). */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  const { port } = server.address() as AddressInfo;
  await new Promise((done) => server.close(done));
  return port;
}

export interface CliRun {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Runs `node dist/connect/cli/main.js <args>` to completion. */
export function runCli(args: string[], timeoutMs = 30_000): Promise<CliRun> {
  return new Promise((done, fail) => {
    const child = spawn(process.execPath, [CLI, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', fail);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      done({ code, signal, stdout, stderr });
    });
  });
}

/** A long-running CLI (`--keep`): resolves once stdout contains `readyText`. */
export async function startCli(args: string[], readyText: string, timeoutMs = 30_000): Promise<{ stdout: () => string; stop: () => Promise<CliRun> }> {
  const child = spawn(process.execPath, [CLI, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  const closed = new Promise<CliRun>((done) => child.on('close', (code, signal) => done({ code, signal, stdout, stderr })));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
  await new Promise<void>((ready, fail) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      fail(new Error(`The CLI did not print ${JSON.stringify(readyText)} within ${timeoutMs} ms.\n${stdout}\n${stderr}`));
    }, timeoutMs);
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString('utf8');
      if (stdout.includes(readyText)) {
        clearTimeout(timer);
        ready();
      }
    });
    void closed.then((run) => {
      clearTimeout(timer);
      fail(new Error(`The CLI exited (${run.code}) before it was ready.\n${run.stdout}\n${run.stderr}`));
    });
  });
  return {
    stdout: () => stdout,
    stop: async () => {
      child.kill('SIGTERM');
      return closed;
    },
  };
}

export interface ListeningExample {
  app: INestApplication;
  /** `http://127.0.0.1:<port>`: also the app's public URL, so the CLI reaches it at its baseUrl. */
  url: string;
  close(): Promise<void>;
}

/**
 * The real example app on a chosen port, with its public baseUrl equal to its real local URL and its
 * install keys URL pointing at a simulator's `--keys-port`.
 */
export async function startExampleOn(port: number, installKeysUrl: string): Promise<ListeningExample> {
  const database = process.env.DATABASE_URL ? await startTestDatabase() : undefined;
  const url = `http://127.0.0.1:${port}`;
  const config: ExampleConfig = {
    port,
    httpAdapter: testAdapterName(),
    appBaseUrl: url,
    allowLoopbackSites: true,
    installKeysUrl,
    ...(database ? { databaseUrl: database.url, databaseSchema: database.schema } : { embeddedDataDir: 'memory' }),
  };
  const app = await createTestApp(AppModule.register(config), { logger: process.env.CONNECT_TEST_LOGS ? ['error', 'warn'] : false }, config.httpAdapter);
  await app.listen(port, '127.0.0.1');
  return {
    app,
    url,
    async close() {
      await app.close();
      await database?.stop();
    },
  };
}

export interface SmallServer {
  url: string;
  close(): Promise<void>;
}

async function listen(handler: (req: IncomingMessage, res: ServerResponse, self: string) => void): Promise<SmallServer> {
  let self = '';
  const server: Server = createServer((req, res) => handler(req, res, self));
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  self = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url: self,
    close: () =>
      new Promise<void>((done) => {
        server.close(() => done());
        server.closeAllConnections();
      }),
  };
}

/**
 * A reverse proxy in front of an app (like a tunnel) that rewrites every descriptor it passes through:
 * how a descriptor ends up disagreeing with the app behind it (another key, another baseUrl).
 */
export function startRewritingProxy(upstream: string, rewrite: (descriptor: Record<string, unknown>, self: string) => Record<string, unknown>): Promise<SmallServer> {
  return listen((req, res, self) => {
    const target = new URL(req.url ?? '/', upstream);
    const forward = httpRequest(target, { method: req.method, headers: { ...req.headers, host: target.host } }, (upstreamRes) => {
      if (!(req.url ?? '').split('?')[0]!.endsWith('/atlassian-connect.json') || upstreamRes.statusCode !== 200) {
        res.writeHead(upstreamRes.statusCode ?? 502, upstreamRes.headers);
        upstreamRes.pipe(res);
        return;
      }
      const chunks: Buffer[] = [];
      upstreamRes.on('data', (chunk: Buffer) => chunks.push(chunk));
      upstreamRes.on('end', () => {
        const body = JSON.stringify(rewrite(JSON.parse(Buffer.concat(chunks).toString('utf8')) as Record<string, unknown>, self));
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(body);
      });
    });
    forward.on('error', () => {
      res.statusCode = 502;
      res.end();
    });
    req.pipe(forward);
  });
}

/**
 * A deliberately broken Connect app on plain node:http: it accepts every lifecycle call without
 * checking anything (so it also accepts context tokens there), serves one good page, has no route for
 * a second page and crashes (500) on a third. Its descriptor also asks for a Confluence scope.
 */
export function startBrokenApp(): Promise<SmallServer> {
  return listen((req, res, self) => {
    const path = (req.url ?? '/').split('?')[0];
    req.resume();
    req.on('end', () => {
      if (path === '/broken/atlassian-connect.json') {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(
          JSON.stringify({
            key: 'com.example.broken',
            name: 'Broken',
            baseUrl: `${self}/broken`,
            authentication: { type: 'jwt' },
            lifecycle: { installed: '/installed', uninstalled: '/uninstalled', enabled: '/enabled', disabled: '/disabled' },
            apiMigrations: { 'signed-install': true, 'context-qsh': true },
            scopes: ['READ', 'SPACE_ADMIN'],
            modules: {
              generalPages: [
                { key: 'good-page', name: { value: 'Good' }, url: '/pages/good', location: 'system.top.navigation.bar' },
                { key: 'missing-page', name: { value: 'Missing' }, url: '/pages/missing', location: 'system.top.navigation.bar' },
                { key: 'crashing-page', name: { value: 'Crashing' }, url: '/pages/crash', location: 'system.top.navigation.bar' },
              ],
              webhooks: [{ event: 'jira:issue_created', url: '/hooks/issue-created' }],
            },
          }),
        );
        return;
      }
      if (req.method === 'POST' && ['/broken/installed', '/broken/uninstalled', '/broken/enabled', '/broken/disabled', '/broken/hooks/issue-created'].includes(path!)) {
        res.statusCode = 204;
        res.end();
        return;
      }
      if (path === '/broken/pages/good') {
        res.writeHead(200, { 'content-type': 'text/html' });
        res.end('<!doctype html><p>good</p>');
        return;
      }
      if (path === '/broken/pages/crash') {
        res.writeHead(500, { 'content-type': 'text/plain' });
        res.end('Internal Server Error');
        return;
      }
      res.writeHead(404, { 'content-type': 'text/plain' });
      res.end('Not Found');
    });
  });
}
