// The benchmarked app as a child process (`node bench/bench-app.mjs`): the built example app, started by
// the same code as `npm start`, plus the bench's unguarded baseline route.
import { execFileSync, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';

export const ROOT = resolve(import.meta.dirname, '..');

/** Every child still running, so an exit (normal, error or signal) can stop it. */
const running = new Set();

/** Kills what is still running, synchronously (for `process.on('exit')`). */
export function killAllSync() {
  for (const child of running) {
    try {
      child.kill('SIGKILL');
    } catch {
      // already gone
    }
  }
  running.clear();
}

/** A TCP port on 127.0.0.1 that was free a moment ago. */
export function freePort() {
  return new Promise((done, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => done(port));
    });
  });
}

/** Resident set size of a process in MB, from /proc (Linux) or `ps`; undefined when unknown. */
export function rssMb(pid, field = 'VmRSS') {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const match = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status);
    if (match) return Number(match[1]) / 1024;
  } catch {
    // not Linux: fall through
  }
  return undefined;
}

let clockTicks;
/** Clock ticks per second of /proc/<pid>/stat (`getconf CLK_TCK`, almost always 100). */
function ticksPerSecond() {
  if (clockTicks === undefined) {
    try {
      clockTicks = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
    } catch {
      clockTicks = 100;
    }
  }
  return clockTicks;
}

/** CPU time (user + system) a process has used so far, in ms, from /proc (Linux); undefined when unknown. */
export function cpuMs(pid) {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after "pid (comm) ": state is field 3, utime 14, stime 15.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / ticksPerSecond();
  } catch {
    return undefined;
  }
}

const OUTPUT_KEPT = 64 * 1024;

let probeRequests = 0;
/**
 * The app's memory right after a full garbage collection, through the heap probe: `{ heapMb, externalMb,
 * rssMb }`, where heap is V8's live heap and external what live objects hold outside it (buffers).
 * `undefined` when the app has no probe or does not answer within `timeoutMs`.
 */
export function liveMemory(child, timeoutMs = 30_000) {
  if (!child.connected) return Promise.resolve(undefined);
  const id = ++probeRequests;
  return new Promise((done) => {
    const finish = (value) => {
      clearTimeout(timer);
      child.off('message', onMessage);
      done(value);
    };
    const onMessage = (message) => {
      if (message?.type !== 'bench:heap' || message.id !== id) return;
      const mb = (bytes) => bytes / (1024 * 1024);
      finish({ heapMb: mb(message.heapUsed), externalMb: mb(message.external), rssMb: mb(message.rss) });
    };
    const timer = setTimeout(() => finish(undefined), timeoutMs);
    child.on('message', onMessage);
    child.send({ type: 'bench:heap', id }, (error) => {
      if (error) finish(undefined);
    });
  });
}

/**
 * Starts the app (`script`, by default the example app; bench/ace/app.mjs for the ACE app) with `nodeArgs`
 * for node (e.g. `--cpu-prof`) and waits until `GET /health` answers 200. `env` is added to a minimal environment
 * (PATH, HOME), so the developer's own settings (DATABASE_URL, PORT, …) never leak in unasked.
 * The app's output is drained (the example logs every install) and its tail kept for error messages.
 */
export async function startApp({ env, nodeArgs = [], timeoutMs = 90_000, script = 'bench/bench-app.mjs' }) {
  const port = await freePort();
  // The heap probe (bench/heap-probe.mjs) answers `liveMemory()` over the IPC channel.
  const probeArgs = ['--expose-gc', '--import', pathToFileURL(resolve(ROOT, 'bench/heap-probe.mjs')).href];
  const child = spawn(process.execPath, [...probeArgs, ...nodeArgs, resolve(ROOT, script)], {
    cwd: ROOT,
    env: {
      PATH: process.env.PATH ?? '',
      HOME: process.env.HOME ?? '',
      NODE_ENV: 'production',
      PORT: String(port),
      APP_BASE_URL: `http://127.0.0.1:${port}`,
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
  });
  // Only the probe's answers come over the channel; it must not keep the bench alive either.
  child.channel?.unref();
  running.add(child);
  let output = '';
  const keep = (chunk) => {
    output += chunk.toString('utf8');
    if (output.length > OUTPUT_KEPT * 2) output = output.slice(-OUTPUT_KEPT);
  };
  child.stdout.on('data', keep);
  child.stderr.on('data', keep);
  let exitedWith;
  const exited = new Promise((done) => {
    child.once('exit', (code, signal) => {
      running.delete(child);
      exitedWith = code ?? signal ?? 'unknown';
      done(exitedWith);
    });
  });

  const url = `http://127.0.0.1:${port}`;
  const app = {
    url,
    port,
    pid: child.pid,
    output: () => output.slice(-OUTPUT_KEPT),
    /** Freezes the process (SIGSTOP) while another app is measured, so only one runs at a time. */
    pause: () => exitedWith === undefined && child.kill('SIGSTOP'),
    /** Lets a paused process run again (SIGCONT). */
    resume: () => exitedWith === undefined && child.kill('SIGCONT'),
    rssMb: () => rssMb(child.pid),
    cpuMs: () => cpuMs(child.pid),
    peakRssMb: () => rssMb(child.pid, 'VmHWM'),
    liveMemory: (timeoutMs) => liveMemory(child, timeoutMs),
    /** SIGTERM (the app drains and exits 0), SIGKILL after `graceMs`. */
    async stop(graceMs = 15_000) {
      if (exitedWith !== undefined) return exitedWith;
      // A paused process would only see SIGTERM once it runs again.
      child.kill('SIGCONT');
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
      try {
        return await exited;
      } finally {
        clearTimeout(timer);
      }
    },
  };

  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (exitedWith !== undefined) throw new Error(`The app exited before it was ready (${exitedWith}):\n${app.output()}`);
    try {
      const response = await fetch(`${url}/health`, { signal: AbortSignal.timeout(2_000) });
      await response.arrayBuffer();
      if (response.status === 200) return app;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      await app.stop(1_000);
      throw new Error(`The app was not ready within ${timeoutMs} ms:\n${app.output()}`);
    }
    await sleep(200);
  }
}

/**
 * Which adapter really answers, as the bench controller's `GET /jira/bench/adapter` reports it (the
 * example app picks the adapter from HTTP_ADAPTER; a build without that switch runs its default).
 */
export async function detectAdapter(url) {
  const response = await fetch(`${url}/jira/bench/adapter`, { signal: AbortSignal.timeout(30_000) });
  const text = await response.text();
  if (response.status !== 200) throw new Error(`GET /jira/bench/adapter answered ${response.status}: is the bench controller registered?`);
  const { adapter } = JSON.parse(text);
  if (adapter !== 'express' && adapter !== 'fastify') throw new Error(`GET /jira/bench/adapter named ${JSON.stringify(adapter)}`);
  return adapter;
}
