import { Inject, Injectable, Logger } from '@nestjs/common';
import { jwtVerify, type JWTPayload } from 'jose';
import { RESOLVED_CONNECT_OPTIONS } from '../../config/resolve-connect-options.js';
import type { ResolvedConnectOptions } from '../../config/resolved-connect-options.js';
import type { ResolvedConnectApp } from '../../config/resolved-connect-app.js';
import { ConnectError } from '../../errors/connect-error.js';
import { INSTALL_KEY_RESOLVER, type InstallKeyResolver, type InstallKeySite } from '../../keys/install-key-resolver.js';
import { isSafeKid } from '../../keys/kid.js';
import { assertConnectClaims, audienceMatches, decodeUnverified, type ConnectJwtClaims } from './connect-jwt-claims.js';
import { checkQueryStringHash, type IncomingRequest } from './connect-token-verifier.js';
import { fromJoseError } from './jose-errors.js';

/**
 * Verifies the RS256 tokens Atlassian signs `installed` and `uninstalled` with ("signed install"):
 * the key comes from the install-keys host by `kid`, the audience must be this app's baseUrl, the
 * issuer must be the clientKey of the payload, and the qsh must be bound to the request (a context
 * token is never accepted here). The payload's site (already checked against the app's
 * `allowedHostPatterns`) picks the key hosts of its environment; the token never does.
 */
@Injectable()
export class InstallTokenVerifier {
  private readonly logger = new Logger('ConnectLifecycle');
  private readonly leewaySeconds: number;
  private readonly maxLifetimeSeconds: number;

  constructor(
    @Inject(INSTALL_KEY_RESOLVER) private readonly keys: InstallKeyResolver,
    @Inject(RESOLVED_CONNECT_OPTIONS) options: ResolvedConnectOptions,
  ) {
    this.leewaySeconds = options.leewaySeconds;
    this.maxLifetimeSeconds = options.maxTokenLifetimeSeconds;
  }

  async verify(app: ResolvedConnectApp, request: IncomingRequest, payloadClientKey: unknown, site: InstallKeySite = { baseUrl: undefined }): Promise<ConnectJwtClaims> {
    const { header } = decodeUnverified(request.token);
    if (header.alg !== 'RS256') {
      throw ConnectError.create(
        'jwt/unsupported-alg',
        `Install and uninstall callbacks must be signed by Atlassian with RS256, not ${JSON.stringify(header.alg)}. Enable the "signed-install" API migration.`,
      );
    }
    if (!isSafeKid(header.kid)) {
      throw ConnectError.create('jwt/invalid-kid', 'The JWT key id (kid) is missing or not of a valid form.');
    }
    const key = await this.keys.resolve(header.kid, { baseUrl: typeof site.baseUrl === 'string' ? site.baseUrl : undefined });
    let claims: JWTPayload;
    try {
      ({ payload: claims } = await jwtVerify(request.token, key, {
        algorithms: ['RS256'],
        clockTolerance: this.leewaySeconds,
        requiredClaims: ['exp', 'iss', 'aud'],
      }));
    } catch (error) {
      throw fromJoseError(error);
    }
    assertConnectClaims(claims, this.leewaySeconds, this.maxLifetimeSeconds);
    if (!audienceMatches(claims.aud, app.audiences)) {
      throw ConnectError.create('jwt/invalid-aud', `The install was signed for another app (aud is not ${app.baseUrl}).`, { app: app.key });
    }
    if (typeof payloadClientKey !== 'string' || claims.iss !== payloadClientKey) {
      throw ConnectError.create('jwt/iss-mismatch', 'The JWT issuer (iss) is not the clientKey of the payload.', { app: app.key });
    }
    checkQueryStringHash(this.logger, app, request, claims, false);
    return claims;
  }
}
