import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { resolve } from 'node:path';
import { testAdapterName } from './http-adapter.js';

/** Repository root (jest runs from it). */
export const ROOT = resolve(process.cwd());

/** A node process started by a test; `output` is what it printed so far (stdout and stderr). */
export interface ChildApp {
  readonly process: ChildProcess;
  readonly url: string;
  readonly port: number;
  output(): string;
  /** Resolves with the exit code (or the signal name) once the process has exited. */
  readonly exited: Promise<number | string>;
  /** SIGTERM, then SIGKILL after `graceMs`; resolves once it has exited. Idempotent. */
  stop(graceMs?: number): Promise<number | string>;
}

/** A TCP port that was free a moment ago. */
export async function freePort(): Promise<number> {
  return new Promise((done, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo;
      server.close(() => done(port));
    });
  });
}

/** Fails clearly when `npm run build` has not been run. */
export function requireBuilt(file: string): string {
  const path = resolve(ROOT, file);
  if (!existsSync(path)) throw new Error(`${file} is missing: run \`npm run build\` first (npm test does).`);
  return path;
}

/**
 * Starts `node <script>` with `env` (on top of PATH, HOME and `HTTP_ADAPTER`, the suite's adapter) and waits until `GET <url><readyPath>`
 * answers (any status below 500, or `readyStatus`), or the process exits, or `timeoutMs` passes. It runs in `cwd` (default: the
 * repository; `script` is relative to the repository unless absolute).
 */
export async function startChild(script: string, env: Record<string, string>, options: { port: number; readyPath?: string; timeoutMs?: number; cwd?: string }): Promise<ChildApp> {
  const child = spawn(process.execPath, [requireBuilt(script)], {
    cwd: options.cwd ?? ROOT,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', NODE_ENV: 'test', HTTP_ADAPTER: testAdapterName(), ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
  const exited = new Promise<number | string>((done) => {
    child.once('exit', (code, signal) => done(code ?? signal ?? 'unknown'));
  });
  let hasExited = false;
  void exited.then(() => (hasExited = true));

  const url = `http://127.0.0.1:${options.port}`;
  let stopping: Promise<number | string> | undefined;
  const app: ChildApp = {
    process: child,
    url,
    port: options.port,
    output: () => output,
    exited,
    stop(graceMs = 10_000) {
      stopping ??= (async () => {
        if (!hasExited) {
          child.kill('SIGTERM');
          const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
          try {
            return await exited;
          } finally {
            clearTimeout(timer);
          }
        }
        return exited;
      })();
      return stopping;
    },
  };

  const deadline = Date.now() + (options.timeoutMs ?? 30_000);
  const readyPath = options.readyPath ?? '/health';
  for (;;) {
    if (hasExited) throw new Error(`${script} exited before it was ready (${String(await exited)}):\n${output}`);
    try {
      const response = await fetch(url + readyPath, { signal: AbortSignal.timeout(1_000) });
      await response.arrayBuffer();
      if (response.status < 500) return app;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      await app.stop(1_000);
      throw new Error(`${script} was not ready within ${options.timeoutMs ?? 30_000} ms:\n${output}`);
    }
    await new Promise((done) => setTimeout(done, 100));
  }
}
