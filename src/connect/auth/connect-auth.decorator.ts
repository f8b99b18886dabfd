import { applyDecorators, SetMetadata, UseGuards } from '@nestjs/common';
import { ConnectAuthGuard } from './connect-auth.guard.js';

/** How a route authenticates. */
export interface ConnectAuthOptions {
  /**
   * `'request'` (default): the token's qsh must be the hash of this very request.
   * `'context'`: also accept context tokens (`qsh: "context-qsh"`, from `AP.context.getToken()`);
   * use it only for routes your own front end calls with such a token.
   */
  qsh?: 'request' | 'context';
  /**
   * The key of the app the route belongs to. Usually not needed: the app whose baseUrl path (or host)
   * the request is under is used.
   */
  app?: string;
  /**
   * The route serves a page the product frames (general page, macro, panel): after verification the
   * response gets `Content-Security-Policy: frame-ancestors <tenant baseUrl/displayUrl origins>` and,
   * when the request came over https, `Strict-Transport-Security`. Behind a TLS-terminating proxy,
   * https is detected from `X-Forwarded-Proto` only when the HTTP adapter trusts the proxy
   * (`app.set('trust proxy', …)` on Express, `new FastifyAdapter({ trustProxy })` on Fastify). `@ConnectPage()` is the shorthand.
   */
  page?: boolean;
}

export const CONNECT_AUTH_OPTIONS = 'atlassian-connect-nest:auth-options';

/**
 * Requires a valid Connect JWT (HS256, signed with the tenant's shared secret, qsh bound to the
 * request) on a controller or route. The verified context is available through `@ConnectContext()`.
 *
 * @example
 * ```ts
 * @Controller('jira/api')
 * @ConnectAuth()
 * export class IssuesController {
 *   @Get('whoami')
 *   whoami(@ConnectContext() ctx: ConnectRequestContext) { return { clientKey: ctx.clientKey }; }
 *
 *   @Get('panel-data')
 *   @ConnectAuth({ qsh: 'context' })
 *   panelData(@ConnectContext() ctx: ConnectRequestContext) { … }
 * }
 * ```
 */
export function ConnectAuth(options: ConnectAuthOptions = {}): MethodDecorator & ClassDecorator {
  return applyDecorators(SetMetadata(CONNECT_AUTH_OPTIONS, { qsh: 'request', ...options }), UseGuards(ConnectAuthGuard));
}

/**
 * `@ConnectAuth({ page: true })`: a Connect-authenticated page the product frames, answered with a
 * `frame-ancestors` policy for the tenant's site (and HSTS over https).
 *
 * @example
 * ```ts
 * @Get('pages/hello') @ConnectPage() @Header('content-type', 'text/html; charset=utf-8')
 * page(@ConnectContext() ctx: ConnectRequestContext) { return render(ctx); }
 * ```
 */
export function ConnectPage(options: Omit<ConnectAuthOptions, 'page'> = {}): MethodDecorator & ClassDecorator {
  return ConnectAuth({ ...options, page: true });
}
