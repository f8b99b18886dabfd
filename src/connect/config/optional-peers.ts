import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';

import { ConnectError } from '../errors/connect-error.js';
import { CONNECT_DEFAULTS } from './connect-defaults.js';
import type { ResolvedConnectOptions } from './resolved-connect-options.js';

// The framework's optional peers: packages only some configurations need, loaded with `import()` when
// one does, never imported statically (an app that does not install them must still load the
// framework). The types below describe the little the framework uses of them, so that the framework's
// own declarations never name these packages: an app's `tsc` does not need them installed either.

/** The embedded engine's packages. */
export const EMBEDDED_ENGINE_PACKAGES = ['@electric-sql/pglite', '@electric-sql/pglite-socket'] as const;
/** The package behind `retention.schedule` (the framework uses its `cron` and its `SchedulerRegistry`). */
export const SCHEDULE_PACKAGE = '@nestjs/schedule';

/** What `EmbeddedPostgres` uses of a PGlite database. */
export interface PGliteDatabase {
  readonly closed: boolean;
  close(): Promise<void>;
}

/** What `EmbeddedPostgres` uses of pglite-socket's server. */
export interface PGliteSocketServerHandle {
  start(): Promise<void>;
  stop(): Promise<void>;
  getServerConn(): string;
  getStats(): { activeConnections: number };
}

/** The exports of `@electric-sql/pglite` and `@electric-sql/pglite-socket` the embedded engine needs. */
export interface EmbeddedEngineModules {
  readonly PGlite: { create(dataDir?: string): Promise<PGliteDatabase> };
  readonly PGLiteSocketServer: new (options: { db: PGliteDatabase; host: string; port: number; maxConnections: number }) => PGliteSocketServerHandle;
}

/** What `TenantRetention` uses of a cron job (the `cron` package's `CronJob`). */
export interface CronJobHandle {
  stop(): unknown;
}

/** What `TenantRetention` uses of `@nestjs/schedule`'s `SchedulerRegistry`. */
export interface SchedulerRegistryHandle {
  doesExist(type: 'cron', name: string): boolean;
  addCronJob(name: string, job: CronJobHandle): void;
  deleteCronJob(name: string): void;
}

/** `@nestjs/schedule`'s `SchedulerRegistry` class and the `CronJob` of the `cron` it depends on. */
export interface SchedulingModules {
  /** A class token for `ModuleRef.get` (its constructor is @nestjs/schedule's business). */
  readonly SchedulerRegistry: abstract new (...args: never[]) => SchedulerRegistryHandle;
  readonly CronJob: { from(params: { cronTime: string; onTick: () => void; start: boolean; unrefTimeout: boolean }): CronJobHandle };
  /** The `cron` package's parser, to check an expression without scheduling anything. */
  readonly CronTime: new (expression: string) => unknown;
}

/**
 * How packages are loaded: the seam tests replace (through `ConnectOptionalPeers`) to play a missing
 * or broken package. `nodeModuleLoader` is the real one.
 */
export interface ModuleLoader {
  /** `import(name)` as the framework's own code would. */
  load(name: string): Promise<unknown>;
  /** `import(dependency)` as the installed package `parent` resolves it (its own dependency, wherever npm put it). */
  loadDependencyOf(parent: string, dependency: string): Promise<unknown>;
}

/**
 * Loads from the framework's location, as a static import would. A dependency of a peer is resolved
 * from that peer's entry point, so the framework gets the very copy the peer uses, hoisted or nested.
 */
export const nodeModuleLoader: ModuleLoader = {
  load: (name) => import(name) as Promise<unknown>,
  async loadDependencyOf(parent, dependency) {
    const entry = import.meta.resolve(parent);
    return (await import(pathToFileURL(createRequire(entry).resolve(dependency)).href)) as unknown;
  },
};

/**
 * Whether `error` says that the package `name` itself cannot be found: Node's `ERR_MODULE_NOT_FOUND`
 * (`Cannot find package 'name' imported from …`) or `MODULE_NOT_FOUND` (`Cannot find module 'name'`).
 * A package that is there but fails to load, or misses a file or a dependency of its own, is not that.
 */
export function isMissingPackage(error: unknown, name: string): boolean {
  if (typeof error !== 'object' || error === null) return false;
  const { code, message } = error as { code?: unknown; message?: unknown };
  if ((code !== 'ERR_MODULE_NOT_FOUND' && code !== 'MODULE_NOT_FOUND') || typeof message !== 'string') return false;
  const quoted = name.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
  return new RegExp(`^Cannot find (?:package|module) '${quoted}'(?:\\s|$)`).test(message);
}

/** The `config/invalid` errors that say a peer is not installed (so several can be told in one line). */
const missingPeerErrors = new WeakSet<object>();

/**
 * Imports `names`; when some are not installed, rejects with one `config/invalid` error whose message
 * `explain` writes from the missing names (in the order given). Any other failure propagates as it is.
 */
export async function importPackages(loader: ModuleLoader, names: readonly string[], explain: (missing: readonly string[]) => string): Promise<unknown[]> {
  const outcomes = await Promise.allSettled(names.map((name) => loader.load(name)));
  const missing = new Set<string>();
  let cause: unknown;
  const loaded: unknown[] = [];
  for (const outcome of outcomes) {
    if (outcome.status === 'fulfilled') {
      loaded.push(outcome.value);
      continue;
    }
    // A peer may import another of `names` (pglite-socket imports pglite): that one is the missing one.
    const name = names.find((candidate) => isMissingPackage(outcome.reason, candidate));
    if (name === undefined) throw outcome.reason;
    missing.add(name);
    cause ??= outcome.reason;
  }
  if (missing.size > 0) {
    const error = ConnectError.create('config/invalid', explain(names.filter((name) => missing.has(name))), undefined, cause);
    missingPeerErrors.add(error);
    throw error;
  }
  return loaded;
}

/** "a", "a and b", "a, b and c". */
function listOf(names: readonly string[]): string {
  return names.length <= 1 ? names.join('') : `${names.slice(0, -1).join(', ')} and ${names[names.length - 1]}`;
}

function areNot(names: readonly string[]): string {
  return `${listOf(names)} ${names.length === 1 ? 'is' : 'are'} not installed`;
}

/** The message when `ConnectModule` would start the embedded engine without its packages. */
export function embeddedEngineMissing(missing: readonly string[]): string {
  return `No database URL is given, so the embedded engine would start, but ${areNot(missing)}: npm install ${missing.join(' ')}, or set database.url.`;
}

/** The message when `EmbeddedPostgres.start()` is called without its packages. */
export function embeddedPostgresMissing(missing: readonly string[]): string {
  return `EmbeddedPostgres needs ${listOf(missing)}, which ${missing.length === 1 ? 'is' : 'are'} not installed: npm install ${missing.join(' ')}.`;
}

/** The message when retention is scheduled on `schedule` without `@nestjs/schedule`. */
export function schedulingMissing(schedule: string): (missing: readonly string[]) => string {
  const shown = schedule === CONNECT_DEFAULTS.retention.schedule ? `default ${JSON.stringify(schedule)}` : JSON.stringify(schedule);
  return (missing) => `retention.schedule is on (${shown}) but ${areNot(missing)}: npm install ${missing.join(' ')}, or set retention: { schedule: false }.`;
}

/** The export `name` of a loaded module (also through a CommonJS module's default export), which must be a function. */
function exportOf(module: unknown, name: string, what: string): unknown {
  const namespace = (module ?? {}) as Record<string, unknown>;
  const value = namespace[name] ?? ((namespace.default ?? {}) as Record<string, unknown>)[name];
  if (typeof value !== 'function') {
    throw ConnectError.create('config/invalid', `The installed ${what} has no ${name}: install a version within atlassian-connect-nest's peerDependencies.`);
  }
  return value;
}

/** Imports the embedded engine's packages (see `importPackages` for the errors). */
export async function importEmbeddedEngine(loader: ModuleLoader, explain: (missing: readonly string[]) => string): Promise<EmbeddedEngineModules> {
  const [pglite, socket] = await importPackages(loader, EMBEDDED_ENGINE_PACKAGES, explain);
  return {
    PGlite: exportOf(pglite, 'PGlite', '@electric-sql/pglite') as EmbeddedEngineModules['PGlite'],
    PGLiteSocketServer: exportOf(socket, 'PGLiteSocketServer', '@electric-sql/pglite-socket') as EmbeddedEngineModules['PGLiteSocketServer'],
  };
}

/** Imports `@nestjs/schedule` and the `cron` it depends on (see `importPackages` for the errors). */
export async function importScheduling(loader: ModuleLoader, explain: (missing: readonly string[]) => string): Promise<SchedulingModules> {
  const [schedule] = await importPackages(loader, [SCHEDULE_PACKAGE], explain);
  const SchedulerRegistry = exportOf(schedule, 'SchedulerRegistry', SCHEDULE_PACKAGE) as SchedulingModules['SchedulerRegistry'];
  const cron = await loader.loadDependencyOf(SCHEDULE_PACKAGE, 'cron');
  const CronJob = exportOf(cron, 'CronJob', `cron of ${SCHEDULE_PACKAGE}`) as SchedulingModules['CronJob'];
  const CronTime = exportOf(cron, 'CronTime', `cron of ${SCHEDULE_PACKAGE}`) as SchedulingModules['CronTime'];
  if (typeof (CronJob as { from?: unknown }).from !== 'function') {
    throw ConnectError.create(
      'config/invalid',
      `The cron of the installed ${SCHEDULE_PACKAGE} has no CronJob.from: install a version within atlassian-connect-nest's peerDependencies.`,
    );
  }
  return { SchedulerRegistry, CronJob, CronTime };
}

/** Whether these options make `ConnectModule` start the embedded engine: the default store and no database URL. */
export function usesEmbeddedEngine(options: ResolvedConnectOptions): boolean {
  return options.tenantStore === undefined && options.database.url === undefined;
}

/**
 * The optional peers of one `ConnectModule`, each loaded once. `check()` runs while the options are
 * resolved, before any provider opens anything, so a configuration that needs a package that is not
 * installed fails the bootstrap with one `config/invalid` line and leaves nothing running.
 * Tests provide one with their own `ModuleLoader` (`overrideProvider(ConnectOptionalPeers)`).
 */
export class ConnectOptionalPeers {
  private engine: Promise<EmbeddedEngineModules> | undefined;
  private schedule: Promise<SchedulingModules> | undefined;

  constructor(private readonly loader: ModuleLoader = nodeModuleLoader) {}

  /** pglite and pglite-socket, for the embedded engine. */
  embeddedEngine(): Promise<EmbeddedEngineModules> {
    this.engine ??= importEmbeddedEngine(this.loader, embeddedEngineMissing);
    return this.engine;
  }

  /** `@nestjs/schedule` and its `cron`, for `retention.schedule` (`schedule`: the expression, for the message). */
  scheduling(schedule: string): Promise<SchedulingModules> {
    this.schedule ??= importScheduling(this.loader, schedulingMissing(schedule));
    return this.schedule;
  }

  /** Loads what `options` need; several missing packages are told in one line. */
  async check(options: ResolvedConnectOptions): Promise<void> {
    if (options.tenantStore !== undefined) return; // no database to open, no tenants to purge
    const needed: Promise<unknown>[] = [];
    if (usesEmbeddedEngine(options)) needed.push(this.embeddedEngine());
    const schedule = options.retention.schedule;
    if (schedule !== false) needed.push(this.scheduling(schedule));
    const failures = (await Promise.allSettled(needed)).flatMap((outcome) => (outcome.status === 'rejected' ? [outcome.reason as unknown] : []));
    const other = failures.find((failure) => !(typeof failure === 'object' && failure !== null && missingPeerErrors.has(failure)));
    if (other !== undefined) throw other;
    if (failures.length === 1) throw failures[0];
    if (failures.length > 1) {
      throw ConnectError.create('config/invalid', failures.map((failure) => (failure as ConnectError).message).join(' '), undefined, failures[0]);
    }
  }
}
