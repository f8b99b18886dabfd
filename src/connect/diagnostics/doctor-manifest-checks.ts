import type { DoctorCheck, DoctorOptions } from './doctor-checks.js';
import type { ForgeManifest } from '../forge/manifest/forge-manifest.js';
import { reasonOf } from '../util/error-reason.js';

/** The module types whose `endpoint` Forge posts events and triggers to. */
const EVENT_MODULE_TYPES = ['trigger', 'scheduledTrigger', 'preUninstall'] as const;
/** The data residency module, whose hooks are `<remote baseUrl><path>/<hook>`. */
const MIGRATION_MODULE_TYPE = 'migration:dataResidency';
const EVENT_ROUTE_HINT = 'is forge.appId set, and forgeEvents.path what the manifest says?';
const MIGRATION_ROUTE_HINT = 'is forge.appId set, and forgeRealmMigration.path what the manifest says?';

type Json = Record<string, unknown>;

/**
 * The doctor's checks of a `manifest.yml` against the running app (`doctor --manifest`): `app.connect.key`
 * is the served descriptor's key, the Connect remote holds the descriptor's baseUrl, every remote
 * `endpoint` answers an unauthenticated POST with 401 (served, and checking the Forge Invocation Token),
 * and every `trigger`, `scheduledTrigger` and `preUninstall` module's endpoint is one of those; the
 * `migration:dataResidency` module's hooks (`<path>/start` by POST, `<path>/status` by GET) answer 401
 * too. From outside the doctor cannot see the app's handlers, only that Forge's deliveries would reach a route.
 *
 * Endpoints on the remote whose baseUrl is the descriptor's are probed where the app was reached
 * (`probeBase`, as the lifecycle checks do); others at their remote's own baseUrl.
 */
export async function manifestChecks(manifest: unknown, descriptor: Json, probeBase: string | undefined, options: DoctorOptions): Promise<DoctorCheck[]> {
  const checks: DoctorCheck[] = [];
  const add = (status: DoctorCheck['status'], name: string, message: string) => checks.push({ status, name, message });
  if (!isObject(manifest)) {
    add('fail', 'manifest', 'the manifest is not a YAML mapping');
    return checks;
  }
  const app = isObject(manifest.app) ? manifest.app : {};
  const connect = isObject(app.connect) ? app.connect : undefined;
  const remotes = (Array.isArray(manifest.remotes) ? manifest.remotes : []).filter(isObject);
  const declaredBase = typeof descriptor.baseUrl === 'string' ? trim(descriptor.baseUrl) : undefined;

  if (connect === undefined || typeof connect.key !== 'string')
    add('fail', 'manifest connect.key', 'app.connect.key is missing: Forge cannot tie the manifest to this Connect app');
  else if (connect.key === descriptor.key) add('pass', 'manifest connect.key', `${connect.key} is the served descriptor's key`);
  else
    add(
      'fail',
      'manifest connect.key',
      `app.connect.key is ${JSON.stringify(connect.key)}, the served descriptor's key is ${JSON.stringify(descriptor.key)}: they must be equal (and cannot change in production)`,
    );

  if (connect !== undefined) {
    const remote = remotes.find((candidate) => candidate.key === connect.remote);
    if (typeof connect.remote !== 'string') add('fail', 'manifest connect.remote', 'app.connect.remote is missing: it names the remote holding the Connect baseUrl');
    else if (remote === undefined) add('fail', 'manifest connect.remote', `app.connect.remote is ${JSON.stringify(connect.remote)}, which is not in remotes`);
    else if (typeof remote.baseUrl === 'string' && declaredBase !== undefined && trim(remote.baseUrl) === declaredBase)
      add('pass', 'manifest connect.remote', `${connect.remote} holds the descriptor's baseUrl ${declaredBase}`);
    else
      add(
        'fail',
        'manifest connect.remote',
        `remote ${JSON.stringify(connect.remote)} has baseUrl ${JSON.stringify(remote.baseUrl ?? null)}, the descriptor's is ${JSON.stringify(declaredBase ?? null)}`,
      );
  }

  const baseOf = (remoteBase: string) => trim(probeBase !== undefined && trim(remoteBase) === declaredBase ? probeBase : remoteBase);
  const modules = isObject(manifest.modules) ? manifest.modules : {};
  const endpoints = (Array.isArray(modules.endpoint) ? modules.endpoint : []).filter(isObject);
  const served = new Map<string, boolean>();
  for (const endpoint of endpoints) {
    const name = `endpoint ${String(endpoint.key)}`;
    const remote = remotes.find((candidate) => candidate.key === endpoint.remote);
    const path = isObject(endpoint.route) ? endpoint.route.path : undefined;
    if (remote === undefined || typeof remote.baseUrl !== 'string') {
      add('fail', name, `its remote ${JSON.stringify(endpoint.remote ?? null)} is not in remotes with a baseUrl`);
      continue;
    }
    if (typeof path !== 'string' || !path.startsWith('/')) {
      add('fail', name, 'route.path is missing or not an absolute path: Forge needs it to post events');
      continue;
    }
    const check = await probeEndpoint(name, 'POST', `${baseOf(remote.baseUrl)}${path}`, options, EVENT_ROUTE_HINT);
    served.set(String(endpoint.key), check.status === 'pass');
    checks.push(check);
  }

  for (const type of EVENT_MODULE_TYPES) {
    const list = (Array.isArray(modules[type]) ? (modules[type] as unknown[]) : []).filter(isObject);
    for (const module of list) {
      const name = `${type} ${String(module.key)}`;
      const endpoint = module.endpoint;
      if (typeof endpoint !== 'string') add('warn', name, 'has no endpoint (a Forge function, not this backend, handles it)');
      else if (!served.has(endpoint)) add('fail', name, `its endpoint ${JSON.stringify(endpoint)} is not a remote endpoint of the manifest`);
      else if (served.get(endpoint)) add('pass', name, `delivered to endpoint ${endpoint}, which is served`);
      else add('fail', name, `delivered to endpoint ${endpoint}, which failed its check: Forge's deliveries would fail`);
    }
  }

  const migration = modules[MIGRATION_MODULE_TYPE];
  if (migration !== undefined && !Array.isArray(migration)) add('fail', MIGRATION_MODULE_TYPE, 'is not a list: Forge wants a list of one module');
  for (const module of (Array.isArray(migration) ? (migration as unknown[]) : []).filter(isObject)) {
    const name = `${MIGRATION_MODULE_TYPE} ${String(module.key)}`;
    const remote = remotes.find((candidate) => candidate.key === module.remote);
    if (remote === undefined || typeof remote.baseUrl !== 'string') add('fail', name, `its remote ${JSON.stringify(module.remote ?? null)} is not in remotes with a baseUrl`);
    else if (typeof module.path !== 'string' || !module.path.startsWith('/')) add('fail', name, 'path is missing or not an absolute path: the hooks are <baseUrl><path>/<hook>');
    else {
      const hooks = `${baseOf(remote.baseUrl)}${trim(module.path)}`;
      const start = await probeEndpoint(name, 'POST', `${hooks}/start`, options, MIGRATION_ROUTE_HINT);
      const status = start.status === 'pass' ? await probeEndpoint(name, 'GET', `${hooks}/status`, options, MIGRATION_ROUTE_HINT) : start;
      checks.push(status !== start && status.status === 'pass' ? { ...status, message: `${start.message}; ${status.message}` } : status);
    }
  }
  return checks;
}

/**
 * What the app's own handlers need from the manifest (`doctor --manifest --module`): `expected` is the
 * manifest the framework builds from the loaded app. Every event an `@OnForgeEvent()` handler (or the
 * framework itself) takes must be listed by a `trigger` module, every `@OnForgeScheduledTrigger(key)`
 * must have its `scheduledTrigger`, and the preUninstall and realm migration modules must be there when
 * the app has their handlers: otherwise Forge never calls them.
 */
export function handlerChecks(expected: ForgeManifest, manifest: unknown): DoctorCheck[] {
  const checks: DoctorCheck[] = [];
  const wanted = expected.modules ?? {};
  const modules = isObject(manifest) && isObject(manifest.modules) ? manifest.modules : {};
  const listed = (type: string) => (Array.isArray(modules[type]) ? (modules[type] as unknown[]) : []).filter(isObject);
  const triggers = listed('trigger');
  for (const event of new Set((wanted.trigger ?? []).flatMap((trigger) => trigger.events))) {
    const by = triggers.find((trigger) => Array.isArray(trigger.events) && trigger.events.includes(event));
    checks.push(
      by === undefined
        ? { status: 'fail', name: `handler ${event}`, message: 'the app handles this event, but no trigger module of the manifest lists it: Forge never sends it' }
        : { status: 'pass', name: `handler ${event}`, message: `listed by trigger ${String(by.key)}` },
    );
  }
  const scheduled = new Set(listed('scheduledTrigger').map((module) => module.key));
  for (const { key } of wanted.scheduledTrigger ?? []) {
    checks.push(
      scheduled.has(key)
        ? { status: 'pass', name: `handler scheduled ${key}`, message: `scheduledTrigger ${key} is in the manifest` }
        : {
            status: 'fail',
            name: `handler scheduled ${key}`,
            message: `the app has a handler for the scheduled trigger ${key}, but the manifest has no scheduledTrigger with that key`,
          },
    );
  }
  const single = [
    ['preUninstall', 'preUninstall', 'the framework marks the installation uninstalled on it (and the app may have @OnForgePreUninstall() handlers)'],
    [MIGRATION_MODULE_TYPE, 'realm migration', 'the app has @OnRealmMigration() start and status handlers'],
  ] as const;
  for (const [type, what, why] of single) {
    if ((wanted[type] ?? []).length === 0) continue;
    const present = Array.isArray(modules[type]) ? (modules[type] as unknown[]).length > 0 : isObject(modules[type]);
    checks.push(
      present
        ? { status: 'pass', name: `handler ${what}`, message: `${type} is in the manifest` }
        : { status: 'fail', name: `handler ${what}`, message: `${why}, but the manifest has no ${type} module` },
    );
  }
  return checks;
}

async function probeEndpoint(name: string, method: 'POST' | 'GET', url: string, options: DoctorOptions, hint: string): Promise<DoctorCheck> {
  let status: number;
  try {
    const response = await options.fetch(url, {
      method,
      redirect: 'manual',
      headers: method === 'POST' ? { 'content-type': 'application/json', accept: 'application/json' } : { accept: 'application/json' },
      ...(method === 'POST' && { body: '{}' }),
      signal: AbortSignal.timeout(options.timeoutMs),
    });
    status = response.status;
    await response.arrayBuffer().catch(() => undefined);
  } catch (error) {
    const reason = error instanceof Error && (error.name === 'TimeoutError' || error.name === 'AbortError') ? `no answer within ${options.timeoutMs} ms` : reasonOf(error);
    return { status: 'fail', name, message: `${method} ${url} got no answer: ${reason}` };
  }
  const said = `${method} ${url} without a Forge Invocation Token: HTTP ${status}`;
  if (status === 401) return { status: 'pass', name, message: said };
  if (status === 404 || status === 405) return { status: 'fail', name, message: `${said}: the route is not served (${hint})` };
  if (status >= 200 && status < 300) return { status: 'fail', name, message: `${said}: it accepted a call nobody signed` };
  if (status >= 300 && status < 400) return { status: 'fail', name, message: `${said}: Forge counts a redirect as an error` };
  return { status: 'fail', name, message: `${said}, expected 401` };
}

function isObject(value: unknown): value is Json {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

function trim(url: string): string {
  return url.replace(/\/+$/, '');
}
