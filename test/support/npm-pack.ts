import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

// Shared by the suites that pack this repository with `npm pack` and install the tarball into apps of
// their own in a temporary directory (test/scaffold.e2e-spec.ts, test/package.e2e-spec.ts).

/** The repository root. */
export const REPO_ROOT = fileURLToPath(new URL('../..', import.meta.url));
export const MINUTE = 60_000;

export interface Run {
  /** The exit code; `null` when the process was killed (by the timeout, for one) or died of a signal. */
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** The environment of a child npm or node: ours, without what `npm test` and jest set for this run. */
export function childEnv(extra: Record<string, string> = {}, without: string[] = []): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [name, value] of Object.entries(process.env)) {
    if (/^npm_/i.test(name) || name === 'INIT_CWD' || name === 'JEST_WORKER_ID' || without.includes(name)) continue;
    env[name] = value;
  }
  return { ...env, ...extra };
}

/** Runs a command to its end (SIGKILL after `timeoutMs`) and resolves with its exit and output, never rejects. */
export function run(command: string, args: string[], cwd: string, timeoutMs: number, env = childEnv()): Promise<Run> {
  return new Promise((resolve) => {
    execFile(command, args, { cwd, env, timeout: timeoutMs, maxBuffer: 64 * 1024 * 1024, killSignal: 'SIGKILL' }, (error, stdout, stderr) => {
      const code = error ? (typeof error.code === 'number' ? error.code : null) : 0;
      resolve({ code, signal: error?.signal ?? null, stdout, stderr });
    });
  });
}

/**
 * Runs commands that must succeed, and keeps how long each took (`timings`, printed by the suites),
 * with paths shortened by `shorten` (e.g. the temporary directory to `$TMP`).
 */
export class CommandRunner {
  readonly timings: string[] = [];

  constructor(private readonly shorten: (text: string) => string = (text) => text) {}

  /** Runs and fails with the output's tail when the exit code is not 0. */
  async mustRun(command: string, args: string[], cwd: string, timeoutMs: number, env = childEnv()): Promise<Run> {
    const started = Date.now();
    const result = await run(command, args, cwd, timeoutMs, env);
    const shown = [command === process.execPath ? 'node' : command, ...args].map((part) => this.shorten(part)).join(' ');
    const where = cwd === REPO_ROOT ? 'the repository' : this.shorten(cwd);
    this.timings.push(`${shown.slice(0, 90)} (in ${where}): ${((Date.now() - started) / 1000).toFixed(1)} s`);
    if (result.code !== 0) {
      const tail = (text: string) => text.split('\n').slice(-60).join('\n');
      throw new Error(`${command} ${args.join(' ')} (in ${cwd}) exited with ${result.code ?? result.signal}:\n${tail(result.stdout)}\n${tail(result.stderr)}`);
    }
    return result;
  }

  npm(args: string[], cwd: string, timeoutMs = 5 * MINUTE): Promise<Run> {
    return this.mustRun('npm', args, cwd, timeoutMs);
  }

  /** `npm install` as the suites run it: from the warm cache where it can, quiet. */
  install(cwd: string, packages: string[] = [], timeoutMs = 8 * MINUTE): Promise<Run> {
    return this.npm(['install', '--no-audit', '--no-fund', '--prefer-offline', '--loglevel=error', ...packages], cwd, timeoutMs);
  }

  /** `npm pack` of this repository (built beforehand: `npm test` builds first) into `destination`; resolves with the tarball's path. */
  async packRepository(destination: string): Promise<string> {
    const packed = await this.npm(['pack', '--json', '--pack-destination', destination], REPO_ROOT, 2 * MINUTE);
    return join(destination, (JSON.parse(packed.stdout) as { filename: string }[])[0]!.filename);
  }
}
