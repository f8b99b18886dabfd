import { applyDecorators, SetMetadata, UseGuards } from '@nestjs/common';
import { CONNECT_AUTH_OPTIONS, type ConnectAuthOptions } from './connect-auth.constants.js';
import { ConnectAuthGuard } from './connect-auth.guard.js';

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
  return applyDecorators(ConnectAuthMetadata(options), UseGuards(ConnectAuthGuard));
}

/**
 * The options of `@ConnectAuth()` without its guard: for a route guarded by your own subclass of
 * `ConnectAuthGuard` (which reads them the same way).
 *
 * @example
 * ```ts
 * @Injectable()
 * export class AuditedConnectAuthGuard extends ConnectAuthGuard {
 *   protected override appOf(options: ConnectAuthOptions, facts: HttpRequestFacts) { … }
 * }
 *
 * @Get('api/report') @ConnectAuthMetadata({ qsh: 'context' }) @UseGuards(AuditedConnectAuthGuard)
 * report(@ConnectContext() ctx: ConnectRequestContext) { … }
 * ```
 */
export function ConnectAuthMetadata(options: ConnectAuthOptions = {}): MethodDecorator & ClassDecorator {
  return SetMetadata(CONNECT_AUTH_OPTIONS, { qsh: 'request', ...options });
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
