import { Inject, Injectable, Logger, type OnModuleInit } from '@nestjs/common';
import { HttpAdapterHost, type AbstractHttpAdapter } from '@nestjs/core';
import { ConnectAppRegistry } from '../config/connect-app-registry.js';
import { RESOLVED_CONNECT_OPTIONS } from '../config/resolve-connect-options.js';
import type { ResolvedConnectOptions } from '../config/resolved-connect-options.js';
import { DESCRIPTOR_PATH, LIFECYCLE_PATHS, type LifecycleEventName, type ResolvedConnectApp } from '../config/resolved-connect-app.js';
import { extractToken } from '../auth/jwt/token-extractor.js';
import { ConnectError } from '../errors/connect-error.js';
import { RETRY_AFTER_SECONDS } from '../errors/connect-error-http.js';
import { ConnectHealth } from '../health/connect-health.js';
import { LifecycleService } from '../lifecycle/lifecycle.service.js';
import { jsonDepthExceeds } from '../lifecycle/json-depth.js';
import { requestFacts } from './http-request-facts.js';
import { assertHeaderCount, clientAddress, TokenBucketLimiter } from './request-limits.js';
import { isLoopbackAddress } from '../util/loopback.js';
import { postLifecycleRoutes, type RouteHandler } from './lifecycle-body-errors.js';
import { sendConnectError } from './send-connect-error.js';

type Handler = (app: ResolvedConnectApp, request: unknown, response: unknown) => Promise<void>;

/**
 * Registers the routes the product calls (descriptor and lifecycle callbacks of every app, plus the
 * health check) directly on the HTTP adapter, because their paths come from the apps' baseUrls, which
 * are only known once the options are resolved. Apps that share a path (told apart by host name)
 * share one route; the request's host picks the app.
 */
@Injectable()
export class ConnectRoutes implements OnModuleInit {
  private readonly logger = new Logger('ConnectRoutes');
  private readonly limiter: TokenBucketLimiter | undefined;
  private readonly exemptLoopback: boolean;

  constructor(
    private readonly adapterHost: HttpAdapterHost,
    private readonly registry: ConnectAppRegistry,
    private readonly lifecycle: LifecycleService,
    private readonly health: ConnectHealth,
    @Inject(RESOLVED_CONNECT_OPTIONS) private readonly options: ResolvedConnectOptions,
  ) {
    const limit = options.lifecycleRateLimit;
    this.limiter = limit === false ? undefined : new TokenBucketLimiter(limit);
    this.exemptLoopback = limit === false || limit.exemptLoopback;
  }

  onModuleInit(): void {
    const adapter = this.adapterHost.httpAdapter;
    if (!adapter) return; // a standalone application context serves no HTTP
    const routes = new Map<string, { method: 'GET' | 'POST'; path: string; handler: Handler; apps: ResolvedConnectApp[] }>();
    const add = (method: 'GET' | 'POST', path: string, app: ResolvedConnectApp, handler: Handler) => {
      const id = `${method} ${path}`;
      const route = routes.get(id) ?? { method, path, handler, apps: [] };
      route.apps.push(app);
      routes.set(id, route);
    };
    for (const app of this.registry.apps) {
      if (!app.connect) continue; // a Forge-only app: Forge never asks for a descriptor or sends Connect lifecycle callbacks
      add('GET', app.basePath + DESCRIPTOR_PATH, app, (a, _req, res) => this.serveDescriptor(adapter, a, res));
      for (const [event, path] of Object.entries(LIFECYCLE_PATHS) as [LifecycleEventName, string][]) {
        add('POST', app.basePath + path, app, (a, req, res) => this.serveLifecycle(adapter, event, a, req, res));
      }
    }
    const lifecycleRoutes: { path: string; handler: RouteHandler }[] = [];
    for (const route of routes.values()) {
      const dispatch = (request: unknown, response: unknown) => this.dispatch(adapter, route.apps, route.handler, request, response);
      if (route.method === 'GET') adapter.get(route.path, dispatch);
      else lifecycleRoutes.push({ path: route.path, handler: dispatch });
    }
    postLifecycleRoutes(adapter, lifecycleRoutes);
    const healthPath = this.options.healthPath;
    if (healthPath !== false) adapter.get(healthPath, (_req: unknown, res: unknown) => this.serveHealth(adapter, res));
    this.logger.log(`Serving ${this.registry.apps.map((app) => `${app.key} at ${app.baseUrl}${app.connect ? '' : ' (Forge only)'}`).join(', ')}.`);
  }

  private async dispatch(adapter: AbstractHttpAdapter, apps: ResolvedConnectApp[], handler: Handler, request: unknown, response: unknown): Promise<void> {
    const facts = requestFacts(adapter, request);
    const app = apps.length === 1 ? apps[0] : this.registry.resolve(facts.hostname, facts.rawUrl);
    if (app === undefined || !apps.includes(app)) {
      sendConnectError(adapter, response, ConnectError.create('jwt/unknown-app', `No Connect app is served at this address for host ${facts.hostname ?? '(none)'}.`));
      return;
    }
    try {
      await handler(app, request, response);
    } catch (error) {
      sendConnectError(adapter, response, error, app.key);
    }
  }

  private async serveDescriptor(adapter: AbstractHttpAdapter, app: ResolvedConnectApp, response: unknown): Promise<void> {
    adapter.setHeader(response, 'cache-control', 'no-cache');
    adapter.reply(response, app.descriptor, 200);
  }

  private async serveLifecycle(adapter: AbstractHttpAdapter, event: LifecycleEventName, app: ResolvedConnectApp, request: unknown, response: unknown): Promise<void> {
    this.limitRate(app, request);
    assertHeaderCount(request, this.options.maxRequestHeaders);
    const facts = requestFacts(adapter, request);
    const token = extractToken(facts.authorization, facts.rawUrl);
    const body = (request as { body?: unknown }).body;
    const maxDepth = this.options.maxLifecycleJsonDepth;
    if (jsonDepthExceeds(body, maxDepth)) {
      throw ConnectError.create('lifecycle/invalid-payload', `The lifecycle body nests deeper than ${maxDepth} levels.`);
    }
    await this.lifecycle.handle(event, app, { method: facts.method, rawUrl: facts.rawUrl, token }, body);
    adapter.reply(response, undefined, 204);
  }

  /** The per-source token bucket of the lifecycle routes (`lifecycleRateLimit`). */
  private limitRate(app: ResolvedConnectApp, request: unknown): void {
    if (this.limiter === undefined) return;
    const source = clientAddress(request);
    if (this.exemptLoopback && isLoopbackAddress(source)) return;
    const wait = this.limiter.take(source);
    if (wait > 0) {
      this.logger.warn(`Lifecycle rate limit reached for ${source} (${app.key}); retry in ${wait} s.`);
      throw ConnectError.create('lifecycle/rate-limited', 'Too many lifecycle callbacks from this address; retry later.', { retryAfterSeconds: wait });
    }
  }

  private async serveHealth(adapter: AbstractHttpAdapter, response: unknown): Promise<void> {
    const report = await this.health.check();
    adapter.setHeader(response, 'cache-control', 'no-store');
    if (report.status !== 'ok') adapter.setHeader(response, 'retry-after', String(RETRY_AFTER_SECONDS));
    adapter.reply(response, report, report.status === 'ok' ? 200 : 503);
  }
}
