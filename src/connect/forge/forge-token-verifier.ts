import { Inject, Injectable } from '@nestjs/common';
import { jwtVerify, type JWTPayload } from 'jose';
import { ConnectAppRegistry } from '../config/connect-app-registry.js';
import { RESOLVED_CONNECT_OPTIONS } from '../config/resolve-connect-options.js';
import type { ResolvedConnectOptions } from '../config/resolved-connect-options.js';
import type { ResolvedConnectApp } from '../config/resolved-connect-app.js';
import { ConnectError } from '../errors/connect-error.js';
import { FORGE_INVOCATION_TOKEN_ISSUER, forgeAppAri } from './forge-app-id.js';
import { ForgeJwks } from './forge-jwks.js';
import { assertForgeClaims, assertForgeIssuer, decodeUnverifiedFit, forgeAppIdOfAudience, fromJoseFitError, type ForgeInvocationClaims } from './forge-token-claims.js';

/** A FIT that verified, and the Connect app it is for. */
export interface VerifiedForgeInvocation extends ForgeInvocationClaims {
  readonly app: ResolvedConnectApp;
  readonly claims: Readonly<JWTPayload>;
}

/**
 * Verifies Forge Invocation Tokens: RS256 only, signed by a key of the configured JWKS (never a URL from
 * the token), `iss` = `forge/invocation-token`, `aud` = the ARI of a Forge app id configured on one of
 * the apps (which picks the app), `exp` required, `nbf`/`iat` with leeway, and the `app` claim complete.
 * Everything that can be refused without a key is refused before the JWKS is consulted.
 */
@Injectable()
export class ForgeTokenVerifier {
  private readonly leewaySeconds: number;
  private readonly maxLifetimeSeconds: number;

  constructor(
    private readonly registry: ConnectAppRegistry,
    private readonly jwks: ForgeJwks,
    @Inject(RESOLVED_CONNECT_OPTIONS) options: ResolvedConnectOptions,
  ) {
    this.leewaySeconds = options.forge.leewaySeconds;
    this.maxLifetimeSeconds = options.maxTokenLifetimeSeconds;
  }

  /**
   * Verifies `token` (the bearer token of the request). With `pinned`, the token must be for that app's
   * Forge app id; otherwise any configured Forge app id is accepted and chooses the app.
   */
  async verify(token: string, pinned?: ResolvedConnectApp): Promise<VerifiedForgeInvocation> {
    const { claims: unverified } = decodeUnverifiedFit(token);
    assertForgeIssuer(unverified);
    const appId = forgeAppIdOfAudience(unverified.aud, (id) => this.registry.getByForgeAppId(id) !== undefined);
    const app = this.registry.getByForgeAppId(appId)!;
    if (pinned !== undefined && pinned.key !== app.key) {
      throw ConnectError.create('forge/invalid-aud', `This route takes Forge calls for the app ${pinned.key} only; the token is for another app.`, {
        forgeAppId: appId,
      });
    }

    let claims: JWTPayload;
    try {
      ({ payload: claims } = await jwtVerify(token, this.jwks.key, {
        algorithms: ['RS256'],
        issuer: FORGE_INVOCATION_TOKEN_ISSUER,
        audience: forgeAppAri(appId),
        clockTolerance: this.leewaySeconds,
        requiredClaims: ['exp'],
      }));
    } catch (error) {
      throw fromJoseFitError(error);
    }
    const checked = assertForgeClaims(claims, appId, {
      leewaySeconds: this.leewaySeconds,
      maxLifetimeSeconds: this.maxLifetimeSeconds,
      allowLoopbackApiBaseUrl: this.jwks.isLocal,
    });
    return { ...checked, app, claims: Object.freeze(claims) };
  }
}
