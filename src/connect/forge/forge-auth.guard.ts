import { Inject, Injectable, type CanActivate, type ExecutionContext } from '@nestjs/common';
import { HttpAdapterHost, Reflector } from '@nestjs/core';
import { ConnectAppRegistry } from '../config/connect-app-registry.js';
import { RESOLVED_CONNECT_OPTIONS } from '../config/resolve-connect-options.js';
import type { ResolvedConnectOptions } from '../config/resolved-connect-options.js';
import type { ResolvedConnectApp } from '../config/resolved-connect-app.js';
import { ConnectError } from '../errors/connect-error.js';
import { requestFacts } from '../http/http-request-facts.js';
import { assertHeaderCount } from '../http/request-limits.js';
import { FORGE_AUTH_OPTIONS, type ForgeAuthOptions } from './forge-auth.constants.js';
import { forgeOAuthTokensOf } from './forge-oauth-headers.js';
import { createForgeInvocationContext, type ForgeOAuthTokens } from './forge-invocation-context.js';
import { FORGE_CONTEXT, type RequestWithForgeContext } from './forge-request.js';
import { bearerTokenOf } from './forge-token-claims.js';
import { ForgeTokenVerifier, type VerifiedForgeInvocation } from './forge-token-verifier.js';
import { ForgeInstallations } from './forge-installations.js';

/**
 * The guard behind `@ForgeAuth()`. Its steps are protected methods so an app can subclass it. Failures
 * are thrown as `ConnectError` and answered by `ConnectExceptionFilter` as typed 401/503 responses
 * (`WWW-Authenticate: Bearer`). Reads the request only through adapter-neutral facts and headers.
 */
@Injectable()
export class ForgeAuthGuard implements CanActivate {
  constructor(
    protected readonly reflector: Reflector,
    protected readonly adapterHost: HttpAdapterHost,
    protected readonly registry: ConnectAppRegistry,
    protected readonly verifier: ForgeTokenVerifier,
    @Inject(RESOLVED_CONNECT_OPTIONS) protected readonly options: ResolvedConnectOptions,
    protected readonly installations: ForgeInstallations,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const options = this.optionsOf(context);
    const request = context.switchToHttp().getRequest<RequestWithForgeContext & { headers?: Record<string, string | string[] | undefined> }>();
    const pinned = this.pinnedAppOf(options);
    try {
      assertHeaderCount(request, this.options.maxRequestHeaders);
      const facts = requestFacts(this.adapterHost.httpAdapter, request);
      const token = bearerTokenOf(facts.authorization);
      const verified = await this.verifier.verify(token, pinned);
      const { claims, ...fields } = verified;
      const tokens = this.tokensOf(request.headers ?? {});
      request[FORGE_CONTEXT] = createForgeInvocationContext({ ...fields, claims }, tokens);
      // Keeps the installation record and the saved system token current; never fails the call.
      await this.installations.observe(verified, tokens.systemToken);
      if (options.requireLicense === true) assertLicensed(verified);
    } catch (error) {
      if (error instanceof ConnectError) error.realm = pinned?.key ?? 'forge';
      throw error;
    }
    return true;
  }

  protected optionsOf(context: ExecutionContext): ForgeAuthOptions {
    return this.reflector.getAllAndOverride<ForgeAuthOptions>(FORGE_AUTH_OPTIONS, [context.getHandler(), context.getClass()]) ?? {};
  }

  /** The app a route is pinned to with `@ForgeAuth({ app })`; a misconfigured pin is a server error. */
  protected pinnedAppOf(options: ForgeAuthOptions): ResolvedConnectApp | undefined {
    if (options.app === undefined) return undefined;
    const app = this.registry.get(options.app);
    if (app === undefined || app.forgeAppId === undefined) {
      throw ConnectError.create(
        'config/invalid',
        app === undefined
          ? `@ForgeAuth names app ${JSON.stringify(options.app)}, which is not configured.`
          : `@ForgeAuth names app ${JSON.stringify(options.app)}, which has no forge.appId; add it to the app's options.`,
      );
    }
    return app;
  }

  /** The `x-forge-oauth-*` tokens; a repeated or oversized header is refused, never guessed at. */
  protected tokensOf(headers: Record<string, string | string[] | undefined>): ForgeOAuthTokens {
    return forgeOAuthTokensOf(headers);
  }
}

/** `requireLicense`: an active licence, or no licence claim at all outside production. */
function assertLicensed(verified: VerifiedForgeInvocation): void {
  const license = verified.license;
  if (license?.isActive === true) return;
  const type = verified.environment.type?.toUpperCase();
  if (license === undefined && (type === 'DEVELOPMENT' || type === 'STAGING')) return;
  throw ConnectError.create(
    'forge/unlicensed',
    license === undefined
      ? 'This route needs a licensed installation, and the Forge call carries no licence.'
      : 'This route needs an active licence; the site’s licence is not active.',
    { forgeAppId: verified.appId, installationId: verified.installationId },
  );
}
