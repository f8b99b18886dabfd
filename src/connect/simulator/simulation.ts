import type { IncomingMessage, ServerResponse } from 'node:http';
import { canonicalRequest, queryStringHash } from '../auth/jwt/canonical-request.js';
import type { ConnectProduct } from '../config/connect-product.js';
import type { LifecycleEventName } from '../config/resolved-connect-app.js';
import { FakeConnectHost, type FakeApiSite, type FakeHostApp, type FakeSite, type LifecycleCallOptions } from '../testing/fake-connect-host.js';
import { sendJson } from '../testing/fake-http.js';
import type { FakeApiRefusal, FakeApiRequest } from '../testing/fake-product-api.js';
import { httpCall, type HttpCallResponse } from '../testing/http-call.js';
import { signConnectToken } from '../testing/sign-connect-token.js';
import { checkDescriptor, isObject, type DescriptorCheckResult, type DescriptorProblem } from './descriptor-checks.js';
import { contextParameters, discoverModules, SAMPLE_ACCOUNT_ID, sampleWebhookBody, withQuery, type SimulatedModule } from './modules.js';
import type { StepResult } from './table.js';
import { reasonOf } from '../util/error-reason.js';

/** The points budget of the simulated site, per app (a real Jira tenant's quota is far larger, per hour). */
export const SIMULATED_RATE_LIMIT = { points: 1000, windowMs: 60_000 } as const;

/** Path of the token endpoint on the product API server (`--keep`). */
export const SIMULATOR_TOKEN_PATH = '/_simulator/token';

export interface SimulationOptions {
  /** Where the app serves its descriptor. */
  descriptorUrl: string;
  /** The product to act as; default: guessed from the descriptor. */
  product?: ConnectProduct;
  /** Port of the install-key server (what the app's CONNECT_INSTALL_KEYS_URL points at). Default: a free one. */
  keysPort?: number;
  /** Port of the site's product REST API. Default: a free one. */
  port?: number;
  /** Re-install with a new shared secret and check that only the new one is accepted. */
  rotate?: boolean;
  /** Send `disabled` and `uninstalled`, then check that a page load is refused. */
  uninstall?: boolean;
  /** App URLs (relative to the baseUrl) to call with a context token (`qsh: "context-qsh"`), as the app's front end would. */
  contextUrls?: readonly string[];
  /** The `sub` of page and context tokens. Default {@link SAMPLE_ACCOUNT_ID}. */
  accountId?: string;
}

export interface SimulationReport {
  ok: boolean;
  rows: StepResult[];
  /** What to change, when a failure has a known cause. */
  hints: string[];
  check?: DescriptorCheckResult;
}

/** How a step's outcome is judged. */
interface Expectation {
  /** Accepted statuses; default any 2xx. */
  statuses?: readonly number[];
  describe?: string;
}

/**
 * One simulated Jira or Confluence Cloud site acting on one app: descriptor checks, signed install,
 * enable, page loads, webhooks, context calls, and optionally secret rotation and uninstall. `start()`
 * brings up the install-key server (so the app can be pointed at it first), `run()` does the steps.
 */
export class Simulation {
  readonly rows: StepResult[] = [];
  readonly hints: string[] = [];
  app: FakeHostApp | undefined;
  site: FakeApiSite | undefined;
  modules: SimulatedModule[] = [];
  check: DescriptorCheckResult | undefined;
  private descriptor: Record<string, unknown> = {};
  private uninstalled = false;

  private constructor(
    readonly host: FakeConnectHost,
    readonly options: SimulationOptions,
  ) {}

  static async start(options: SimulationOptions): Promise<Simulation> {
    const host = await FakeConnectHost.start({ keysPort: options.keysPort ?? 0 });
    return new Simulation(host, options);
  }

  get installKeysUrl(): string {
    return this.host.installKeysUrl;
  }

  private get accountId(): string {
    return this.options.accountId ?? SAMPLE_ACCOUNT_ID;
  }

  /** Runs every step; `say` receives progress lines (descriptor problems, the site's URLs). */
  async run(say: (line: string) => void): Promise<SimulationReport> {
    const descriptor = await this.fetchDescriptor();
    if (descriptor === undefined) return this.report();
    const check = checkDescriptor(descriptor, { product: this.options.product });
    this.check = check;
    this.descriptor = descriptor;
    const errors = check.problems.filter((p) => p.severity === 'error');
    const warnings = check.problems.filter((p) => p.severity === 'warning');
    const from = check.productSource === 'option' ? '--product' : check.productSource === 'descriptor' ? `guessed from ${check.productHints.join(', ')}` : 'fallback';
    say(`Descriptor of ${String(descriptor.key ?? '(no key)')}: ${check.product === 'jira' ? 'Jira' : 'Confluence'} app (${from}).`);
    for (const problem of check.problems) say(formatProblem(problem));
    this.rows[0]!.ok = errors.length === 0;
    if (errors.length > 0 || warnings.length > 0) {
      const counts = [errors.length > 0 ? plural(errors.length, 'error') : '', warnings.length > 0 ? plural(warnings.length, 'warning') : ''];
      this.rows[0]!.problem = `${counts.filter(Boolean).join(', ')}, listed above`;
    }
    if (check.fatal) {
      this.hints.push('Fix the descriptor errors above: without them the product cannot even attempt an install.');
      return this.report();
    }

    const key = descriptor.key as string;
    const baseUrl = (descriptor.baseUrl as string).replace(/\/+$/, '');
    const scopes = Array.isArray(descriptor.scopes) ? descriptor.scopes.filter((s): s is string => typeof s === 'string').map((s) => s.toUpperCase()) : undefined;
    this.app = { key, product: check.product, baseUrl, ...(scopes !== undefined && { scopes }) };
    this.modules = discoverModules(descriptor, check.product);
    this.site = await this.host.startSite(check.product, {
      port: this.options.port ?? 0,
      // The 2026 points budget, so the app's client sees the headers it paces by (SIMULATED_RATE_LIMIT).
      rateLimit: SIMULATED_RATE_LIMIT,
      onRequest: (request, refusal) => say(describeApiRequest(request, refusal)),
    });
    this.site.api.route('GET', SIMULATOR_TOKEN_PATH, (req, res, url) => this.serveToken(req, res, url));
    say(`Simulated ${check.product === 'jira' ? 'Jira' : 'Confluence'} site: ${this.site.baseUrl} (clientKey ${this.site.clientKey}); install keys: ${this.installKeysUrl}.`);
    say(
      `Rate limits: the site meters each app with ${SIMULATED_RATE_LIMIT.points} points per ${SIMULATED_RATE_LIMIT.windowMs / 1000} s (Beta-RateLimit headers, 429 with Retry-After once spent); each API line shows the points left.`,
    );

    if (!(await this.lifecycle('installed', 'installed (signed install, RS256)'))) return this.report();
    await this.lifecycle('enabled', 'enabled (HS256)');
    await this.contextTokenOnLifecycle();
    for (const module of this.modules) await this.callModule(module);
    for (const url of this.options.contextUrls ?? []) await this.callContextUrl(url);
    if (this.options.rotate) await this.rotate();
    if (this.options.uninstall) await this.uninstall();
    return this.report();
  }

  /** Ready-to-run curl commands with fresh tokens (valid for an hour), one per module. */
  async curlLines(): Promise<string[]> {
    const app = this.app;
    const site = this.site;
    if (app === undefined || site === undefined) return [];
    const origin = new URL(app.baseUrl).origin;
    const lines: string[] = [];
    for (const module of this.modules) {
      if (module.kind === 'page') {
        const path = this.pagePath(module);
        const token = await this.sign(site, 'GET', path, { expiresIn: 3600 });
        lines.push(`# ${module.type}/${module.key}`, `curl -i '${origin}${path}&jwt=${token}'`);
      } else {
        const token = await this.sign(site, 'POST', module.path, { expiresIn: 3600 });
        const body = JSON.stringify(sampleWebhookBody(module.event!, app.product, site.baseUrl)).replaceAll("'", "'\\''");
        lines.push(`# webhook ${module.event}`, `curl -i -X POST -H 'Authorization: JWT ${token}' -H 'Content-Type: application/json' --data '${body}' '${origin}${module.path}'`);
      }
    }
    for (const url of this.options.contextUrls ?? []) {
      const path = this.appPath(url);
      const token = await this.sign(site, 'GET', path, { expiresIn: 3600, qsh: 'context' });
      lines.push(`# context token for ${url}`, `curl -i -H 'Authorization: JWT ${token}' '${origin}${path}'`);
    }
    return lines;
  }

  /** The URL of the token endpoint served while `--keep` runs. */
  get tokenEndpoint(): string | undefined {
    return this.site ? `${this.site.api.origin}${SIMULATOR_TOKEN_PATH}` : undefined;
  }

  async close(): Promise<void> {
    await this.host.close();
  }

  private report(): SimulationReport {
    return { ok: this.rows.length > 0 && this.rows.every((r) => r.ok), rows: this.rows, hints: this.hints, ...(this.check && { check: this.check }) };
  }

  private async fetchDescriptor(): Promise<Record<string, unknown> | undefined> {
    const url = this.options.descriptorUrl;
    const row: StepResult = { step: 'descriptor (GET)', ok: false };
    this.rows.push(row);
    const started = performance.now();
    let response: HttpCallResponse;
    try {
      response = await httpCall({ method: 'GET', url, headers: { accept: 'application/json' } });
    } catch (error) {
      row.ms = performance.now() - started;
      row.problem = `could not fetch ${url}: ${reasonOf(error)}; is the app running?`;
      return undefined;
    }
    row.ms = performance.now() - started;
    row.status = response.status;
    if (response.status !== 200) {
      row.problem = `GET ${url} answered ${response.status}, expected 200 with the descriptor`;
      return undefined;
    }
    let body: unknown = response.body;
    if (typeof body === 'string') {
      try {
        body = JSON.parse(body);
      } catch {
        row.problem = `${url} is not JSON (content-type ${String(response.headers['content-type'] ?? 'none')})`;
        return undefined;
      }
    }
    if (!isObject(body)) {
      row.problem = `${url} is JSON but not an object`;
      return undefined;
    }
    row.ok = true;
    return body;
  }

  /** The lifecycle URL the descriptor declares for an event (relative), or undefined. */
  private lifecyclePath(event: LifecycleEventName): string | undefined {
    const lifecycle = isObject(this.descriptor.lifecycle) ? this.descriptor.lifecycle : {};
    const url = lifecycle[event];
    return typeof url === 'string' && url.startsWith('/') && !url.startsWith('//') ? url : undefined;
  }

  /** Sends a lifecycle callback as the product; returns whether it passed. */
  private async lifecycle(
    event: LifecycleEventName,
    step: string,
    site: FakeSite = this.site!,
    expectation: Expectation = {},
    options: LifecycleCallOptions = {},
  ): Promise<boolean> {
    const path = this.lifecyclePath(event);
    if (path === undefined) {
      this.rows.push({ step, ok: event !== 'installed', problem: `skipped: the descriptor declares no usable ${event} URL` });
      return event !== 'installed';
    }
    const signing = event === 'enabled' || event === 'disabled' ? 'HS256' : 'RS256';
    const { response, ms, error } = await timed(() => this.host.lifecycle(event, this.app!, site, { path, signing, ...options }));
    return this.judge(step, `POST ${this.appPath(path)}`, response, ms, error, expectation, event === 'installed' ? (r) => this.installHints(r) : undefined);
  }

  /** CVE-2021-26074: a context token must never pass on a lifecycle route. */
  private async contextTokenOnLifecycle(): Promise<void> {
    if (this.lifecyclePath('enabled') === undefined) return;
    await this.lifecycle(
      'enabled',
      'enabled with a context token (must fail)',
      this.site!,
      { statuses: [401, 403], describe: 'a refusal (401)' },
      { claims: { qsh: 'context-qsh' } },
    );
    const last = this.rows.at(-1)!;
    if (!last.ok && last.status !== undefined && last.status < 300) {
      last.problem = `the app accepted a context token (qsh "context-qsh") on its enabled callback; lifecycle routes must require a request-bound qsh (CVE-2021-26074)`;
    }
  }

  private pagePath(module: SimulatedModule): string {
    const licensing = this.descriptor.enableLicensing === true;
    return withQuery(module.path, contextParameters(this.site!, this.app!.key, module.key, licensing));
  }

  /** Calls one module as the product does, with the given site's secret; returns whether the status was as expected. */
  private async callModule(module: SimulatedModule, site: FakeSite = this.site!, step?: string, expectation: Expectation = {}): Promise<boolean> {
    const name = step ?? (module.kind === 'page' ? `page ${module.type}/${module.key}` : `webhook ${module.event}`);
    const unknown = module.unknownVariables.length > 0 ? `sent ${module.unknownVariables.map((v) => `{${v}}`).join(', ')} empty (no sample value)` : undefined;
    if (module.kind === 'page') {
      const path = this.pagePath(module);
      const token = await this.sign(site, 'GET', path);
      const { response, ms, error } = await timed(() => this.host.send(this.app!, 'GET', `${path}&jwt=${token}`));
      const passed = this.judge(name, `GET ${module.path}`, response, ms, error, { statuses: [200], ...expectation });
      const row = this.rows.at(-1)!;
      if (passed && expectation.statuses === undefined) {
        const frameOptions = String(response?.headers['x-frame-options'] ?? '').toUpperCase();
        const notes = [
          unknown,
          frameOptions === 'DENY' || frameOptions === 'SAMEORIGIN' ? `X-Frame-Options: ${frameOptions} stops the product from framing the page` : undefined,
        ].filter(Boolean);
        if (notes.length > 0) row.problem = `warning: ${notes.join('; ')}`;
      }
      return passed;
    }
    const body = sampleWebhookBody(module.event!, this.app!.product, site.baseUrl);
    const token = await this.sign(site, 'POST', module.path);
    const { response, ms, error } = await timed(() => this.host.send(this.app!, 'POST', module.path, { headers: { authorization: `JWT ${token}` }, body }));
    const passed = this.judge(name, `POST ${module.path}`, response, ms, error, expectation);
    if (passed && unknown && expectation.statuses === undefined) this.rows.at(-1)!.problem = `warning: ${unknown}`;
    return passed;
  }

  private async callContextUrl(url: string, site: FakeSite = this.site!, step?: string, expectation: Expectation = {}): Promise<boolean> {
    const path = this.appPath(url);
    const token = await this.sign(site, 'GET', path, { qsh: 'context' });
    const { response, ms, error } = await timed(() => this.host.send(this.app!, 'GET', path, { headers: { authorization: `JWT ${token}` } }));
    return this.judge(step ?? `context token GET ${url}`, `GET ${path}`, response, ms, error, { statuses: [200], ...expectation });
  }

  /** A module to check secrets and uninstalls against: the first page, else webhook, else context URL. */
  private async probe(site: FakeSite, step: string, expectation: Expectation): Promise<void> {
    const module = this.modules.find((m) => m.kind === 'page') ?? this.modules[0];
    if (module) {
      await this.callModule(module, site, `${step}: ${module.kind === 'page' ? module.key : `webhook ${module.event}`}`, expectation);
      return;
    }
    const contextUrl = this.options.contextUrls?.[0];
    if (contextUrl !== undefined) {
      await this.callContextUrl(contextUrl, site, `${step}: ${contextUrl}`, expectation);
      return;
    }
    this.rows.push({ step, ok: false, problem: 'no page module, webhook or --context-url to check against' });
  }

  private async rotate(): Promise<void> {
    const old = this.site!;
    const rotated = this.host.rotateSecret(old) as FakeApiSite;
    if (!(await this.lifecycle('installed', 'installed again (rotated secret)', rotated))) return;
    this.site = rotated;
    await this.probe(old, 'old secret refused', { statuses: [401], describe: 'a refusal (401) of the old secret' });
    await this.probe(rotated, 'new secret accepted', {});
  }

  private async uninstall(): Promise<void> {
    await this.lifecycle('disabled', 'disabled (HS256)');
    if (this.lifecyclePath('uninstalled') === undefined) {
      this.rows.push({ step: 'uninstalled (signed, RS256)', ok: false, problem: 'the descriptor declares no uninstalled URL, so the app is never told it was uninstalled' });
      return;
    }
    if (!(await this.lifecycle('uninstalled', 'uninstalled (signed, RS256)'))) return;
    this.uninstalled = true;
    await this.probe(this.site!, 'refused after uninstall', { statuses: [401], describe: 'a refusal (401) after the uninstall' });
  }

  /** Records a row for a response: ok when the status is expected; otherwise a precise problem. */
  private judge(
    step: string,
    request: string,
    response: HttpCallResponse | undefined,
    ms: number,
    error: unknown,
    expectation: Expectation,
    hints?: (response: HttpCallResponse) => void,
  ): boolean {
    const row: StepResult = { step, ms, ok: false };
    this.rows.push(row);
    if (response === undefined) {
      row.problem = `${request}: ${reasonOf(error)} (is the app running, and is its baseUrl ${this.app!.baseUrl} reachable from here?)`;
      return false;
    }
    row.status = response.status;
    const statuses = expectation.statuses;
    row.ok = statuses === undefined ? response.status >= 200 && response.status < 300 : statuses.includes(response.status);
    if (row.ok) return true;
    const wanted = expectation.describe ?? (statuses ? statuses.join(' or ') : '2xx');
    row.problem = `${request} answered ${response.status}${explainStatus(response)}; expected ${wanted}`;
    hints?.(response);
    return false;
  }

  private installHints(response: HttpCallResponse): void {
    const { type, message } = errorBody(response);
    const keysVar = `CONNECT_INSTALL_KEYS_URL=${this.installKeysUrl}`;
    if (type === 'jwt/key-unavailable' || type === 'jwt/invalid-kid' || (type === undefined && response.status === 503)) {
      const local = /https?:\/\/(?:127\.0\.0\.1|localhost|\[::1\]):(\d+)/.exec(message ?? '');
      const alternative = local ? `, or run simulate with --keys-port ${local[1]}, the port the app fetches from` : '';
      this.hints.push(
        `The app could not get this simulator's install key (kid ${this.host.kid}): it fetches install keys from another host. Start the app with ${keysVar}${alternative}.`,
      );
    } else if (type === 'jwt/invalid-aud') {
      this.hints.push(
        `The app refused aud ${this.app!.baseUrl}: the descriptor's baseUrl must be exactly the baseUrl the app is configured with (check APP_BASE_URL or the app's baseUrl option).`,
      );
    } else if (type === 'lifecycle/invalid-payload') {
      this.hints.push(
        `The app refused the install payload${message ? ` (${message})` : ''}: the descriptor at ${this.options.descriptorUrl} does not match the app's configuration (key ${this.app!.key}, ${this.app!.product}).`,
      );
    } else if (type === 'lifecycle/host-not-allowed') {
      this.hints.push(
        `The app refused this simulator's site ${this.site?.baseUrl ?? ''} (a loopback http server): add LOOPBACK_HOST_PATTERNS to the app's allowedHostPatterns outside production.`,
      );
    } else if (type === 'jwt/unsupported-alg') {
      this.hints.push('The app does not accept RS256 signed installs; set apiMigrations["signed-install"] to true and verify installs with the key from the install-keys host.');
    }
  }

  private async sign(site: FakeSite, method: string, path: string, extra: { expiresIn?: number; qsh?: 'context' } = {}): Promise<string> {
    return signConnectToken({ clientKey: site.clientKey, sharedSecret: site.sharedSecret, method, url: path, appBaseUrl: this.app!.baseUrl, accountId: this.accountId, ...extra });
  }

  /** A URL relative to the app's baseUrl, as a path below the app's origin. */
  private appPath(url: string): string {
    const basePath = new URL(this.app!.baseUrl).pathname.replace(/\/+$/, '');
    return basePath + (url.startsWith('/') ? url : `/${url}`);
  }

  /**
   * `GET /_simulator/token?method=GET&url=/jira/pages/hello[&qsh=context][&sub=<accountId>][&format=json]`:
   * a token for the current site. `url` is a path below the app's origin (or an absolute URL).
   */
  private async serveToken(_req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
    const site = this.site;
    const app = this.app;
    if (site === undefined || app === undefined) return sendJson(res, 503, { message: 'The simulated site is not installed.' });
    const target = url.searchParams.get('url');
    if (!target) return sendJson(res, 400, { message: 'Give the request the token is for: ?method=GET&url=/path/below/the/app/origin?with=query' });
    const method = (url.searchParams.get('method') ?? 'GET').toUpperCase();
    const context = url.searchParams.get('qsh') === 'context';
    const expiresIn = Number(url.searchParams.get('expiresIn') ?? 180);
    const token = await signConnectToken({
      clientKey: site.clientKey,
      sharedSecret: site.sharedSecret,
      method,
      url: target,
      appBaseUrl: app.baseUrl,
      accountId: url.searchParams.get('sub') ?? this.accountId,
      expiresIn: Number.isFinite(expiresIn) && expiresIn > 0 ? Math.min(expiresIn, 86_400) : 180,
      ...(context && { qsh: 'context' as const }),
    });
    if (url.searchParams.get('format') === 'json') {
      return sendJson(res, 200, {
        token,
        authorization: `JWT ${token}`,
        qsh: context ? 'context-qsh' : queryStringHash(method, target, app.baseUrl),
        canonicalRequest: context ? null : canonicalRequest(method, target, app.baseUrl),
        clientKey: site.clientKey,
        uninstalled: this.uninstalled,
      });
    }
    res.statusCode = 200;
    res.setHeader('content-type', 'text/plain; charset=utf-8');
    res.setHeader('cache-control', 'no-store');
    res.end(`${token}\n`);
  }
}

/** One line per call the app made to the simulated site's REST API. */
export function describeApiRequest(request: FakeApiRequest, refusal?: FakeApiRefusal): string {
  const target = `${request.method} ${request.path}${request.query ? `?${request.query}` : ''}`;
  const who = request.actingAs ? ` as ${request.actingAs} (${request.auth === 'bearer' ? 'Bearer token' : 'app JWT'})` : '';
  const why = refusal ? `: ${refusal.reason}: ${refusal.message}` : request.injected ? ' (injected)' : '';
  const budget =
    request.rateLimitRemaining === undefined
      ? ''
      : request.status === 429
        ? ' [rate limit: budget spent, answered 429]'
        : ` [rate limit: ${request.rateLimitRemaining} points left]`;
  return `site API: ${target} -> ${request.status}${who}${why}${budget}`;
}

export function formatProblem(problem: DescriptorProblem): string {
  return `  ${problem.severity === 'error' ? 'error  ' : 'warning'} ${problem.field}: ${problem.message}`;
}

/** ` (type: message)` from the app's error body, or a snippet of its text. */
function explainStatus(response: HttpCallResponse): string {
  const { type, message } = errorBody(response);
  if (type !== undefined && message !== undefined) return ` (${type}: ${message})`;
  if (message !== undefined) return ` (${message})`;
  if (response.status === 404) return ' (no route for this URL)';
  if (response.status >= 300 && response.status < 400) return ` (redirect to ${String(response.headers.location ?? '?')}; the product expects the page itself)`;
  if (response.status >= 500) return ' (the app failed; see its log)';
  return '';
}

function errorBody(response: HttpCallResponse): { type?: string; message?: string } {
  const body = response.body;
  if (!isObject(body)) return {};
  const type = typeof body.type === 'string' ? body.type : typeof body.code === 'string' ? body.code : undefined;
  let message = typeof body.message === 'string' ? body.message : typeof body.error === 'string' ? body.error : undefined;
  if (message !== undefined) message = message.replace(/\s+/g, ' ').slice(0, 300);
  return { ...(type !== undefined && { type }), ...(message !== undefined && { message }) };
}

async function timed(call: () => Promise<HttpCallResponse>): Promise<{ response?: HttpCallResponse; ms: number; error?: unknown }> {
  const started = performance.now();
  try {
    const response = await call();
    return { response, ms: performance.now() - started };
  } catch (error) {
    return { ms: performance.now() - started, error };
  }
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}
