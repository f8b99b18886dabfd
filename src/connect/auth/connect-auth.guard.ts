import { Inject, Injectable, type CanActivate, type ExecutionContext } from '@nestjs/common';
import { HttpAdapterHost, Reflector } from '@nestjs/core';
import { ConnectAppRegistry } from '../config/connect-app-registry.js';
import { RESOLVED_CONNECT_OPTIONS } from '../config/resolve-connect-options.js';
import type { ResolvedConnectOptions } from '../config/resolved-connect-options.js';
import type { ResolvedConnectApp } from '../config/resolved-connect-app.js';
import { ConnectError } from '../errors/connect-error.js';
import { requestFacts, type HttpRequestFacts } from '../http/http-request-facts.js';
import { assertHeaderCount, isHttpsRequest } from '../http/request-limits.js';
import { pageSecurityHeaders } from './page-security-headers.js';
import { CONNECT_AUTH_OPTIONS, type ConnectAuthOptions } from './connect-auth.constants.js';
import { CONNECT_CONTEXT, httpRequestOf, type RequestWithConnectContext } from './connect-request.js';
import { ConnectTokenVerifier, type ConnectRequestContext, type HsVerifyOptions, type IncomingRequest } from './jwt/connect-token-verifier.js';
import { extractToken } from './jwt/token-extractor.js';

/** What the guard needs of a route, worked out on its first request. */
interface RouteAuth {
  readonly options: ConnectAuthOptions;
  readonly verify: HsVerifyOptions;
}

/**
 * The guard behind `@ConnectAuth()`. Its steps are protected methods so an app can subclass it
 * (for example to find the app differently). Failures are thrown as `ConnectError` and answered by
 * `ConnectExceptionFilter` as typed 401/503 responses.
 */
@Injectable()
export class ConnectAuthGuard implements CanActivate {
  private readonly routes = new WeakMap<object, WeakMap<object, RouteAuth>>();
  private readonly maxRequestHeaders: number;

  constructor(
    protected readonly reflector: Reflector,
    protected readonly adapterHost: HttpAdapterHost,
    protected readonly registry: ConnectAppRegistry,
    protected readonly verifier: ConnectTokenVerifier,
    @Inject(RESOLVED_CONNECT_OPTIONS) protected readonly options: ResolvedConnectOptions,
  ) {
    this.maxRequestHeaders = options.maxRequestHeaders;
  }

  /**
   * Synchronous when the request was verified before (the steady state for a reused token) or the
   * tenant is in memory: no promise is created then; otherwise it waits for the tenant store.
   */
  canActivate(context: ExecutionContext): boolean | Promise<boolean> {
    const route = this.routeOf(context);
    const options = route.options;
    const request = httpRequestOf<RequestWithConnectContext>(context);
    const facts = requestFacts(this.adapterHost.httpAdapter, request);
    const app = this.appOf(options, facts);
    const verifyOptions = route.verify;
    let incoming: IncomingRequest;
    try {
      assertHeaderCount(request, this.maxRequestHeaders);
      const recalled = this.verifier.recall(app, facts, verifyOptions.allowContextQsh);
      if (recalled !== undefined) return this.accept(context, options, request, recalled);
      incoming = { method: facts.method, rawUrl: facts.rawUrl, token: extractToken(facts.authorization, facts.rawUrl), authorization: facts.authorization };
      const cached = this.verifier.verifyCached(app, incoming, verifyOptions);
      if (cached !== undefined) return this.accept(context, options, request, cached);
    } catch (error) {
      throw this.tagged(error, app);
    }
    return this.verifier.verify(app, incoming, verifyOptions).then(
      (verified) => this.accept(context, options, request, verified),
      (error: unknown) => {
        throw this.tagged(error, app);
      },
    );
  }

  private accept(context: ExecutionContext, options: ConnectAuthOptions, request: RequestWithConnectContext, verified: ConnectRequestContext): true {
    request[CONNECT_CONTEXT] = verified;
    if (options.page === true) this.setPageHeaders(context, verified.tenant, request);
    return true;
  }

  private tagged(error: unknown, app: ResolvedConnectApp): unknown {
    if (error instanceof ConnectError) error.realm = app.key;
    return error;
  }

  /** Sets the framing policy (and HSTS over https) of a `page: true` route on the response. */
  protected setPageHeaders(context: ExecutionContext, tenant: ConnectRequestContext['tenant'], request: unknown): void {
    const response = context.switchToHttp().getResponse<unknown>();
    for (const [name, value] of Object.entries(pageSecurityHeaders(tenant, isHttpsRequest(request)))) {
      this.adapterHost.httpAdapter.setHeader(response, name, value);
    }
  }

  /** The route's `@ConnectAuth()` options. Read once per (controller class, handler), then remembered. */
  protected optionsOf(context: ExecutionContext): ConnectAuthOptions {
    return this.reflector.getAllAndOverride<ConnectAuthOptions>(CONNECT_AUTH_OPTIONS, [context.getHandler(), context.getClass()]) ?? { qsh: 'request' };
  }

  private routeOf(context: ExecutionContext): RouteAuth {
    // Metadata never changes after bootstrap. The class is part of the key because one handler can be
    // inherited by several controllers.
    const type = context.getClass();
    const handler = context.getHandler();
    let perHandler = this.routes.get(type);
    if (perHandler === undefined) {
      perHandler = new WeakMap();
      this.routes.set(type, perHandler);
    }
    let route = perHandler.get(handler);
    if (route === undefined) {
      const options = this.optionsOf(context);
      route = { options, verify: Object.freeze({ allowContextQsh: options.qsh === 'context', allowInactiveTenant: false, remember: true }) };
      perHandler.set(handler, route);
    }
    return route;
  }

  protected appOf(options: ConnectAuthOptions, facts: HttpRequestFacts): ResolvedConnectApp {
    const app = options.app !== undefined ? this.registry.get(options.app) : this.registry.resolve(() => facts.hostname, facts.rawUrl);
    if (app === undefined) {
      throw ConnectError.create(
        'jwt/unknown-app',
        options.app !== undefined
          ? `@ConnectAuth names app ${JSON.stringify(options.app)}, which is not configured.`
          : 'This route is not under the baseUrl of any Connect app; give @ConnectAuth({ app }) the app key.',
      );
    }
    return app;
  }
}
