import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createServer as createHttpServer, type Server as HttpServer } from 'node:http';
import { createServer as createTcpServer, connect, type AddressInfo, type Server as TcpServer, type Socket } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startExample, type RunningExample } from './support/example-app.js';

// Runs the BUILT command line (`npm test` builds first; run `npm run build` before running this file alone).
const ROOT = fileURLToPath(new URL('..', import.meta.url));
const CLI = join(ROOT, 'dist/connect/cli/main.js');

interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** `atlassian-connect-nest doctor <args>` as a child process. */
function doctor(args: string[]): Promise<CliRun> {
  return new Promise((resolve) => {
    execFile(process.execPath, [CLI, 'doctor', ...args], { cwd: ROOT, timeout: 30_000 }, (error, stdout, stderr) => {
      resolve({ code: error ? (typeof error.code === 'number' ? error.code : null) : 0, stdout, stderr });
    });
  });
}

/** The line of one check, e.g. `line(run, 'lifecycle installed')`. */
function line(run: CliRun, name: string): string | undefined {
  return run.stdout.split('\n').find((text) => new RegExp(`^(PASS|WARN|FAIL)  ${name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} `).test(text));
}

/**
 * A TCP pass-through on a port of its own. The example app must know its public baseUrl (and so its
 * port) before it starts, while `startExample` listens on a random port: the proxy's port is fixed
 * first, the app's baseUrl names it, and the proxy forwards to wherever the app ends up listening.
 */
class TcpForwarder {
  private target = 0;
  private readonly sockets = new Set<Socket>();
  private constructor(private readonly server: TcpServer) {}

  static async start(): Promise<TcpForwarder> {
    let forwarder: TcpForwarder | undefined;
    const server = createTcpServer((client) => forwarder?.forward(client));
    forwarder = new TcpForwarder(server);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return forwarder;
  }

  get port(): number {
    return (this.server.address() as AddressInfo).port;
  }

  to(port: number): this {
    this.target = port;
    return this;
  }

  private forward(client: Socket): void {
    const upstream = connect(this.target, '127.0.0.1');
    for (const socket of [client, upstream]) {
      this.sockets.add(socket);
      socket.on('close', () => this.sockets.delete(socket));
    }
    client.on('error', () => upstream.destroy());
    upstream.on('error', () => client.destroy());
    client.pipe(upstream).pipe(client);
  }

  async close(): Promise<void> {
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    for (const socket of this.sockets) socket.destroy();
    await closed;
  }
}

/**
 * An app that gets it wrong: its descriptor lacks the signed-install migration, `installed` answers
 * 500, `uninstalled` is declared but not served (404), `enabled` answers 401 and `disabled` is not
 * declared.
 */
async function startBrokenApp(): Promise<{ baseUrl: string; server: HttpServer }> {
  let baseUrl = '';
  const server = createHttpServer((req, res) => {
    req.resume();
    if (req.method === 'GET' && req.url === '/app/atlassian-connect.json') {
      res.setHeader('content-type', 'application/json');
      res.end(
        JSON.stringify({
          key: 'com.example.broken',
          baseUrl,
          authentication: { type: 'jwt' },
          lifecycle: { installed: '/installed', uninstalled: '/uninstalled', enabled: '/enabled' },
          apiMigrations: { 'context-qsh': true },
        }),
      );
      return;
    }
    res.statusCode = req.method === 'POST' && req.url === '/app/installed' ? 500 : req.method === 'POST' && req.url === '/app/enabled' ? 401 : 404;
    res.end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/app`;
  return { baseUrl, server };
}

/** A port on which nothing listens. */
async function closedPort(): Promise<number> {
  const server = createTcpServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

describe('atlassian-connect-nest doctor (built CLI)', () => {
  let forwarder: TcpForwarder;
  let ex: RunningExample;
  let publicBase: string;
  let broken: { baseUrl: string; server: HttpServer };

  beforeAll(async () => {
    if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run \`npm run build\` first.`);
    forwarder = await TcpForwarder.start();
    publicBase = `http://127.0.0.1:${forwarder.port}`;
    ex = await startExample({ appBaseUrl: publicBase });
    forwarder.to(Number(new URL(ex.url).port));
    broken = await startBrokenApp();
  });
  afterAll(async () => {
    await ex?.close();
    await forwarder?.close();
    await new Promise<void>((resolve) => (broken ? broken.server.close(() => resolve()) : resolve()));
  });

  it('passes the example app (Jira), warning only about the port', async () => {
    const run = await doctor([`${publicBase}/jira`, '--install-keys-url', ex.host.installKeysUrl]);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(line(run, 'descriptor')).toBe(`PASS  descriptor             ${publicBase}/jira/atlassian-connect.json answers 200 with valid JSON`);
    expect(line(run, 'key')).toMatch(/^PASS {2}key +com\.example\.connect-nest\.jira$/);
    expect(line(run, 'baseUrl')).toMatch(new RegExp(`^PASS {2}baseUrl +${publicBase}/jira is where the descriptor is served$`));
    expect(line(run, 'https')).toMatch(/^PASS {2}https +http on a loopback address/);
    expect(line(run, 'port')).toMatch(new RegExp(`^WARN {2}port +${forwarder.port}: Atlassian Cloud may only call apps on ports 80, 443, 8080`));
    expect(line(run, 'authentication')).toMatch(/^PASS {2}authentication +jwt$/);
    expect(line(run, 'signed-install')).toMatch(/^PASS /);
    expect(line(run, 'context-qsh')).toMatch(/^PASS /);
    for (const event of ['installed', 'uninstalled', 'enabled', 'disabled']) {
      expect(line(run, `lifecycle ${event}`)).toBe(`PASS  lifecycle ${event.padEnd(21 - 'lifecycle '.length)}  POST ${publicBase}/jira/${event} without a token: HTTP 401`);
    }
    expect(line(run, 'install keys')).toMatch(new RegExp(`^PASS {2}install keys +${ex.host.installKeysUrl}/ answers \\(HTTP 404\\)$`));
    expect(run.stdout).toMatch(/^13 checks: 12 passed, 1 warnings, 0 failed$/m);
  });

  it("takes a descriptor URL (Confluence), and tries Atlassian's install keys host only as a warning", async () => {
    const run = await doctor([`${publicBase}/confluence/atlassian-connect.json`, '--timeout', '5000']);
    expect(run.code).toBe(0);
    expect(line(run, 'key')).toMatch(/^PASS {2}key +com\.example\.connect-nest\.confluence$/);
    expect(line(run, 'baseUrl')).toMatch(/^PASS /);
    expect(line(run, 'lifecycle installed')).toMatch(/^PASS .*\/confluence\/installed without a token: HTTP 401$/);
    // no internet here: unreachable is a warning; with internet Atlassian's host answers
    expect(line(run, 'install keys')).toMatch(/^(PASS|WARN) {2}install keys +https:\/\/connect-install-keys\.atlassian\.com\//);
  });

  it('fails when the descriptor is not served at the baseUrl it declares', async () => {
    const direct = `${ex.url}/jira`;
    const run = await doctor([direct, '--install-keys-url', ex.host.installKeysUrl]);
    expect(run.code).toBe(1);
    expect(line(run, 'baseUrl')).toBe(`FAIL  baseUrl                the descriptor declares ${publicBase}/jira, but is served at ${direct}: the product calls the declared one`);
    expect(line(run, 'lifecycle installed')).toMatch(/^PASS /);
  });

  it('fails the broken app: no signed-install, installed answering 500, uninstalled missing', async () => {
    const keysDown = `http://127.0.0.1:${await closedPort()}`;
    const run = await doctor([broken.baseUrl, '--install-keys-url', keysDown, '--timeout', '3000']);
    expect(run.code).toBe(1);
    expect(line(run, 'descriptor')).toMatch(/^PASS /);
    expect(line(run, 'baseUrl')).toMatch(/^PASS /);
    expect(line(run, 'authentication')).toMatch(/^PASS /);
    expect(line(run, 'signed-install')).toMatch(/^FAIL {2}signed-install +apiMigrations\["signed-install"\] is not true/);
    expect(line(run, 'context-qsh')).toMatch(/^PASS /);
    expect(line(run, 'lifecycle installed')).toBe(
      `FAIL  lifecycle installed    POST ${broken.baseUrl}/installed without a token: HTTP 500: the app fails, a real installed callback would fail too`,
    );
    expect(line(run, 'lifecycle uninstalled')).toBe(`FAIL  lifecycle uninstalled  POST ${broken.baseUrl}/uninstalled without a token: HTTP 404: the route does not exist`);
    expect(line(run, 'lifecycle enabled')).toMatch(/^PASS .*HTTP 401$/);
    expect(line(run, 'lifecycle disabled')).toMatch(/^WARN {2}lifecycle disabled +not declared/);
    expect(line(run, 'install keys')).toMatch(new RegExp(`^FAIL {2}install keys +${keysDown}/ cannot be reached: fetch failed: ECONNREFUSED`));
    expect(run.stdout).toMatch(/^13 checks: 7 passed, 2 warnings, 4 failed$/m);
  });

  it('fails an app that is not running', async () => {
    const run = await doctor([`http://127.0.0.1:${await closedPort()}/jira`, '--install-keys-url', ex.host.installKeysUrl]);
    expect(run.code).toBe(1);
    expect(line(run, 'descriptor')).toMatch(/^FAIL {2}descriptor +http:\/\/127\.0\.0\.1:\d+\/jira\/atlassian-connect\.json could not be fetched: fetch failed: ECONNREFUSED/);
    expect(line(run, 'lifecycle installed')).toBeUndefined();
    expect(line(run, 'install keys')).toMatch(/^PASS /);
  });

  it.each([
    ['no URL', []],
    ['two URLs', ['http://a.test', 'http://b.test']],
    ['a relative URL', ['app.example.com/jira']],
    ['a bad timeout', ['http://a.test', '--timeout', 'soon']],
    ['a bad install keys URL', ['http://a.test', '--install-keys-url', 'keys.example.com']],
    ['an unknown option', ['http://a.test', '--fix']],
  ])('exits 2 for %s', async (_label, args) => {
    const run = await doctor(args);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/^doctor: /m);
    expect(run.stdout).toBe('');
  });

  it('--help documents the exit codes', async () => {
    const run = await doctor(['--help']);
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('Exit status: 0 no check failed (warnings allowed), 1 at least one FAIL, 2 usage error.');
  });
});
