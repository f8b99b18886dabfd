import { Inject, Injectable } from '@nestjs/common';
import { jwtVerify, type JWTPayload } from 'jose';
import { ConnectAppRegistry } from '../config/connect-app-registry.js';
import { RESOLVED_CONNECT_OPTIONS } from '../config/resolve-connect-options.js';
import type { ResolvedConnectOptions } from '../config/resolved-connect-options.js';
import type { ResolvedConnectApp } from '../config/resolved-connect-app.js';
import { ConnectError } from '../errors/connect-error.js';
import { FORGE_INVOCATION_TOKEN_ISSUER, forgeAppAri } from './forge-app-id.js';
import { ForgeJwks } from './forge-jwks.js';
import {
  assertForgeClaims,
  assertForgeIssuer,
  decodeUnverifiedFit,
  forgeAppIdOfAudience,
  fromJoseFitError,
  isolatedCloudLabelOf,
  type ForgeInvocationClaims,
} from './forge-token-claims.js';

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
 *
 * A token with an `icLabel` comes from an Isolated Cloud environment: it is verified with the JWKS
 * configured for that label (`forge.isolatedCloudJwksUrls`) and with no other, and refused with
 * `forge/unknown-isolated-cloud` when none is configured; a token without one uses `forge.jwksUrl`.
 */
@Injectable()
export class ForgeTokenVerifier {
  private readonly leewaySeconds: number;
  private readonly maxLifetimeSeconds: number;
  /** The key set of each configured Isolated Cloud label. */
  private readonly isolatedCloudJwks: ReadonlyMap<string, ForgeJwks>;

  constructor(
    private readonly registry: ConnectAppRegistry,
    private readonly jwks: ForgeJwks,
    @Inject(RESOLVED_CONNECT_OPTIONS) options: ResolvedConnectOptions,
  ) {
    const { forge } = options;
    this.leewaySeconds = forge.leewaySeconds;
    this.maxLifetimeSeconds = options.maxTokenLifetimeSeconds;
    this.isolatedCloudJwks = new Map(
      [...forge.isolatedCloudJwksUrls].map(([label, url]) => [
        label,
        new ForgeJwks({ url, timeoutMs: forge.jwksTimeoutMs, cooldownMs: forge.jwksCooldownMs, cacheMaxAgeMs: forge.jwksCacheMaxAgeMs }),
      ]),
    );
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
    const icLabel = isolatedCloudLabelOf(unverified, appId);
    const keys = this.keySetOf(icLabel, appId);

    let claims: JWTPayload;
    try {
      ({ payload: claims } = await jwtVerify(token, keys.key, {
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
      allowLoopbackApiBaseUrl: keys.isLocal,
    });
    // The payload that verified is the one the label was read from; checked anyway, as the key set hangs on it.
    if (checked.icLabel !== icLabel) {
      throw ConnectError.create('forge/invalid-token', 'The icLabel of the Forge Invocation Token changed during verification.', { forgeAppId: appId });
    }
    return { ...checked, app, claims: Object.freeze(claims) };
  }

  /** The key set a token is verified with: its Isolated Cloud label's, only when configured, else the production one. */
  private keySetOf(icLabel: string | undefined, appId: string): ForgeJwks {
    if (icLabel === undefined) return this.jwks;
    const keys = this.isolatedCloudJwks.get(icLabel);
    if (keys === undefined) {
      throw ConnectError.create(
        'forge/unknown-isolated-cloud',
        `The token comes from the Isolated Cloud "${icLabel}", which this service is not configured for (forge.isolatedCloudJwksUrls).`,
        { forgeAppId: appId, icLabel },
      );
    }
    return keys;
  }
}
