import { hash, timingSafeEqual } from 'node:crypto';
import { Inject, Injectable, Logger } from '@nestjs/common';
import { RESOLVED_CONNECT_OPTIONS } from '../../config/resolve-connect-options.js';
import type { ResolvedConnectOptions } from '../../config/resolved-connect-options.js';
import type { ResolvedConnectApp } from '../../config/resolved-connect-app.js';
import { ConnectError } from '../../errors/connect-error.js';
import { isTenantActive, type ConnectTenant } from '../../tenants/tenant.js';
import { CachingTenantStore } from '../../tenants/caching-tenant-store.js';
import { canonicalRequest } from './canonical-request.js';
import { assertHs256Header, assertTimeClaims, hs256Key, parseCompactJwt, verifyHs256Signature, type CompactJwt, type Hs256Key } from './compact-jwt.js';
import { assertConnectClaims, audienceMatches, CONTEXT_QSH, type ConnectJwtClaims } from './connect-jwt-claims.js';
import { VerifiedRequestCache, type IncomingRequestParts, type VerifiedRequestCacheStats } from './verified-request-cache.js';

/** What a verified request tells the handler. */
export interface ConnectRequestContext {
  readonly app: ResolvedConnectApp;
  readonly tenant: ConnectTenant;
  readonly clientKey: string;
  /** The Atlassian account id of the user (`sub`), absent for calls made by the product itself. */
  readonly accountId: string | undefined;
  readonly claims: Readonly<ConnectJwtClaims>;
  /** True when the token was a context token (`qsh: "context-qsh"`). */
  readonly contextToken: boolean;
}

export interface IncomingRequest {
  readonly method: string;
  /** The raw request URL (path and query) exactly as received. */
  readonly rawUrl: string;
  readonly token: string;
  /** The raw Authorization header (`undefined` when absent), for `HsVerifyOptions.remember`. */
  readonly authorization?: string | string[] | undefined;
}

export interface HsVerifyOptions {
  /** Accept the literal `context-qsh` besides the request-bound hash. */
  readonly allowContextQsh: boolean;
  /** Accept uninstalled or disabled tenants (only for the `enabled`/`disabled` callbacks). */
  readonly allowInactiveTenant: boolean;
  /**
   * Remember a success, so that the same request is answered by `recall` next time (needs
   * `IncomingRequest.authorization`; never used for inactive tenants' callbacks).
   */
  readonly remember?: boolean;
}

/**
 * Verifies the HS256 tokens the product signs with a tenant's shared secret: every authenticated route
 * and the `enabled`/`disabled` callbacks.
 */
@Injectable()
export class ConnectTokenVerifier {
  private readonly logger = new Logger('ConnectAuth');
  private readonly leewaySeconds: number;
  private readonly maxLifetimeSeconds: number;
  /**
   * The HMAC key of each tenant object the store hands out, prepared once. Dropped with the tenant
   * object.
   */
  private readonly keys = new WeakMap<ConnectTenant, Hs256Key>();
  /** Requests verified before (see `recall`); `undefined` when switched off. */
  private readonly remembered: VerifiedRequestCache<ConnectRequestContext> | undefined;

  constructor(
    private readonly tenants: CachingTenantStore,
    @Inject(RESOLVED_CONNECT_OPTIONS) options: ResolvedConnectOptions,
  ) {
    this.leewaySeconds = options.leewaySeconds;
    this.maxLifetimeSeconds = options.maxTokenLifetimeSeconds;
    const cache = options.verifiedRequestCache;
    // A hit is trusted only while the tenant cache still holds the very record the token was checked against.
    this.remembered = cache === false ? undefined : new VerifiedRequestCache(cache.maxEntries, cache.maxKeyLength);
  }

  /**
   * The context of this very request verified before (see `VerifiedRequestCache` for what "this very
   * request" means), when nothing it depended on has changed: the token has not expired (with the
   * leeway) and the tenant store still holds the same tenant record, still active. Anything else is
   * `undefined`, and the caller verifies in full (which gives the right error). A hit costs no
   * decoding, no HMAC and no hashing.
   */
  recall(app: ResolvedConnectApp, request: IncomingRequestParts, allowContextQsh: boolean): ConnectRequestContext | undefined {
    const cache = this.remembered;
    if (cache === undefined) return undefined;
    const entry = cache.find(app, allowContextQsh, request);
    if (entry !== undefined) {
      const verified = entry.verified;
      const now = Date.now() / 1000;
      if (entry.acceptedUntil > now) {
        const tenant = verified.tenant;
        const current = this.tenants.isCurrent(tenant);
        if (current && isTenantActive(tenant)) {
          cache.countHit();
          cache.touch(entry, now);
          return verified;
        }
      }
      cache.forget(entry);
    }
    cache.countMiss();
    return undefined;
  }

  /** Size and hit counts of the verified-request cache (`undefined` when it is off). */
  verifiedRequestCacheStats(): VerifiedRequestCacheStats | undefined {
    return this.remembered?.stats();
  }

  async verify(app: ResolvedConnectApp, request: IncomingRequest, options: HsVerifyOptions): Promise<ConnectRequestContext> {
    const { jwt, iss } = this.decode(request.token);
    const tenant = this.tenants.peek(app.key, iss) ?? (await this.tenants.find(app.key, iss));
    return this.verifyFor(app, tenant, jwt, request, options);
  }

  /**
   * `verify` without waiting, for the steady state: the verified context when the tenant store has the
   * tenant in memory (`CachingTenantStore.peek`), `undefined` when it would have to be looked up (call
   * `verify` then). Throws the same `ConnectError`s as `verify`.
   */
  verifyCached(app: ResolvedConnectApp, request: IncomingRequest, options: HsVerifyOptions): ConnectRequestContext | undefined {
    const { jwt, iss } = this.decode(request.token);
    const tenant = this.tenants.peek(app.key, iss);
    return tenant === undefined ? undefined : this.verifyFor(app, tenant, jwt, request, options);
  }

  /** Decoded once; nothing in it is trusted before the signature check in `verifyFor`. */
  private decode(token: string): { jwt: CompactJwt; iss: string } {
    const jwt = parseCompactJwt(token);
    assertHs256Header(jwt.header);
    const iss = jwt.claims.iss;
    if (typeof iss !== 'string' || iss === '') {
      throw ConnectError.create('jwt/malformed', 'The JWT has no issuer (iss).');
    }
    return { jwt, iss };
  }

  private verifyFor(app: ResolvedConnectApp, tenant: ConnectTenant | null, jwt: CompactJwt, request: IncomingRequest, options: HsVerifyOptions): ConnectRequestContext {
    if (tenant === null) {
      throw ConnectError.create('jwt/unknown-iss', `No installation of ${app.key} has the clientKey named by the token.`, { app: app.key });
    }
    verifyHs256Signature(jwt, this.keyOf(tenant));
    const claims = jwt.claims;
    assertTimeClaims(claims, this.leewaySeconds);
    assertConnectClaims(claims, this.leewaySeconds, this.maxLifetimeSeconds);
    // The products send no aud on request tokens; one that is there must be for this app.
    if (claims.aud !== undefined && !audienceMatches(claims.aud, app.audiences)) {
      throw ConnectError.create('jwt/invalid-aud', `The JWT names another audience (aud is not ${app.baseUrl}).`, { app: app.key });
    }
    if (!options.allowInactiveTenant && !isTenantActive(tenant)) {
      const state = tenant.uninstalledAt !== null ? 'uninstalled' : 'disabled';
      throw ConnectError.create('jwt/tenant-inactive', `The app is ${state} on this site.`, { app: app.key, clientKey: tenant.clientKey });
    }
    const contextToken = this.checkQsh(app, request, claims, options.allowContextQsh);
    const verified: ConnectRequestContext = Object.freeze({
      app,
      tenant,
      clientKey: tenant.clientKey,
      accountId: claims.sub,
      claims: Object.freeze(claims),
      contextToken,
    });
    const authorization = request.authorization;
    if (options.remember === true && !options.allowInactiveTenant && typeof authorization !== 'object') {
      this.remembered?.remember(app, { method: request.method, rawUrl: request.rawUrl, authorization }, contextToken, verified, claims.exp + this.leewaySeconds);
    }
    return verified;
  }

  /** Returns whether the token was a context token; throws `jwt/invalid-qsh` on mismatch. */
  private checkQsh(app: ResolvedConnectApp, request: IncomingRequest, claims: ConnectJwtClaims, allowContext: boolean): boolean {
    return checkQueryStringHash(this.logger, app, request, claims, allowContext);
  }

  private keyOf(tenant: ConnectTenant): Hs256Key {
    let key = this.keys.get(tenant);
    if (key === undefined) {
      key = hs256Key(Buffer.from(tenant.sharedSecret, 'utf8'));
      this.keys.set(tenant, key);
    }
    return key;
  }
}

/**
 * Compares the token's `qsh` with the hash of the request, in constant time. On a mismatch the log line
 * carries the canonical request we computed, so an operator can compare it with what the product
 * signed (a reverse proxy that re-encodes URLs is the usual cause); it never carries the token.
 */
export function checkQueryStringHash(
  logger: Logger,
  app: ResolvedConnectApp,
  request: Pick<IncomingRequest, 'method' | 'rawUrl'>,
  claims: ConnectJwtClaims,
  allowContext: boolean,
): boolean {
  const qsh = claims.qsh;
  if (qsh === CONTEXT_QSH) {
    if (allowContext) return true;
    logger.warn(`Refused a context token (qsh "context-qsh") on ${request.method} ${app.key} route that requires a request-bound token (iss ${claims.iss}).`);
    throw ConnectError.create('jwt/invalid-qsh', 'A context token (qsh "context-qsh") is not accepted on this route.');
  }
  if (typeof qsh !== 'string' || qsh === '') {
    throw ConnectError.create('jwt/invalid-qsh', 'The JWT carries no query string hash (qsh).');
  }
  const canonical = canonicalRequest(request.method, request.rawUrl, app.baseUrl);
  const expected = hash('sha256', canonical, 'hex');
  const given = Buffer.from(qsh, 'utf8');
  const wanted = Buffer.from(expected, 'utf8');
  if (given.length !== wanted.length || !timingSafeEqual(given, wanted)) {
    logger.warn(
      `qsh mismatch for app ${app.key} (iss ${claims.iss}): the canonical request computed here is ${JSON.stringify(canonical)} with hash ${expected}. ` +
        'If the product signed a different URL, a proxy may have re-encoded the path or query.',
    );
    throw ConnectError.create('jwt/invalid-qsh', 'The query string hash (qsh) does not match this request.', { canonicalRequest: canonical });
  }
  return false;
}
