import type { ForgeManifest } from '../forge/manifest/forge-manifest.js';
import { DESCRIPTOR_PATH, LIFECYCLE_PATHS, type LifecycleEventName } from '../config/resolved-connect-app.js';
import { CONNECT_DEFAULTS } from '../config/connect-defaults.js';
import { parseInstallKeysBaseUrl } from '../config/url-options.js';
import { isLoopbackHost } from '../util/loopback.js';
import { reasonOf } from '../util/error-reason.js';
import { handlerChecks, manifestChecks } from './doctor-manifest-checks.js';

/**
 * The checks behind `atlassian-connect-nest doctor`: a running app seen from outside, the way the
 * product sees it. The only I/O goes through the `fetch` passed in; the field checks are pure.
 */

export type DoctorStatus = 'pass' | 'warn' | 'fail';

export interface DoctorCheck {
  status: DoctorStatus;
  /** `descriptor`, `baseUrl`, `lifecycle installed`, … */
  name: string;
  message: string;
}

export interface DoctorTarget {
  /** Where the descriptor is fetched. */
  descriptorUrl: string;
  /** The baseUrl the descriptor must declare; undefined when the descriptor URL does not reveal it. */
  baseUrl: string | undefined;
}

export interface DoctorOptions {
  fetch: typeof fetch;
  /** Per request, against the app and an explicitly given install keys URL. */
  timeoutMs: number;
  /** Checked when given (unreachable: fail); otherwise Atlassian's host is tried (unreachable: warn). */
  installKeysUrl?: string;
  /** Timeout for Atlassian's default install keys host, default 3000. */
  defaultInstallKeysTimeoutMs?: number;
  /** Called with each check as soon as it is done (the result array holds them all as well). */
  onCheck?: (check: DoctorCheck) => void;
  /** A parsed `manifest.yml` to check against the app (`doctor --manifest`): see doctor-manifest-checks. */
  manifest?: unknown;
  /** The manifest the framework builds from the app's own module (`doctor --module`), to check the handlers against `manifest`. */
  expectedManifest?: ForgeManifest | undefined;
}

/** Ports Atlassian Cloud is known to call apps on. */
export const KNOWN_PORTS: readonly number[] = [80, 443, 8080];
/** The clientKey of the unsigned lifecycle probes, so that an app that wrongly accepts one can find and delete it. */
export const PROBE_CLIENT_KEY = 'atlassian-connect-nest-doctor-probe';
const LIFECYCLE_EVENTS = Object.keys(LIFECYCLE_PATHS) as LifecycleEventName[];

/**
 * `https://app.example.com/jira` (a baseUrl: the descriptor is at `<baseUrl>/atlassian-connect.json`) or
 * a descriptor URL (any http(s) URL whose path ends in `.json`). Throws an Error for anything else.
 */
export function parseDoctorTarget(input: string): DoctorTarget {
  let url: URL;
  try {
    url = new URL(input);
  } catch {
    throw new Error(`${JSON.stringify(input)} is not an absolute URL.`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new Error(`${JSON.stringify(input)} is not an http(s) URL.`);
  if (url.username !== '' || url.password !== '') throw new Error('the URL must not carry credentials.');
  url.hash = '';
  if (url.pathname.endsWith('.json')) {
    const baseUrl = url.pathname.endsWith(DESCRIPTOR_PATH) && url.search === '' ? trimSlashes(url.origin + url.pathname.slice(0, -DESCRIPTOR_PATH.length)) : undefined;
    return { descriptorUrl: url.href, baseUrl };
  }
  if (url.search !== '') throw new Error('a baseUrl has no query string.');
  const baseUrl = trimSlashes(url.href);
  return { descriptorUrl: baseUrl + DESCRIPTOR_PATH, baseUrl };
}

/** Runs every check, in a fixed order; never throws for what the app answers. */
export async function runDoctorChecks(target: DoctorTarget, options: DoctorOptions): Promise<DoctorCheck[]> {
  const checks: DoctorCheck[] = [];
  const report = (check: DoctorCheck) => {
    checks.push(check);
    options.onCheck?.(check);
  };

  const fetched = await fetchDescriptor(target.descriptorUrl, options);
  report(fetched.check);
  if (fetched.descriptor !== undefined) {
    const fields = descriptorChecks(fetched.descriptor, target.baseUrl);
    fields.forEach(report);
    const declaredBase = validBaseUrl(fetched.descriptor.baseUrl);
    // Probe where the app really is (the address given), which is the declared one unless that check failed.
    const probeBase = target.baseUrl ?? declaredBase;
    for (const event of LIFECYCLE_EVENTS) {
      report(await lifecycleCheck(event, fetched.descriptor, probeBase, options));
    }
    if (options.manifest !== undefined) (await manifestChecks(options.manifest, fetched.descriptor, probeBase, options)).forEach(report);
    if (options.manifest !== undefined && options.expectedManifest !== undefined) handlerChecks(options.expectedManifest, options.manifest).forEach(report);
  } else if (options.manifest !== undefined) {
    report({ status: 'fail', name: 'manifest', message: 'not checked: the manifest is compared with the served descriptor' });
  }
  report(await installKeysCheck(options));
  return checks;
}

async function fetchDescriptor(url: string, options: DoctorOptions): Promise<{ check: DoctorCheck; descriptor?: Record<string, unknown> }> {
  const fail = (message: string) => ({ check: { status: 'fail' as const, name: 'descriptor', message: `${message} (the other app checks need it)` } });
  let response: Response;
  try {
    response = await options.fetch(url, { headers: { accept: 'application/json' }, signal: AbortSignal.timeout(options.timeoutMs) });
  } catch (error) {
    return fail(`${url} could not be fetched: ${whyNoAnswer(error, options.timeoutMs)}`);
  }
  let text: string;
  try {
    text = await response.text();
  } catch (error) {
    return fail(`${url} broke off: ${whyNoAnswer(error, options.timeoutMs)}`);
  }
  if (response.status !== 200) return fail(`${url} answered HTTP ${response.status}, not 200`);
  let descriptor: unknown;
  try {
    descriptor = JSON.parse(text);
  } catch {
    return fail(`${url} is not valid JSON`);
  }
  if (descriptor === null || typeof descriptor !== 'object' || Array.isArray(descriptor)) return fail(`${url} is JSON but not an object`);
  const redirected = response.redirected ? ` (redirected to ${response.url})` : '';
  return { check: { status: 'pass', name: 'descriptor', message: `${url} answers 200 with valid JSON${redirected}` }, descriptor: descriptor as Record<string, unknown> };
}

/** The checks on the descriptor's own fields (pure). */
export function descriptorChecks(descriptor: Record<string, unknown>, expectedBaseUrl: string | undefined): DoctorCheck[] {
  const checks: DoctorCheck[] = [];
  const add = (status: DoctorStatus, name: string, message: string) => checks.push({ status, name, message });

  const key = descriptor.key;
  if (typeof key !== 'string' || key === '') add('fail', 'key', 'the descriptor has no key');
  else if (key.length > 64) add('fail', 'key', `${JSON.stringify(key)} is longer than 64 characters`);
  else add('pass', 'key', key);

  const declared = validBaseUrl(descriptor.baseUrl);
  if (declared === undefined) {
    add('fail', 'baseUrl', `${JSON.stringify(descriptor.baseUrl ?? null)} is not an absolute http(s) URL`);
  } else {
    if (expectedBaseUrl === undefined) add('warn', 'baseUrl', `${declared} (not compared: the descriptor URL does not end in ${DESCRIPTOR_PATH})`);
    else if (normalize(declared) === normalize(expectedBaseUrl)) add('pass', 'baseUrl', `${declared} is where the descriptor is served`);
    else add('fail', 'baseUrl', `the descriptor declares ${declared}, but is served at ${expectedBaseUrl}: the product calls the declared one`);

    const url = new URL(declared);
    if (url.protocol === 'https:') add('pass', 'https', 'the baseUrl uses https');
    else if (isLoopback(url.hostname)) add('pass', 'https', 'http on a loopback address: fine for local development, Atlassian Cloud needs https');
    else add('warn', 'https', `${url.origin} uses plain http: Atlassian Cloud needs an https baseUrl (TLS 1.2+)`);

    const port = url.port === '' ? (url.protocol === 'https:' ? 443 : 80) : Number(url.port);
    if (KNOWN_PORTS.includes(port)) add('pass', 'port', `${port}`);
    else add('warn', 'port', `${port}: Atlassian Cloud may only call apps on ports ${KNOWN_PORTS.join(', ')}; serve the public baseUrl on one of them`);
  }

  const authentication = descriptor.authentication as { type?: unknown } | undefined;
  const type = typeof authentication?.type === 'string' ? authentication.type : undefined;
  if (type?.toLowerCase() === 'jwt') add('pass', 'authentication', 'jwt');
  else add('fail', 'authentication', `${type === undefined ? 'not declared' : JSON.stringify(type)}: must be {"type": "jwt"}, or the product signs no requests`);

  const migrations = (descriptor.apiMigrations ?? {}) as Record<string, unknown>;
  if (migrations['signed-install'] === true) add('pass', 'signed-install', 'on: installs are signed by Atlassian (RS256)');
  else add('fail', 'signed-install', 'apiMigrations["signed-install"] is not true: install callbacks are not signed by Atlassian, so they cannot be told from forged ones');
  if (migrations['context-qsh'] === true) add('pass', 'context-qsh', 'on: front-end context tokens carry qsh "context-qsh"');
  else add('fail', 'context-qsh', 'apiMigrations["context-qsh"] is not true: front-end context tokens cannot be told from request-bound ones');
  return checks;
}

async function lifecycleCheck(event: LifecycleEventName, descriptor: Record<string, unknown>, base: string | undefined, options: DoctorOptions): Promise<DoctorCheck> {
  const name = `lifecycle ${event}`;
  const lifecycle = descriptor.lifecycle as Record<string, unknown> | undefined;
  const declared = lifecycle?.[event];
  if (declared === undefined) {
    if (event === 'installed') return { status: 'fail', name, message: 'not declared: the app never receives the shared secret' };
    return { status: 'warn', name, message: `not declared: the app is not told when it is ${event}` };
  }
  if (typeof declared !== 'string' || declared === '') return { status: 'fail', name, message: `${JSON.stringify(declared)} is not a URL` };
  const url = lifecycleUrl(declared, base);
  if (url === undefined) return { status: 'fail', name, message: `${declared} cannot be resolved: the baseUrl is not usable` };
  let response: Response;
  try {
    response = await options.fetch(url, {
      method: 'POST',
      redirect: 'manual',
      headers: { 'content-type': 'application/json', accept: 'application/json' },
      body: JSON.stringify({
        key: descriptor.key,
        clientKey: PROBE_CLIENT_KEY,
        baseUrl: 'https://doctor-probe.invalid',
        description: 'atlassian-connect-nest doctor probe: unsigned, must be refused',
        eventType: event,
      }),
      signal: AbortSignal.timeout(options.timeoutMs),
    });
    await response.arrayBuffer().catch(() => undefined);
  } catch (error) {
    return { status: 'fail', name, message: `POST ${url} got no answer: ${whyNoAnswer(error, options.timeoutMs)}` };
  }
  return classifyLifecycleStatus(name, url, response.status, response.headers.get('location'));
}

/** How a lifecycle route answered an unsigned POST: 401 is right, anything else is explained (pure). */
export function classifyLifecycleStatus(name: string, url: string, status: number, location?: string | null): DoctorCheck {
  const said = `POST ${url} without a token: HTTP ${status}`;
  if (status === 401) return { status: 'pass', name, message: said };
  if (status >= 200 && status < 300) return { status: 'fail', name, message: `${said}: it accepted a lifecycle call nobody signed (anyone could send it)` };
  if (status >= 300 && status < 400) return { status: 'fail', name, message: `${said}: redirects${location ? ` to ${location}` : ''}; the product posts to the declared URL only` };
  if (status === 400 || status === 403) return { status: 'warn', name, message: `${said}, expected 401: the route answers, but does it check the token first?` };
  if (status === 404 || status === 405) return { status: 'fail', name, message: `${said}: the route does not exist` };
  if (status >= 500) return { status: 'fail', name, message: `${said}: the app fails, a real ${name.replace('lifecycle ', '')} callback would fail too` };
  return { status: 'fail', name, message: `${said}, expected 401` };
}

async function installKeysCheck(options: DoctorOptions): Promise<DoctorCheck> {
  const name = 'install keys';
  const explicit = options.installKeysUrl !== undefined;
  const base = parseInstallKeysBaseUrl(options.installKeysUrl ?? CONNECT_DEFAULTS.installKeysUrl).href;
  const timeoutMs = explicit ? options.timeoutMs : (options.defaultInstallKeysTimeoutMs ?? 3000);
  try {
    const response = await options.fetch(base, { redirect: 'manual', signal: AbortSignal.timeout(timeoutMs) });
    await response.arrayBuffer().catch(() => undefined);
    return { status: 'pass', name, message: `${base} answers (HTTP ${response.status})` };
  } catch (error) {
    const reason = whyNoAnswer(error, timeoutMs);
    if (explicit) return { status: 'fail', name, message: `${base} cannot be reached: ${reason}; signed installs would fail` };
    return { status: 'warn', name, message: `${base} cannot be reached from here: ${reason} (the app's host must reach it; pass --install-keys-url for another one)` };
  }
}

function lifecycleUrl(declared: string, base: string | undefined): string | undefined {
  if (/^https?:\/\//i.test(declared)) return declared;
  if (base === undefined) return undefined;
  return trimSlashes(base) + (declared.startsWith('/') ? declared : `/${declared}`);
}

function validBaseUrl(value: unknown): string | undefined {
  if (typeof value !== 'string') return undefined;
  try {
    const url = new URL(value);
    return url.protocol === 'http:' || url.protocol === 'https:' ? trimSlashes(value) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Loopback host names as the doctor grades them: the framework's loopback hosts and also `*.localhost`
 * names (which resolve to this machine on most systems). Only for grading: nothing is trusted on it.
 */
export function isLoopback(hostname: string): boolean {
  const host = hostname.toLowerCase();
  return isLoopbackHost(host) || host.endsWith('.localhost');
}

function normalize(url: string): string {
  return trimSlashes(new URL(url).href);
}

function trimSlashes(url: string): string {
  return url.replace(/\/+$/, '');
}

/** Why a probe got no answer: its own timeout, else the network's reason. */
function whyNoAnswer(error: unknown, timeoutMs: number): string {
  if (error instanceof Error && (error.name === 'TimeoutError' || error.name === 'AbortError')) return `no answer within ${timeoutMs} ms`;
  return reasonOf(error);
}
