import { createSecretKey, randomBytes } from 'node:crypto';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { decodeJwt, decodeProtectedHeader, errors as joseErrors, jwtVerify, type JWTPayload } from 'jose';
import { BodyTooLargeError, closeServer, nowSeconds, readBody, sendJson, splitTarget, startLoopbackServer } from './fake-http.js';

/** `grant_type` of the JWT-bearer grant (RFC 7523) that Connect apps use to act as a user. */
export const JWT_BEARER_GRANT_TYPE = 'urn:ietf:params:oauth:grant-type:jwt-bearer';
/** Prefix of the assertion's `iss`: followed by the installation's `oauthClientId`. */
export const CONNECT_CLIENT_ID_PREFIX = 'urn:atlassian:connect:clientid:';
/** Prefix of the assertion's `sub`: followed by the user's account id. */
export const CONNECT_USER_ACCOUNT_PREFIX = 'urn:atlassian:connect:useraccountid:';
/** Where the token endpoint lives below the authorization server URL. */
export const OAUTH_TOKEN_PATH = '/oauth2/token';

const KNOWN_SCOPES = ['READ', 'WRITE', 'DELETE', 'PROJECT_ADMIN', 'SPACE_ADMIN', 'ADMIN', 'ACT_AS_USER'] as const;
/** What a declared scope implies (ADMIN includes everything below it, and so on). */
const IMPLIED: Record<string, readonly string[]> = {
  READ: ['READ'],
  WRITE: ['READ', 'WRITE'],
  DELETE: ['READ', 'WRITE', 'DELETE'],
  PROJECT_ADMIN: ['READ', 'WRITE', 'DELETE', 'PROJECT_ADMIN'],
  SPACE_ADMIN: ['READ', 'WRITE', 'DELETE', 'SPACE_ADMIN'],
  ADMIN: ['READ', 'WRITE', 'DELETE', 'PROJECT_ADMIN', 'SPACE_ADMIN', 'ADMIN'],
  ACT_AS_USER: ['ACT_AS_USER'],
};

/** One app installation the authorization server can issue user tokens for. */
export interface FakeOAuthClient {
  /** The site's baseUrl: the assertion's `tnt` must equal it (trailing slashes ignored). */
  siteBaseUrl: string;
  /** The installation's `oauthClientId` (from the `installed` payload). */
  oauthClientId: string;
  /** The installation's shared secret: the assertion is HS256-signed with it. */
  sharedSecret: string;
  appKey: string;
  /**
   * The app's descriptor scopes. When given, a token request is refused with 403 unless they include
   * `ACT_AS_USER`, and with 400 `invalid_scope` when it asks for more than they grant. Default: not checked.
   */
  scopes?: readonly string[];
}

/** What an access token stands for. */
export interface FakeAccessGrant {
  accessToken: string;
  accountId: string;
  /** The granted scopes, upper case, space separated, as requested. */
  scope: string;
  siteBaseUrl: string;
  appKey: string;
  oauthClientId: string;
  /** Epoch milliseconds. */
  expiresAt: number;
}

/** One request to the token endpoint, as recorded for assertions. */
export interface FakeTokenRequest {
  time: Date;
  status: number;
  /** From the assertion (unverified when the request was refused). */
  accountId?: string;
  scope?: string;
  /** Why the request was refused, when it was (an OAuth error code and a sentence). */
  refusal?: string;
}

/** An error answer of the token endpoint, see {@link FakeAuthorizationServer.failNext}. */
export interface FakeTokenFailure {
  /** e.g. 401, 403, 429, 503. */
  status: number;
  /** OAuth error code; default `invalid_client` for 401, `access_denied` for 403, `invalid_grant` for other 4xx, `server_error` for 5xx. */
  error?: string;
  errorDescription?: string;
  /** `Retry-After`: seconds, or an HTTP date. */
  retryAfter?: number | string | Date;
}

export interface FakeAuthorizationServerOptions {
  /** Default 0 (a free port). */
  port?: number;
  /** Lifetime of issued access tokens in seconds. Default 900. */
  expiresIn?: number;
  /** The `aud` assertions must carry. Default: the server's own URL. */
  audience?: string;
  /** Longest accepted `exp - now` of an assertion, in seconds. Default 60. */
  maxAssertionLifetimeSeconds?: number;
  /** Clock leeway in seconds. Default 5. */
  leewaySeconds?: number;
}

class TokenRefusal extends Error {
  constructor(
    readonly status: number,
    readonly error: string,
    message: string,
  ) {
    super(message);
  }
}

/**
 * A stand-in for Atlassian's OAuth 2.0 authorization server (`https://oauth-2-authorization-server.services.atlassian.com`):
 * answers the JWT-bearer grant at `<url>/oauth2/token` over real HTTP on 127.0.0.1 and verifies the
 * assertion as Atlassian does (PROTOCOL.md §6). Its access tokens are accepted as `Authorization: Bearer`
 * by every {@link FakeProductApi} that uses this server, and act as the asserted user.
 */
export class FakeAuthorizationServer {
  /** The authorization server URL (no trailing slash): the assertion's `aud`, and the token endpoint is `<url>/oauth2/token`. */
  readonly url: string;
  readonly port: number;
  /** The `aud` assertions must carry. */
  readonly audience: string;

  private readonly clients = new Map<string, FakeOAuthClient>();
  private readonly grants = new Map<string, FakeAccessGrant>();
  private readonly log: FakeTokenRequest[] = [];
  private readonly failures: FakeTokenFailure[] = [];
  private always: FakeTokenFailure | null = null;
  private issued = 0;
  private readonly expiresIn: number;
  private readonly maxAssertionLifetime: number;
  private readonly leeway: number;

  private constructor(
    private readonly server: Server,
    port: number,
    options: FakeAuthorizationServerOptions,
  ) {
    this.port = port;
    this.url = `http://127.0.0.1:${port}`;
    this.audience = (options.audience ?? this.url).replace(/\/+$/, '');
    this.expiresIn = options.expiresIn ?? 900;
    this.maxAssertionLifetime = options.maxAssertionLifetimeSeconds ?? 60;
    this.leeway = options.leewaySeconds ?? 5;
  }

  static async start(options: FakeAuthorizationServerOptions = {}): Promise<FakeAuthorizationServer> {
    let instance: FakeAuthorizationServer | undefined;
    const { server, port } = await startLoopbackServer(options.port ?? 0, async (req, res) => {
      if (instance === undefined) return sendJson(res, 503, { error: 'temporarily_unavailable' });
      await instance.handle(req, res);
    });
    instance = new FakeAuthorizationServer(server, port, options);
    return instance;
  }

  /** The token endpoint, `<url>/oauth2/token`. */
  get tokenUrl(): string {
    return this.url + OAUTH_TOKEN_PATH;
  }

  /** Lets an installation obtain user tokens (replaces an earlier registration of the same site and oauthClientId). */
  register(client: FakeOAuthClient): this {
    this.clients.set(clientId(client.siteBaseUrl, client.oauthClientId), { ...client });
    return this;
  }

  /** Stops issuing tokens to an installation and revokes the tokens it holds. */
  unregister(siteBaseUrl: string, oauthClientId: string): boolean {
    for (const [token, grant] of this.grants) {
      if (sameUrl(grant.siteBaseUrl, siteBaseUrl) && grant.oauthClientId === oauthClientId) this.grants.delete(token);
    }
    return this.clients.delete(clientId(siteBaseUrl, oauthClientId));
  }

  /** Every request to the token endpoint so far, oldest first. */
  get tokenRequests(): readonly FakeTokenRequest[] {
    return this.log;
  }

  /** How many access tokens were issued. */
  get issuedCount(): number {
    return this.issued;
  }

  /** The next `count` token requests are answered with this error instead (after earlier `failNext` calls are used up). */
  failNext(count: number, failure: FakeTokenFailure): this {
    if (!Number.isInteger(count) || count < 0) throw new RangeError('count must be a non-negative integer');
    for (let i = 0; i < count; i++) this.failures.push({ ...failure });
    return this;
  }

  /** Answers every token request with this error (e.g. 403 for an app without ACT_AS_USER); `null` to stop. */
  respondWith(failure: FakeTokenFailure | null): this {
    this.always = failure;
    return this;
  }

  /** What an access token stands for, if it was issued here and has not expired or been revoked. */
  grantOf(accessToken: string): FakeAccessGrant | undefined {
    const grant = this.grants.get(accessToken);
    if (grant === undefined) return undefined;
    return grant.expiresAt > Date.now() ? grant : undefined;
  }

  /** Whether the token was issued here (expired or not). */
  knows(accessToken: string): boolean {
    return this.grants.has(accessToken);
  }

  /** Makes one token, or every token, expire now (to test that a client fetches a new one). */
  expire(accessToken?: string): this {
    for (const grant of this.grants.values()) {
      if (accessToken === undefined || grant.accessToken === accessToken) grant.expiresAt = Date.now() - 1;
    }
    return this;
  }

  /** Clears the request log, the counter and the fault settings (registrations and tokens stay). */
  reset(): this {
    this.log.length = 0;
    this.failures.length = 0;
    this.always = null;
    this.issued = 0;
    return this;
  }

  async close(): Promise<void> {
    await closeServer(this.server);
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const { path } = splitTarget(req.url ?? '/');
    if (path !== OAUTH_TOKEN_PATH) return sendJson(res, 404, { error: 'not_found', error_description: `No endpoint at ${path}.` });
    if (req.method !== 'POST') return sendJson(res, 405, { error: 'invalid_request', error_description: 'Use POST.' }, { allow: 'POST' });
    const entry: FakeTokenRequest = { time: new Date(), status: 0 };
    this.log.push(entry);
    const failure = this.failures.shift() ?? this.always;
    if (failure !== null) {
      entry.status = failure.status;
      entry.refusal = `${failure.error ?? defaultError(failure.status)}: injected failure`;
      const headers: Record<string, string> = {};
      if (failure.retryAfter !== undefined) headers['retry-after'] = retryAfterValue(failure.retryAfter);
      if (failure.status === 401) headers['www-authenticate'] = 'Bearer error="invalid_client"';
      return sendJson(res, failure.status, { error: failure.error ?? defaultError(failure.status), error_description: failure.errorDescription ?? 'Injected failure.' }, headers);
    }
    try {
      const grant = await this.grant(req, entry);
      entry.status = 200;
      this.issued++;
      sendJson(res, 200, { access_token: grant.accessToken, expires_in: this.expiresIn, token_type: 'Bearer', scope: grant.scope });
    } catch (error) {
      if (!(error instanceof TokenRefusal)) throw error;
      entry.status = error.status;
      entry.refusal = `${error.error}: ${error.message}`;
      sendJson(res, error.status, { error: error.error, error_description: error.message });
    }
  }

  private async grant(req: IncomingMessage, entry: FakeTokenRequest): Promise<FakeAccessGrant> {
    const contentType = String(req.headers['content-type'] ?? '')
      .split(';')[0]
      ?.trim()
      .toLowerCase();
    let text: string;
    try {
      text = await readBody(req);
    } catch (error) {
      if (error instanceof BodyTooLargeError) throw new TokenRefusal(413, 'invalid_request', error.message);
      throw error;
    }
    if (contentType !== 'application/x-www-form-urlencoded') {
      throw new TokenRefusal(400, 'invalid_request', 'The token request must be form-encoded (application/x-www-form-urlencoded).');
    }
    const form = new URLSearchParams(text);
    const grantType = form.get('grant_type');
    if (grantType !== JWT_BEARER_GRANT_TYPE) {
      throw new TokenRefusal(400, 'unsupported_grant_type', `grant_type must be ${JWT_BEARER_GRANT_TYPE}, not ${JSON.stringify(grantType)}.`);
    }
    const assertion = form.get('assertion');
    if (!assertion) throw new TokenRefusal(400, 'invalid_request', 'The assertion parameter is missing.');
    const scopes = (form.get('scope') ?? '')
      .split(/\s+/)
      .filter((s) => s !== '')
      .map((s) => s.toUpperCase());
    entry.scope = scopes.join(' ');

    let unverified: JWTPayload;
    try {
      const header = decodeProtectedHeader(assertion);
      if (header.alg !== 'HS256') throw new TokenRefusal(400, 'invalid_grant', `The assertion must be signed with HS256, not ${JSON.stringify(header.alg)}.`);
      unverified = decodeJwt(assertion);
    } catch (error) {
      if (error instanceof TokenRefusal) throw error;
      throw new TokenRefusal(400, 'invalid_grant', 'The assertion is not a JWT.');
    }
    const sub = typeof unverified.sub === 'string' ? unverified.sub : '';
    if (sub.startsWith(CONNECT_USER_ACCOUNT_PREFIX)) entry.accountId = sub.slice(CONNECT_USER_ACCOUNT_PREFIX.length);
    const iss = typeof unverified.iss === 'string' ? unverified.iss : '';
    if (!iss.startsWith(CONNECT_CLIENT_ID_PREFIX)) {
      throw new TokenRefusal(400, 'invalid_grant', `The assertion's iss must be ${CONNECT_CLIENT_ID_PREFIX}<oauthClientId>.`);
    }
    if (typeof unverified.tnt !== 'string') throw new TokenRefusal(400, 'invalid_grant', "The assertion's tnt (the site's baseUrl) is missing.");
    const client = this.clients.get(clientId(unverified.tnt, iss.slice(CONNECT_CLIENT_ID_PREFIX.length)));
    if (client === undefined) {
      throw new TokenRefusal(401, 'invalid_client', `No installation with oauthClientId ${iss.slice(CONNECT_CLIENT_ID_PREFIX.length)} on ${unverified.tnt}.`);
    }

    let claims: JWTPayload;
    try {
      ({ payload: claims } = await jwtVerify(assertion, createSecretKey(Buffer.from(client.sharedSecret, 'utf8')), {
        algorithms: ['HS256'],
        audience: [this.audience, `${this.audience}/`],
        clockTolerance: this.leeway,
        requiredClaims: ['iss', 'sub', 'aud', 'iat', 'exp', 'tnt'],
      }));
    } catch (error) {
      throw new TokenRefusal(400, 'invalid_grant', assertionProblem(error, this.audience));
    }
    const now = nowSeconds();
    if (typeof claims.iat !== 'number' || claims.iat > now + this.leeway) throw new TokenRefusal(400, 'invalid_grant', "The assertion's iat is in the future.");
    if ((claims.exp ?? 0) - now > this.maxAssertionLifetime + this.leeway) {
      throw new TokenRefusal(400, 'invalid_grant', `The assertion's exp is more than ${this.maxAssertionLifetime} seconds ahead.`);
    }
    if (!sub.startsWith(CONNECT_USER_ACCOUNT_PREFIX) || sub.length === CONNECT_USER_ACCOUNT_PREFIX.length) {
      throw new TokenRefusal(400, 'invalid_grant', `The assertion's sub must be ${CONNECT_USER_ACCOUNT_PREFIX}<accountId>.`);
    }
    if (scopes.length === 0) throw new TokenRefusal(400, 'invalid_scope', 'The scope parameter is missing (e.g. "READ WRITE").');
    const unknown = scopes.filter((s) => !(KNOWN_SCOPES as readonly string[]).includes(s));
    if (unknown.length > 0) throw new TokenRefusal(400, 'invalid_scope', `Unknown scope ${unknown.join(', ')}.`);
    if (client.scopes !== undefined) {
      const granted = new Set(client.scopes.flatMap((s) => IMPLIED[s.toUpperCase()] ?? []));
      if (!granted.has('ACT_AS_USER')) throw new TokenRefusal(403, 'access_denied', `The app ${client.appKey} does not have the ACT_AS_USER scope.`);
      const excess = scopes.filter((s) => !granted.has(s));
      if (excess.length > 0) throw new TokenRefusal(400, 'invalid_scope', `The app ${client.appKey} was not granted ${excess.join(', ')}.`);
    }
    const grant: FakeAccessGrant = {
      accessToken: `fake-at-${randomBytes(24).toString('base64url')}`,
      accountId: sub.slice(CONNECT_USER_ACCOUNT_PREFIX.length),
      scope: scopes.join(' '),
      siteBaseUrl: client.siteBaseUrl.replace(/\/+$/, ''),
      appKey: client.appKey,
      oauthClientId: client.oauthClientId,
      expiresAt: Date.now() + this.expiresIn * 1000,
    };
    this.grants.set(grant.accessToken, grant);
    return grant;
  }
}

function clientId(siteBaseUrl: string, oauthClientId: string): string {
  return `${siteBaseUrl.replace(/\/+$/, '')} ${oauthClientId}`;
}

function sameUrl(a: string, b: string): boolean {
  return a.replace(/\/+$/, '') === b.replace(/\/+$/, '');
}

function defaultError(status: number): string {
  if (status === 401) return 'invalid_client';
  if (status === 403) return 'access_denied';
  if (status === 429) return 'rate_limited';
  if (status >= 500) return 'server_error';
  return 'invalid_grant';
}

/** `Retry-After` as sent: whole seconds, or an HTTP date. */
export function retryAfterValue(value: number | string | Date): string {
  if (value instanceof Date) return value.toUTCString();
  return String(value);
}

function assertionProblem(error: unknown, audience: string): string {
  if (error instanceof joseErrors.JWTExpired) return 'The assertion has expired.';
  if (error instanceof joseErrors.JWSSignatureVerificationFailed) return "The assertion's signature does not verify with the installation's shared secret.";
  if (error instanceof joseErrors.JWTClaimValidationFailed) {
    if (error.claim === 'aud') return `The assertion's aud must be ${audience}.`;
    return `The assertion's ${error.claim} claim is ${error.reason === 'missing' ? 'missing' : 'invalid'}.`;
  }
  return `The assertion is invalid: ${error instanceof Error ? error.message : String(error)}`;
}
