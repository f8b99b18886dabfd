import type { AbstractHttpAdapter } from '@nestjs/core';
import type { ResolvedConnectApp } from '../config/resolved-connect-app.js';
import { ConnectError } from '../errors/connect-error.js';
import { requestFacts, type HttpRequestFacts } from '../http/http-request-facts.js';
import { assertHeaderCount } from '../http/request-limits.js';
import type { ForgeOAuthTokens } from './forge-invocation-context.js';
import { forgeOAuthTokensOf } from './forge-oauth-headers.js';
import { bearerTokenOf } from './forge-token-claims.js';
import type { ForgeTokenVerifier, VerifiedForgeInvocation } from './forge-token-verifier.js';

/**
 * The framework-served Forge routes (events, realm migration hooks) of every app, grouped by path:
 * apps that share a path (told apart by their Forge app id) share one route. `pathsOf` gives an app's
 * path per kind, or `undefined` when it serves none.
 */
export function groupForgeRoutes<Kind extends string>(
  apps: readonly ResolvedConnectApp[],
  pathsOf: (app: ResolvedConnectApp) => Readonly<Record<Kind, string>> | undefined,
): Map<string, { kind: Kind; apps: ResolvedConnectApp[] }> {
  const routes = new Map<string, { kind: Kind; apps: ResolvedConnectApp[] }>();
  for (const app of apps) {
    const paths = pathsOf(app);
    if (paths === undefined) continue;
    for (const kind of Object.keys(paths) as Kind[]) {
      const route = routes.get(paths[kind]) ?? { kind, apps: [] };
      route.apps.push(app);
      routes.set(paths[kind], route);
    }
  }
  return routes;
}

/** A request to a framework-served Forge route, its FIT verified for one of the route's apps. */
export interface VerifiedForgeRouteCall {
  readonly facts: HttpRequestFacts;
  readonly verified: VerifiedForgeInvocation;
  readonly tokens: ForgeOAuthTokens;
}

/**
 * The checks every framework-served Forge route makes first: the header count, then the FIT (pinned to
 * the route's app when it has one), which must be for one of `apps` (`forge/invalid-aud` names `what`).
 * Throws the typed `forge/*` errors of the verifier.
 */
export async function verifyForgeRouteCall(
  adapter: AbstractHttpAdapter,
  request: unknown,
  apps: readonly ResolvedConnectApp[],
  verifier: ForgeTokenVerifier,
  maxRequestHeaders: number,
  what: string,
): Promise<VerifiedForgeRouteCall> {
  assertHeaderCount(request, maxRequestHeaders);
  const facts = requestFacts(adapter, request);
  const verified = await verifier.verify(bearerTokenOf(facts.authorization), apps.length === 1 ? apps[0] : undefined);
  if (!apps.includes(verified.app)) throw ConnectError.create('forge/invalid-aud', `This endpoint takes ${what} for other apps; the token is for another app.`);
  const tokens = forgeOAuthTokensOf((request as { headers?: Record<string, string | string[] | undefined> }).headers ?? {});
  return { facts, verified, tokens };
}
