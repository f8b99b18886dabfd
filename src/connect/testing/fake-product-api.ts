import { createSecretKey } from 'node:crypto';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { decodeJwt, decodeProtectedHeader, errors as joseErrors, jwtVerify, type JWTPayload } from 'jose';
import { canonicalRequest, queryStringHash } from '../auth/jwt/canonical-request.js';
import { CONTEXT_QSH } from '../auth/jwt/connect-jwt-claims.js';
import type { ConnectProduct } from '../config/connect-product.js';
import { FakeAuthorizationServer, retryAfterValue } from './fake-authorization-server.js';
import { FakeForgeApi, isForgeRefusal } from './fake-forge-api.js';
import { FakeRateLimitBudget, type FakeRateLimitOptions } from './fake-rate-limit-budget.js';
import { BodyTooLargeError, closeServer, nowSeconds, readBody, redactedHeaders, sendJson, splitTarget, startLoopbackServer } from './fake-http.js';

/** A Jira project served by `GET /rest/api/3/project/search`. */
export interface FakeProject {
  id: string;
  key: string;
  name: string;
  /** Default `software`. */
  projectTypeKey?: string;
}

/** A Confluence space served by `GET /wiki/rest/api/space`. */
export interface FakeSpace {
  id: number;
  key: string;
  name: string;
  /** Default `global`. */
  type?: 'global' | 'personal';
}

/** A Confluence page or blog post served by `GET /wiki/rest/api/content/{id}`. */
export interface FakeContent {
  id: string;
  title: string;
  spaceKey: string;
  /** Default `page`. */
  type?: 'page' | 'blogpost';
  /** Storage-format body, returned with `?expand=body.storage`. Default: a paragraph with the title. */
  body?: string;
}

export const DEFAULT_FAKE_PROJECTS: readonly FakeProject[] = [
  { id: '10000', key: 'DEMO', name: 'Demo' },
  { id: '10001', key: 'OPS', name: 'Operations' },
  { id: '10002', key: 'WEB', name: 'Website' },
  { id: '10003', key: 'MOB', name: 'Mobile' },
  { id: '10004', key: 'API', name: 'Public API' },
  { id: '10005', key: 'DOC', name: 'Documentation' },
  { id: '10006', key: 'QA', name: 'Quality' },
];

export const DEFAULT_FAKE_SPACES: readonly FakeSpace[] = [
  { id: 65537, key: 'DS', name: 'Demo space' },
  { id: 65538, key: 'ENG', name: 'Engineering' },
  { id: 65539, key: 'HR', name: 'People' },
  { id: 65540, key: 'MKT', name: 'Marketing' },
  { id: 65541, key: 'OPS', name: 'Operations' },
  { id: 65542, key: 'SALES', name: 'Sales' },
  { id: 65543, key: 'TEAM', name: 'Team space' },
];

export const DEFAULT_FAKE_CONTENTS: readonly FakeContent[] = [
  { id: '98305', title: 'Welcome to Confluence', spaceKey: 'DS' },
  { id: '98306', title: 'Release notes', spaceKey: 'ENG' },
  { id: '98307', title: 'Team news', spaceKey: 'TEAM', type: 'blogpost' },
];

/** An app installed on the fake site: the API accepts its JWTs and issues user tokens for it. */
export interface FakeApiInstallation {
  appKey: string;
  clientKey: string;
  sharedSecret: string;
  /** Lets the app use the JWT-bearer grant at the authorization server (ACT_AS_USER). */
  oauthClientId?: string;
  /** The app's descriptor scopes; when given, the authorization server enforces ACT_AS_USER and scope limits. */
  scopes?: readonly string[];
}

/** Why a request was answered 401. */
export type FakeApiRefusalReason =
  | 'missing-credentials'
  | 'jwt-in-query'
  | 'malformed'
  | 'unsupported-alg'
  | 'unknown-app'
  | 'invalid-signature'
  | 'missing-claim'
  | 'expired'
  | 'issued-in-future'
  | 'lifetime-too-long'
  | 'context-qsh'
  | 'invalid-qsh'
  | 'unknown-access-token'
  | 'expired-access-token'
  | 'wrong-site'
  | 'unknown-forge-token'
  | 'revoked-forge-token'
  | 'expired-forge-token';

/** A refused request, kept so tests can assert why. */
export interface FakeApiRefusal {
  time: Date;
  method: string;
  /** Raw request path (with the context path, e.g. `/wiki/rest/api/space`). */
  path: string;
  /** Raw query without `?`. */
  query: string;
  reason: FakeApiRefusalReason;
  message: string;
  /** For `invalid-qsh`: the canonical request the site hashed (compare it with the client's). */
  canonicalRequest?: string;
}

/** One request as the fake site saw it. */
export interface FakeApiRequest {
  time: Date;
  method: string;
  path: string;
  query: string;
  /** Request headers; the Authorization value is reduced to its scheme (`JWT …`, `Bearer …`). */
  headers: Record<string, string>;
  status: number;
  durationMs: number;
  /** How the caller authenticated. */
  auth: 'jwt' | 'bearer' | 'none';
  /** The app key, for an accepted JWT or access token. */
  appKey?: string;
  /** The account the request acted as, when it was accepted. */
  actingAs?: string;
  /** Set when the request was refused with 401. */
  refusal?: FakeApiRefusalReason;
  /** Set when the answer came from `failNext`. */
  injected?: boolean;
  /** For an accepted call under the Forge `apiBaseUrl`: whose token it carried, for which installation. */
  forge?: { principal: 'system' | 'user'; installationId: string };
  /** With a `rateLimit` budget: points the caller had left after this request (0 and status 429 once spent). */
  rateLimitRemaining?: number;
}

/** An injected error answer, see {@link FakeProductApi.failNext}. */
export interface FakeApiFailure {
  /** e.g. 429, 500, 503. */
  status: number;
  /** `Retry-After`: seconds, or an HTTP date (a Date is sent in HTTP date form). */
  retryAfter?: number | string | Date;
  /** `X-RateLimit-Reset`: an ISO 8601 time (a Date is sent with toISOString). */
  rateLimitReset?: string | Date;
  /** Response body; default `{ message }` describing the status. */
  body?: unknown;
}

/** A handler for an extra route, see {@link FakeProductApi.route}. */
export type FakeApiRouteHandler = (req: IncomingMessage, res: ServerResponse, url: URL) => void | Promise<void>;

export interface FakeProductApiOptions {
  product: ConnectProduct;
  /** Default 0 (a free port). */
  port?: number;
  /** Where user tokens come from; default: a server of its own, closed with this one. */
  authorizationServer?: FakeAuthorizationServer;
  /** Jira projects; default {@link DEFAULT_FAKE_PROJECTS} (7). */
  projects?: readonly FakeProject[];
  /** Confluence spaces; default {@link DEFAULT_FAKE_SPACES} (7). */
  spaces?: readonly FakeSpace[];
  /** Confluence content; default {@link DEFAULT_FAKE_CONTENTS}. */
  contents?: readonly FakeContent[];
  /** Page size when the request gives none (`maxResults`, `limit`). Default 3. */
  defaultPageSize?: number;
  /** Longest accepted `exp - iat` of an app JWT, in seconds. Default 900 (15 minutes). */
  maxTokenLifetimeSeconds?: number;
  /** Clock leeway for `exp` and `iat`, in seconds. Default 30. */
  leewaySeconds?: number;
  /** The site's cloud id, in the Forge `apiBaseUrl` (`/ex/<product>/<cloudId>`). Default: a random UUID. */
  cloudId?: string;
  /** Called with each finished request to the product API (not for extra routes), e.g. to print it. */
  onRequest?: (request: FakeApiRequest, refusal?: FakeApiRefusal) => void;
  /**
   * A points budget per caller (each Connect app on the site, each Forge installation under
   * `apiBaseUrl`): every accepted request costs a point and carries the 2026 rate-limit headers; a
   * spent budget answers 429 with `Retry-After` until its window resets. Default: none (no headers).
   * Change it with {@link FakeProductApi.setRateLimit}.
   */
  rateLimit?: FakeRateLimitOptions;
}

interface Caller {
  auth: 'jwt' | 'bearer';
  appKey: string;
  accountId: string;
  accountType: 'app' | 'atlassian';
}

class Refusal extends Error {
  constructor(
    readonly reason: FakeApiRefusalReason,
    message: string,
    readonly canonical?: string,
  ) {
    super(message);
  }
}

const CONFLUENCE_API_PREFIXES = ['/rest/api', '/rest/token-auth/api'] as const;
const MAX_PAGE_SIZE = 100;

/** The account id of an app's own ("addon") user, as `/myself` reports it for app-signed calls. */
export function addonAccountId(appKey: string): string {
  return `addon_${appKey}`;
}

/**
 * The REST API of one fake Jira or Confluence Cloud site, over real HTTP on 127.0.0.1, for testing an
 * app's OUTBOUND calls. The site's `baseUrl` is the server's URL (Confluence: with the `/wiki` context
 * path). It verifies app JWTs the way the products do (PROTOCOL.md §6: `Authorization: JWT` only,
 * HS256 with the installation's shared secret, `iss` = app key, `qsh` over the product-relative path
 * and query, short `exp`), accepts Bearer tokens from its {@link FakeAuthorizationServer}, and keeps a
 * log of every request and every refusal.
 *
 * Endpoints (Jira): `GET /rest/api/3/myself` (also `/rest/api/2/myself`), `GET /rest/api/3/project/search`,
 * `ANY /rest/api/3/echo`. Confluence, under `/wiki/rest/api/` and the Data Center prefix
 * `/wiki/rest/token-auth/api/`: `GET user/current`, `GET space`, `GET content/{id}`, `ANY echo`.
 * Errors: 401 `{ message }` (Confluence adds `statusCode`); Jira's other errors use `{ errorMessages, errors }`.
 * The same endpoints answer under `forge.apiBaseUrl` (`/ex/<product>/<cloudId>`) for Forge OAuth tokens
 * registered with `forge.issueTokens()`; each such request records `forge.principal`.
 */
export class FakeProductApi {
  readonly product: ConnectProduct;
  readonly port: number;
  /** `http://127.0.0.1:<port>` */
  readonly origin: string;
  /** The site's baseUrl: the origin, plus `/wiki` for Confluence. */
  readonly baseUrl: string;
  /** `''` for Jira, `/wiki` for Confluence. */
  readonly contextPath: string;
  readonly authorizationServer: FakeAuthorizationServer;
  /** The same API under the Forge `apiBaseUrl`, for Forge OAuth tokens (see {@link FakeForgeApi}). */
  readonly forge: FakeForgeApi;

  private readonly installations = new Map<string, FakeApiInstallation>();
  private readonly log: FakeApiRequest[] = [];
  private readonly refused: FakeApiRefusal[] = [];
  private readonly failures: FakeApiFailure[] = [];
  private readonly delays: number[] = [];
  private readonly routes = new Map<string, FakeApiRouteHandler>();
  private readonly pending = new Set<() => void>();
  private readonly projects: readonly FakeProject[];
  private readonly spaces: readonly FakeSpace[];
  private readonly contents: readonly FakeContent[];
  private readonly pageSize: number;
  private readonly maxLifetime: number;
  private readonly leeway: number;
  private readonly onRequest: FakeProductApiOptions['onRequest'];
  private budget: FakeRateLimitBudget | undefined;

  private constructor(
    private readonly server: Server,
    port: number,
    options: FakeProductApiOptions,
    authorizationServer: FakeAuthorizationServer,
    private readonly ownsAuthorizationServer: boolean,
  ) {
    this.product = options.product;
    this.port = port;
    this.origin = `http://127.0.0.1:${port}`;
    this.contextPath = options.product === 'confluence' ? '/wiki' : '';
    this.baseUrl = this.origin + this.contextPath;
    this.authorizationServer = authorizationServer;
    this.forge = new FakeForgeApi(this.origin, options.product, options.cloudId);
    this.projects = options.projects ?? DEFAULT_FAKE_PROJECTS;
    this.spaces = options.spaces ?? DEFAULT_FAKE_SPACES;
    this.contents = options.contents ?? DEFAULT_FAKE_CONTENTS;
    this.pageSize = options.defaultPageSize ?? 3;
    this.maxLifetime = options.maxTokenLifetimeSeconds ?? 900;
    this.leeway = options.leewaySeconds ?? 30;
    this.onRequest = options.onRequest;
    this.budget = options.rateLimit === undefined ? undefined : new FakeRateLimitBudget(options.rateLimit);
  }

  static async start(options: FakeProductApiOptions): Promise<FakeProductApi> {
    if (options.product !== 'jira' && options.product !== 'confluence') throw new RangeError('product must be "jira" or "confluence"');
    const own = options.authorizationServer === undefined;
    const authorizationServer = options.authorizationServer ?? (await FakeAuthorizationServer.start());
    let instance: FakeProductApi | undefined;
    let started: { server: Server; port: number };
    try {
      started = await startLoopbackServer(options.port ?? 0, async (req, res) => {
        if (instance === undefined) return sendJson(res, 503, { message: 'Starting.' });
        await instance.handle(req, res);
      });
    } catch (error) {
      if (own) await authorizationServer.close();
      throw error;
    }
    instance = new FakeProductApi(started.server, started.port, options, authorizationServer, own);
    return instance;
  }

  /** The authorization server whose access tokens this site accepts (`aud` of the JWT-bearer assertion). */
  get authorizationServerUrl(): string {
    return this.authorizationServer.url;
  }

  /** Installs an app on the site: its JWTs are accepted from now on (re-installing replaces the secret). */
  install(installation: FakeApiInstallation): this {
    const previous = this.installations.get(installation.appKey);
    if (previous?.oauthClientId !== undefined && previous.oauthClientId !== installation.oauthClientId) {
      this.authorizationServer.unregister(this.baseUrl, previous.oauthClientId);
    }
    this.installations.set(installation.appKey, { ...installation });
    if (installation.oauthClientId !== undefined) {
      this.authorizationServer.register({
        siteBaseUrl: this.baseUrl,
        oauthClientId: installation.oauthClientId,
        sharedSecret: installation.sharedSecret,
        appKey: installation.appKey,
        ...(installation.scopes !== undefined && { scopes: installation.scopes }),
      });
    }
    return this;
  }

  /** Uninstalls an app: its JWTs and access tokens are refused from now on. */
  uninstall(appKey: string): boolean {
    const installation = this.installations.get(appKey);
    if (installation === undefined) return false;
    if (installation.oauthClientId !== undefined) this.authorizationServer.unregister(this.baseUrl, installation.oauthClientId);
    return this.installations.delete(appKey);
  }

  installation(appKey: string): FakeApiInstallation | undefined {
    return this.installations.get(appKey);
  }

  /** Every request so far, oldest first. */
  get requests(): readonly FakeApiRequest[] {
    return this.log;
  }

  /** Every request answered 401, with the reason, oldest first. */
  get refusals(): readonly FakeApiRefusal[] {
    return this.refused;
  }

  /**
   * The next `count` requests (any path, before authentication) are answered with this error:
   * `failNext(2, { status: 429, retryAfter: 1 })`, `failNext(1, { status: 503 })`,
   * `failNext(1, { status: 429, rateLimitReset: new Date(Date.now() + 1000) })`. Calls queue up.
   */
  failNext(count: number, failure: FakeApiFailure): this {
    if (!Number.isInteger(count) || count < 0) throw new RangeError('count must be a non-negative integer');
    if (!Number.isInteger(failure.status) || failure.status < 100 || failure.status > 599) throw new RangeError('status must be an HTTP status code');
    for (let i = 0; i < count; i++) this.failures.push({ ...failure });
    return this;
  }

  /** Holds the next `count` requests (default 1) for `ms` milliseconds before answering. */
  delayNext(ms: number, count = 1): this {
    if (!Number.isFinite(ms) || ms < 0) throw new RangeError('ms must be a non-negative number');
    for (let i = 0; i < count; i++) this.delays.push(ms);
    return this;
  }

  /**
   * Answers `method` (or `*`) requests to this exact raw path (query ignored) with a handler of your
   * own, before any authentication. Requests are still logged.
   */
  route(method: string, path: string, handler: FakeApiRouteHandler): this {
    this.routes.set(`${method.toUpperCase()} ${path}`, handler);
    return this;
  }

  /**
   * Sets (or with `undefined` removes) the points budget, see {@link FakeProductApiOptions.rateLimit};
   * every caller starts a fresh window.
   *
   * @example
   * ```ts
   * site.api.setRateLimit({ points: 100, windowMs: 2000 }); // 100 requests per 2 s per caller
   * ```
   */
  setRateLimit(options: FakeRateLimitOptions | undefined): this {
    this.budget = options === undefined ? undefined : new FakeRateLimitBudget(options);
    return this;
  }

  /** The budget in force, if any. */
  get rateLimit(): FakeRateLimitBudget | undefined {
    return this.budget;
  }

  /** Clears the logs and pending faults (installations stay). */
  reset(): this {
    this.log.length = 0;
    this.refused.length = 0;
    this.failures.length = 0;
    this.delays.length = 0;
    return this;
  }

  async close(): Promise<void> {
    for (const cancel of [...this.pending]) cancel();
    await closeServer(this.server);
    if (this.ownsAuthorizationServer) await this.authorizationServer.close();
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const started = Date.now();
    const method = (req.method ?? 'GET').toUpperCase();
    const rawUrl = req.url ?? '/';
    const { path, query } = splitTarget(rawUrl);
    const entry: FakeApiRequest = { time: new Date(started), method, path, query, headers: redactedHeaders(req), status: 0, durationMs: 0, auth: 'none' };
    this.log.push(entry);
    let refusal: FakeApiRefusal | undefined;
    let custom = false;
    res.once('finish', () => {
      entry.status = res.statusCode;
      entry.durationMs = Date.now() - started;
      if (!custom) this.onRequest?.(entry, refusal);
    });
    res.once('close', () => {
      if (entry.status === 0) entry.durationMs = Date.now() - started;
    });

    const route = this.routes.get(`${method} ${path}`) ?? this.routes.get(`* ${path}`);
    if (route !== undefined) {
      custom = true;
      await route(req, res, new URL(rawUrl, this.origin));
      return;
    }
    const delay = this.delays.shift();
    if (delay !== undefined && delay > 0 && !(await this.pause(delay))) return;
    const failure = this.failures.shift();
    if (failure !== undefined) {
      entry.injected = true;
      return this.sendFailure(res, failure);
    }

    const forgeCall = this.forge.owns(path);
    const relative = forgeCall ? this.forge.relativePath(path) : this.productRelative(path);
    if (relative === undefined) return this.sendError(res, 404, `Nothing is served at ${path}; this site's context path is ${this.contextPath || '/'}.`);

    let caller: Caller;
    try {
      caller = forgeCall ? this.authenticateForge(req, entry) : await this.authenticate(req, method, rawUrl, query);
    } catch (error) {
      if (!(error instanceof Refusal)) throw error;
      entry.refusal = error.reason;
      entry.auth = /^bearer\s/i.test(String(req.headers.authorization ?? '')) ? 'bearer' : /^jwt\s/i.test(String(req.headers.authorization ?? '')) ? 'jwt' : 'none';
      refusal = {
        time: new Date(),
        method,
        path,
        query,
        reason: error.reason,
        message: error.message,
        ...(error.canonical !== undefined && { canonicalRequest: error.canonical }),
      };
      this.refused.push(refusal);
      return this.sendUnauthorized(res, error.message);
    }
    entry.auth = caller.auth;
    entry.appKey = caller.appKey;
    entry.actingAs = caller.accountId;
    if (this.budget !== undefined) {
      const payer = entry.forge === undefined ? `connect\n${caller.appKey}` : `forge\n${entry.forge.installationId}`;
      const charge = this.budget.charge(payer);
      for (const [name, value] of Object.entries(charge.headers)) res.setHeader(name, value);
      entry.rateLimitRemaining = charge.spent ? 0 : this.budget.remaining(payer);
      if (charge.spent) return this.sendError(res, 429, 'Rate limit exceeded: the points budget of this window is spent.');
    }

    let body: string;
    try {
      body = await readBody(req);
    } catch (error) {
      if (error instanceof BodyTooLargeError) return this.sendError(res, 413, error.message);
      throw error;
    }
    const url = new URL(rawUrl, this.origin);
    if (this.product === 'jira') return this.jira(res, method, relative, url, caller, body, req);
    return this.confluence(res, method, relative, url, caller, body, req);
  }

  private jira(res: ServerResponse, method: string, path: string, url: URL, caller: Caller, body: string, req: IncomingMessage): void {
    if (path === '/rest/api/3/echo') return this.echo(res, method, path, url, caller, body, req);
    if (path === '/rest/api/3/myself' || path === '/rest/api/2/myself') {
      if (method !== 'GET') return this.sendError(res, 405, `${method} is not allowed on ${path}.`);
      return sendJson(res, 200, {
        self: `${this.baseUrl}${path}?accountId=${encodeURIComponent(caller.accountId)}`,
        accountId: caller.accountId,
        accountType: caller.accountType,
        displayName: caller.accountType === 'app' ? caller.appKey : `User ${caller.accountId}`,
        active: true,
        timeZone: 'UTC',
        locale: 'en_US',
      });
    }
    if (path === '/rest/api/3/project/search') {
      if (method !== 'GET') return this.sendError(res, 405, `${method} is not allowed on ${path}.`);
      const paging = this.paging(url, 'startAt', 'maxResults');
      if (typeof paging === 'string') return this.sendError(res, 400, paging);
      const { start, size } = paging;
      const values = this.projects.slice(start, start + size).map((p) => ({
        self: `${this.baseUrl}/rest/api/3/project/${p.id}`,
        id: p.id,
        key: p.key,
        name: p.name,
        projectTypeKey: p.projectTypeKey ?? 'software',
        simplified: false,
        style: 'classic',
      }));
      const isLast = start + size >= this.projects.length;
      const page = (at: number) => `${this.baseUrl}${path}?maxResults=${size}&startAt=${at}`;
      return sendJson(res, 200, {
        self: page(start),
        ...(!isLast && { nextPage: page(start + size) }),
        maxResults: size,
        startAt: start,
        total: this.projects.length,
        isLast,
        values,
      });
    }
    return this.sendError(res, 404, `No Jira REST resource at ${path}.`);
  }

  private confluence(res: ServerResponse, method: string, path: string, url: URL, caller: Caller, body: string, req: IncomingMessage): void {
    const prefix = CONFLUENCE_API_PREFIXES.find((p) => path.startsWith(`${p}/`));
    if (prefix === undefined) return this.sendError(res, 404, `No Confluence REST resource at ${path}.`);
    const resource = path.slice(prefix.length);
    if (resource === '/echo') return this.echo(res, method, path, url, caller, body, req);
    if (method !== 'GET' && (resource === '/space' || resource === '/user/current' || resource.startsWith('/content/'))) {
      return this.sendError(res, 405, `${method} is not allowed on ${path}.`);
    }
    if (resource === '/user/current') {
      return sendJson(res, 200, {
        type: 'known',
        accountId: caller.accountId,
        accountType: caller.accountType,
        publicName: caller.accountType === 'app' ? caller.appKey : `User ${caller.accountId}`,
        displayName: caller.accountType === 'app' ? caller.appKey : `User ${caller.accountId}`,
        _links: { base: this.baseUrl, context: this.contextPath, self: `${this.baseUrl}${prefix}/user?accountId=${encodeURIComponent(caller.accountId)}` },
      });
    }
    if (resource === '/space') {
      const paging = this.paging(url, 'start', 'limit');
      if (typeof paging === 'string') return this.sendError(res, 400, paging);
      const { start, size } = paging;
      const results = this.spaces.slice(start, start + size).map((s) => this.spaceJson(s, prefix));
      const hasNext = start + size < this.spaces.length;
      return sendJson(res, 200, {
        results,
        start,
        limit: size,
        size: results.length,
        _links: {
          base: this.baseUrl,
          context: this.contextPath,
          self: `${this.baseUrl}${prefix}/space`,
          ...(hasNext && { next: `${prefix}/space?start=${start + size}&limit=${size}` }),
        },
      });
    }
    const content = /^\/content\/([^/]+)$/.exec(resource);
    if (content) {
      const id = decodeURIComponent(content[1]!);
      const item = this.contents.find((c) => c.id === id);
      if (item === undefined) return this.sendError(res, 404, `No content found with id: ContentId{id=${id}}`);
      const space = this.spaces.find((s) => s.key === item.spaceKey) ?? { id: 0, key: item.spaceKey, name: item.spaceKey };
      const expand = (url.searchParams.get('expand') ?? '').split(',');
      return sendJson(res, 200, {
        id: item.id,
        type: item.type ?? 'page',
        status: 'current',
        title: item.title,
        space: this.spaceJson(space, prefix),
        version: { number: 1, by: { accountId: caller.accountId } },
        ...(expand.includes('body.storage') && { body: { storage: { value: item.body ?? `<p>${item.title}</p>`, representation: 'storage' } } }),
        _links: {
          webui: `/spaces/${item.spaceKey}/pages/${item.id}`,
          self: `${this.baseUrl}${prefix}/content/${item.id}`,
          base: this.baseUrl,
          context: this.contextPath,
        },
      });
    }
    return this.sendError(res, 404, `No Confluence REST resource at ${path}.`);
  }

  private spaceJson(space: FakeSpace, prefix: string): Record<string, unknown> {
    return {
      id: space.id,
      key: space.key,
      name: space.name,
      type: space.type ?? 'global',
      status: 'current',
      _links: { webui: `/spaces/${space.key}`, self: `${this.baseUrl}${prefix}/space/${space.key}` },
    };
  }

  private echo(res: ServerResponse, method: string, path: string, url: URL, caller: Caller, body: string, req: IncomingMessage): void {
    let json: unknown;
    if (/json/i.test(String(req.headers['content-type'] ?? '')) && body !== '') {
      try {
        json = JSON.parse(body);
      } catch {
        json = undefined;
      }
    }
    sendJson(res, 200, {
      method,
      path,
      query: Object.fromEntries(url.searchParams),
      headers: redactedHeaders(req),
      body,
      ...(json !== undefined && { json }),
      appKey: caller.appKey,
      accountId: caller.accountId,
    });
  }

  /** Parses `start`/`limit`-style paging parameters; a string is the 400 message. */
  private paging(url: URL, startName: string, sizeName: string): { start: number; size: number } | string {
    const parse = (name: string, fallback: number): number | string => {
      const raw = url.searchParams.get(name);
      if (raw === null || raw === '') return fallback;
      if (!/^\d+$/.test(raw)) return `The ${name} parameter must be a non-negative integer, not ${JSON.stringify(raw)}.`;
      return Number(raw);
    };
    const start = parse(startName, 0);
    if (typeof start === 'string') return start;
    const size = parse(sizeName, this.pageSize);
    if (typeof size === 'string') return size;
    return { start, size: Math.min(Math.max(size, 1), MAX_PAGE_SIZE) };
  }

  /** The path below the context path, or undefined when the request is outside the site. */
  private productRelative(path: string): string | undefined {
    if (this.contextPath === '') return path;
    if (path === this.contextPath) return '/';
    return path.startsWith(`${this.contextPath}/`) ? path.slice(this.contextPath.length) : undefined;
  }

  private async authenticate(req: IncomingMessage, method: string, rawUrl: string, query: string): Promise<Caller> {
    if (query.split('&').some((pair) => pair === 'jwt' || pair.startsWith('jwt='))) {
      throw new Refusal('jwt-in-query', 'A JWT in the jwt query parameter is not accepted on REST APIs; send it in an "Authorization: JWT <token>" header.');
    }
    const header = req.headers.authorization;
    if (header === undefined || header.trim() === '') throw new Refusal('missing-credentials', 'Authentication is required: no Authorization header was sent.');
    const match = /^(\S+)\s+(\S+)\s*$/.exec(header);
    const scheme = match?.[1]?.toLowerCase();
    if (match === null || (scheme !== 'jwt' && scheme !== 'bearer')) {
      throw new Refusal('missing-credentials', 'The Authorization header must be "JWT <token>" or "Bearer <access token>".');
    }
    const token = match[2]!;
    return scheme === 'jwt' ? this.verifyJwt(token, method, rawUrl) : this.verifyBearer(token);
  }

  private async verifyJwt(token: string, method: string, rawUrl: string): Promise<Caller> {
    let unverified: JWTPayload;
    try {
      const header = decodeProtectedHeader(token);
      if (header.alg !== 'HS256') throw new Refusal('unsupported-alg', `App JWTs must be signed with HS256, not ${JSON.stringify(header.alg)}.`);
      unverified = decodeJwt(token);
    } catch (error) {
      if (error instanceof Refusal) throw error;
      throw new Refusal('malformed', 'The JWT could not be decoded.');
    }
    if (typeof unverified.iss !== 'string') throw new Refusal('missing-claim', 'The JWT has no iss claim (it must be the app key).');
    const installation = this.installations.get(unverified.iss);
    if (installation === undefined)
      throw new Refusal('unknown-app', `No app with key ${JSON.stringify(unverified.iss)} is installed on this site (the JWT iss must be the app key).`);
    let claims: JWTPayload;
    try {
      ({ payload: claims } = await jwtVerify(token, createSecretKey(Buffer.from(installation.sharedSecret, 'utf8')), {
        algorithms: ['HS256'],
        clockTolerance: this.leeway,
        requiredClaims: ['iss', 'iat', 'exp', 'qsh'],
      }));
    } catch (error) {
      if (error instanceof joseErrors.JWTExpired) throw new Refusal('expired', 'The JWT has expired.');
      if (error instanceof joseErrors.JWSSignatureVerificationFailed) {
        throw new Refusal('invalid-signature', `The JWT signature does not verify with the shared secret of ${installation.appKey} on this site.`);
      }
      if (error instanceof joseErrors.JWTClaimValidationFailed) {
        if (error.reason === 'missing') throw new Refusal('missing-claim', `The JWT has no ${error.claim} claim.`);
        if (error.claim === 'iat') throw new Refusal('issued-in-future', 'The JWT iat is in the future.');
        throw new Refusal('malformed', `The JWT ${error.claim} claim is invalid.`);
      }
      throw new Refusal('malformed', 'The JWT could not be verified.');
    }
    const iat = claims.iat!;
    const exp = claims.exp!;
    if (iat > nowSeconds() + this.leeway) throw new Refusal('issued-in-future', 'The JWT iat is in the future.');
    if (exp - iat > this.maxLifetime) {
      throw new Refusal('lifetime-too-long', `The JWT is valid for ${exp - iat} seconds (exp - iat); at most ${this.maxLifetime} are accepted.`);
    }
    if (claims.qsh === CONTEXT_QSH) throw new Refusal('context-qsh', 'A context token (qsh "context-qsh") cannot call the REST API; sign the request.');
    const canonical = canonicalRequest(method, rawUrl, this.baseUrl);
    if (claims.qsh !== queryStringHash(method, rawUrl, this.baseUrl)) {
      throw new Refusal('invalid-qsh', `The JWT qsh does not match the request; the site hashed ${JSON.stringify(canonical)}.`, canonical);
    }
    return { auth: 'jwt', appKey: installation.appKey, accountId: addonAccountId(installation.appKey), accountType: 'app' };
  }

  /** Under the Forge apiBaseUrl only Forge tokens count (never app JWTs or Connect user tokens). */
  private authenticateForge(req: IncomingMessage, entry: FakeApiRequest): Caller {
    const result = this.forge.authenticate(req.headers.authorization);
    if (isForgeRefusal(result)) throw new Refusal(result.reason, result.message);
    entry.forge = { principal: result.principal, installationId: result.installationId };
    return { auth: 'bearer', appKey: result.appId, accountId: result.accountId, accountType: result.principal === 'system' ? 'app' : 'atlassian' };
  }

  private verifyBearer(token: string): Caller {
    const grant = this.authorizationServer.grantOf(token);
    if (grant === undefined) {
      if (this.authorizationServer.knows(token)) throw new Refusal('expired-access-token', 'The access token has expired.');
      throw new Refusal('unknown-access-token', "The access token was not issued by this site's authorization server.");
    }
    if (grant.siteBaseUrl !== this.baseUrl) throw new Refusal('wrong-site', `The access token was issued for ${grant.siteBaseUrl}, not for this site.`);
    if (!this.installations.has(grant.appKey)) throw new Refusal('unknown-app', `The app ${grant.appKey} is no longer installed on this site.`);
    return { auth: 'bearer', appKey: grant.appKey, accountId: grant.accountId, accountType: 'atlassian' };
  }

  private sendUnauthorized(res: ServerResponse, message: string): void {
    const body = this.product === 'confluence' ? { statusCode: 401, message } : { message };
    sendJson(res, 401, body, { 'www-authenticate': `JWT realm="${this.baseUrl}"` });
  }

  private sendError(res: ServerResponse, status: number, message: string): void {
    const body = this.product === 'confluence' ? { statusCode: status, message } : { errorMessages: [message], errors: {} };
    sendJson(res, status, body);
  }

  private sendFailure(res: ServerResponse, failure: FakeApiFailure): void {
    const headers: Record<string, string> = {};
    if (failure.retryAfter !== undefined) headers['retry-after'] = retryAfterValue(failure.retryAfter);
    if (failure.rateLimitReset !== undefined) {
      headers['x-ratelimit-reset'] = failure.rateLimitReset instanceof Date ? failure.rateLimitReset.toISOString() : failure.rateLimitReset;
    }
    const message = failure.status === 429 ? 'Rate limit exceeded.' : failure.status === 503 ? 'Service unavailable.' : `Injected HTTP ${failure.status}.`;
    sendJson(res, failure.status, failure.body ?? { message }, headers);
  }

  private pause(ms: number): Promise<boolean> {
    return new Promise<boolean>((resolve) => {
      const finish = (completed: boolean) => {
        clearTimeout(timer);
        this.pending.delete(cancel);
        resolve(completed);
      };
      const cancel = () => finish(false);
      const timer = setTimeout(() => finish(true), ms);
      this.pending.add(cancel);
    });
  }
}
