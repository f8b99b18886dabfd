import { jwtPartsAreUtf8 } from '../util/strict-utf8.js';
import { decodeJwt, decodeProtectedHeader, errors, type JWTPayload, type ProtectedHeaderParameters } from 'jose';
import { isLoopbackHost } from '../util/loopback.js';
import { ConnectError } from '../errors/connect-error.js';
import { FORGE_INVOCATION_TOKEN_ISSUER, forgeAppAri, forgeAppIdOfAri } from './forge-app-id.js';
import { objectOf } from '../util/plain-object.js';
import { isIsolatedCloudLabel } from '../util/isolated-cloud-label.js';

/** Longest FIT accepted: real ones are 1-3 KB; the context claim can make them larger, not this large. */
export const MAX_FORGE_TOKEN_LENGTH = 16 * 1024;

/** `app.installationId` of a FIT: `ari:cloud:ecosystem::installation/<uuid>`. */
export const FORGE_INSTALLATION_ARI_PREFIX = 'ari:cloud:ecosystem::installation/';

const JWT_SHAPE = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/;
/** kids are matched against the JWKS, never put in a URL; still, only short plain ones pass. */
const SAFE_KID = /^[A-Za-z0-9._:-]{1,128}$/;
const SAFE_ID = /^[A-Za-z0-9._:/-]{1,256}$/;

/** The parts of a verified FIT a handler reads, checked for shape. */
export interface ForgeInvocationClaims {
  readonly appId: string;
  readonly installationId: string;
  readonly apiBaseUrl: string;
  readonly environment: { readonly type: string | undefined; readonly id: string | undefined };
  readonly module: { readonly type: string | undefined; readonly key: string | undefined } | undefined;
  readonly context: Readonly<Record<string, unknown>>;
  readonly accountId: string | undefined;
  /** `app.appVersion` (e.g. `3.1.0`), when sent. */
  readonly appVersion: string | undefined;
  /** The site's stable id: `context.cloudId`, else the first `app.installation.contexts[].cloudId`. */
  readonly cloudId: string | undefined;
  /** `context.siteUrl` when it is an https URL (`https://example.atlassian.net`). */
  readonly siteUrl: string | undefined;
  /** `app.license`, when sent (paid apps in production). */
  readonly license: ForgeLicense | undefined;
  /** `app.installation.contexts`: the sites and products of this installation. */
  readonly installationContexts: readonly ForgeInstallationContext[];
  /** The top-level `icLabel` (such as `orange`): the call came from that Isolated Cloud environment. `undefined` outside one. */
  readonly icLabel: string | undefined;
}

/** The licence facts of a FIT (`app.license`). A field the token does not carry is `undefined`. */
export interface ForgeLicense {
  readonly isActive: boolean | undefined;
  readonly type: string | undefined;
  readonly isEvaluation: boolean | undefined;
}

/** One entry of `app.installation.contexts`. */
export interface ForgeInstallationContext {
  readonly cloudId: string | undefined;
  readonly apiBaseUrl: string | undefined;
}

const SAFE_CLOUD_ID = /^[A-Za-z0-9-]{1,64}$/;
const SAFE_SHORT = /^[A-Za-z0-9._+:-]{1,64}$/;
const MAX_INSTALLATION_CONTEXTS = 16;

/**
 * The token of `Authorization: Bearer <FIT>`. Anything else (no header, another scheme, two headers,
 * an oversized or malformed token) is refused before any key is looked at.
 */
export function bearerTokenOf(authorization: string | string[] | undefined): string {
  if (Array.isArray(authorization)) throw ConnectError.create('forge/invalid-token', 'The request carries more than one Authorization header.');
  const match = authorization === undefined ? null : /^Bearer[ ]+(\S+)\s*$/i.exec(authorization);
  if (match === null) {
    throw ConnectError.create('forge/missing-token', 'No Forge Invocation Token was sent: Forge Remote calls carry "Authorization: Bearer <token>".');
  }
  const token = match[1]!;
  if (token.length > MAX_FORGE_TOKEN_LENGTH) {
    throw ConnectError.create('forge/invalid-token', `The Forge Invocation Token is longer than ${MAX_FORGE_TOKEN_LENGTH} characters.`);
  }
  if (!JWT_SHAPE.test(token)) throw ConnectError.create('forge/invalid-token', 'The Forge Invocation Token is not a signed JWT (three base64url parts).');
  return token;
}

/**
 * Reads header and claims WITHOUT verifying them, to refuse early what can never pass (wrong alg, issuer
 * or audience) without touching the JWKS, and to learn which configured app the token claims to be for.
 */
export function decodeUnverifiedFit(token: string): { header: ProtectedHeaderParameters & { kid: string }; claims: JWTPayload } {
  let header: ProtectedHeaderParameters;
  let claims: JWTPayload;
  try {
    header = decodeProtectedHeader(token);
    claims = decodeJwt(token);
  } catch {
    throw ConnectError.create('forge/invalid-token', 'The Forge Invocation Token could not be decoded.');
  }
  if (!jwtPartsAreUtf8(token)) throw ConnectError.create('forge/invalid-token', 'The Forge Invocation Token header or payload is not valid UTF-8.');
  if (typeof claims.exp === 'number' && typeof claims.nbf === 'number' && claims.nbf >= claims.exp) {
    throw ConnectError.create('forge/invalid-token', 'The Forge Invocation Token is valid at no time: its nbf is not before its exp.');
  }
  if (header.alg !== 'RS256') {
    throw ConnectError.create('forge/unsupported-alg', `Forge Invocation Tokens are signed with RS256, not ${JSON.stringify(String(header.alg)).slice(0, 40)}.`);
  }
  if (typeof header.kid !== 'string' || !SAFE_KID.test(header.kid)) {
    throw ConnectError.create('forge/invalid-token', 'The key id (kid) of the Forge Invocation Token is missing or not of a valid form.');
  }
  return { header: header as ProtectedHeaderParameters & { kid: string }, claims };
}

export function assertForgeIssuer(claims: JWTPayload): void {
  if (claims.iss !== FORGE_INVOCATION_TOKEN_ISSUER) {
    throw ConnectError.create('forge/invalid-iss', `The token issuer (iss) is not ${FORGE_INVOCATION_TOKEN_ISSUER}.`);
  }
}

/**
 * The Forge app id the token is for: its `aud` must be exactly one Forge app ARI. A well-formed ARI of
 * an app not configured here is `forge/unknown-app`; anything else in `aud` is `forge/invalid-aud`.
 */
export function forgeAppIdOfAudience(aud: unknown, isConfigured: (appId: string) => boolean): string {
  const values = Array.isArray(aud) ? aud : [aud];
  if (values.length !== 1) {
    throw ConnectError.create('forge/invalid-aud', 'The token audience (aud) must name exactly one Forge app (ari:cloud:ecosystem::app/<appId>).');
  }
  const appId = forgeAppIdOfAri(values[0]);
  if (appId === undefined) {
    throw ConnectError.create('forge/invalid-aud', 'The token audience (aud) is not a Forge app (ari:cloud:ecosystem::app/<appId>).');
  }
  if (!isConfigured(appId)) {
    throw ConnectError.create('forge/unknown-app', 'The token is for a Forge app that this service is not configured for (forge.appId).', { forgeAppId: appId });
  }
  return appId;
}

/**
 * The Isolated Cloud label of a token (its top-level `icLabel`), or `undefined` when it has none. Read
 * from unverified claims too, to pick the key set: so it is checked before anything uses it, and a
 * label that is not 1 to 50 of `a-z 0-9 _ -` is `forge/invalid-token`.
 */
export function isolatedCloudLabelOf(claims: JWTPayload, forgeAppId?: string): string | undefined {
  const label = claims.icLabel;
  if (label === undefined) return undefined;
  if (!isIsolatedCloudLabel(label)) {
    const where = forgeAppId === undefined ? undefined : { forgeAppId };
    throw ConnectError.create('forge/invalid-token', 'The icLabel of the Forge Invocation Token is not an Isolated Cloud label (1 to 50 of a-z, 0-9, _ and -).', where);
  }
  return label;
}

/**
 * The checks jose does not do, on verified claims: `iat` not in the future and a bounded lifetime, the
 * `app` claim with its installation and API base URL, `principal`, `context`. Returns what handlers read.
 */
export function assertForgeClaims(
  claims: JWTPayload,
  appId: string,
  {
    leewaySeconds,
    maxLifetimeSeconds,
    allowLoopbackApiBaseUrl = false,
    now = Date.now() / 1000,
  }: {
    leewaySeconds: number;
    maxLifetimeSeconds: number;
    /** Accept `http://127.0.0.1…` as apiBaseUrl: only when the JWKS itself is local (tests, the simulator). */
    allowLoopbackApiBaseUrl?: boolean;
    now?: number;
  },
): ForgeInvocationClaims {
  const invalid = (message: string) => ConnectError.create('forge/invalid-token', message, { forgeAppId: appId });
  if (typeof claims.exp !== 'number' || !Number.isFinite(claims.exp)) throw invalid('The Forge Invocation Token has no expiry (exp).');
  if (claims.iat !== undefined) {
    if (typeof claims.iat !== 'number' || !Number.isFinite(claims.iat)) throw invalid('The issue time (iat) of the Forge Invocation Token is not a number.');
    if (claims.iat > now + leewaySeconds) throw ConnectError.create('forge/not-yet-valid', 'The Forge Invocation Token was issued in the future (iat).');
  }
  const start = typeof claims.nbf === 'number' ? claims.nbf : (claims.iat ?? now);
  if (claims.exp - start > maxLifetimeSeconds) throw invalid(`The Forge Invocation Token is valid for longer than ${maxLifetimeSeconds} seconds.`);

  const app = objectOf(claims.app);
  if (app === undefined) throw invalid('The Forge Invocation Token has no app claim.');
  if (app.id !== undefined && app.id !== forgeAppAri(appId)) throw ConnectError.create('forge/invalid-aud', 'The app.id of the token is not the app of its audience (aud).');
  const installationId = app.installationId;
  if (typeof installationId !== 'string' || !installationId.startsWith(FORGE_INSTALLATION_ARI_PREFIX) || !SAFE_ID.test(installationId)) {
    throw invalid('The app.installationId of the Forge Invocation Token is missing or not an installation ARI.');
  }
  const apiBaseUrl = checkedApiBaseUrl(app.apiBaseUrl, allowLoopbackApiBaseUrl);
  if (apiBaseUrl === undefined) throw invalid('The app.apiBaseUrl of the Forge Invocation Token is missing or not an https URL.');
  if (claims.principal !== undefined && (typeof claims.principal !== 'string' || !SAFE_ID.test(claims.principal))) {
    throw invalid('The principal of the Forge Invocation Token is not an account id.');
  }
  if (claims.context !== undefined && objectOf(claims.context) === undefined) throw invalid('The context claim of the Forge Invocation Token is not an object.');
  const environment = objectOf(app.environment);
  const module = objectOf(app.module);
  const context = objectOf(claims.context) ?? {};
  const installationContexts = installationContextsOf(app.installation, allowLoopbackApiBaseUrl, invalid);
  const cloudId = cloudIdOf(context.cloudId, invalid) ?? installationContexts.find((entry) => entry.cloudId !== undefined)?.cloudId;
  const appVersion = app.appVersion === undefined ? undefined : shortString(app.appVersion, 'app.appVersion', invalid);
  return {
    appVersion,
    cloudId,
    siteUrl: checkedApiBaseUrl(context.siteUrl, false),
    license: licenseOf(app.license, invalid),
    installationContexts,
    icLabel: isolatedCloudLabelOf(claims, appId),
    appId,
    installationId,
    apiBaseUrl,
    environment: { type: stringOf(environment?.type), id: stringOf(environment?.id) },
    module: module === undefined ? undefined : { type: stringOf(module.type), key: stringOf(module.key) },
    context,
    accountId: claims.principal as string | undefined,
  };
}

type Invalid = (message: string) => ConnectError;

function cloudIdOf(value: unknown, invalid: Invalid): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || !SAFE_CLOUD_ID.test(value)) throw invalid('The cloudId of the Forge Invocation Token is not a site id.');
  return value;
}

function shortString(value: unknown, name: string, invalid: Invalid): string {
  if (typeof value !== 'string' || !SAFE_SHORT.test(value)) throw invalid(`The ${name} of the Forge Invocation Token is not a short plain string.`);
  return value;
}

function licenseOf(value: unknown, invalid: Invalid): ForgeLicense | undefined {
  if (value === undefined || value === null) return undefined;
  const license = objectOf(value);
  if (license === undefined) throw invalid('The app.license of the Forge Invocation Token is not an object.');
  const flag = (name: string): boolean | undefined => {
    const flagValue = license[name];
    if (flagValue === undefined || flagValue === null) return undefined;
    if (typeof flagValue !== 'boolean') throw invalid(`The app.license.${name} of the Forge Invocation Token is not a boolean.`);
    return flagValue;
  };
  return {
    // Forge now sends `active`; `isActive` is its deprecated spelling, still sent by some tokens.
    isActive: flag('active') ?? flag('isActive'),
    type: license.type === undefined || license.type === null ? undefined : shortString(license.type, 'app.license.type', invalid),
    isEvaluation: flag('isEvaluation'),
  };
}

function installationContextsOf(value: unknown, allowLoopback: boolean, invalid: Invalid): readonly ForgeInstallationContext[] {
  const installation = objectOf(value);
  if (installation === undefined || installation.contexts === undefined) return [];
  const contexts = installation.contexts;
  if (!Array.isArray(contexts) || contexts.length > MAX_INSTALLATION_CONTEXTS) {
    throw invalid(`The app.installation.contexts of the Forge Invocation Token is not a list of at most ${MAX_INSTALLATION_CONTEXTS} entries.`);
  }
  return Object.freeze(
    contexts.map((entry) => {
      const fields = objectOf(entry);
      if (fields === undefined) throw invalid('An entry of app.installation.contexts is not an object.');
      return Object.freeze({ cloudId: cloudIdOf(fields.cloudId, invalid), apiBaseUrl: checkedApiBaseUrl(fields.apiBaseUrl, allowLoopback) });
    }),
  );
}

/** Translates what jose's `jwtVerify` throws about the token (not the key set) into typed errors. */
export function fromJoseFitError(error: unknown): ConnectError {
  if (error instanceof ConnectError) return error;
  if (error instanceof errors.JWTExpired) return ConnectError.create('forge/expired', 'The Forge Invocation Token has expired.');
  if (error instanceof errors.JWTClaimValidationFailed) {
    if ((error.claim === 'nbf' || error.claim === 'iat') && error.reason === 'check_failed') {
      return ConnectError.create('forge/not-yet-valid', `The Forge Invocation Token is not valid yet (${error.claim} is in the future).`);
    }
    if (error.claim === 'iss') return ConnectError.create('forge/invalid-iss', `The token issuer (iss) is not ${FORGE_INVOCATION_TOKEN_ISSUER}.`);
    if (error.claim === 'aud') return ConnectError.create('forge/invalid-aud', 'The token audience (aud) is not this Forge app.');
    return ConnectError.create('forge/invalid-token', `The claim "${error.claim}" of the Forge Invocation Token is missing or invalid.`);
  }
  if (error instanceof errors.JWSSignatureVerificationFailed) {
    return ConnectError.create('forge/invalid-token', 'The signature of the Forge Invocation Token does not verify.');
  }
  if (error instanceof errors.JOSEAlgNotAllowed) return ConnectError.create('forge/unsupported-alg', 'Forge Invocation Tokens must be signed with RS256.');
  return ConnectError.create('forge/invalid-token', 'The Forge Invocation Token could not be verified.');
}

/** https (or, when allowed, http on a loopback host); no credentials, query or fragment. */
function checkedApiBaseUrl(value: unknown, allowLoopback: boolean): string | undefined {
  if (typeof value !== 'string' || value.length > 2048) return undefined;
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return undefined;
  }
  if (url.username || url.password || url.search || url.hash) return undefined;
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && allowLoopback && isLoopbackHost(url.hostname))) return undefined;
  return value.replace(/\/+$/, '');
}

function stringOf(value: unknown): string | undefined {
  return typeof value === 'string' ? value : undefined;
}
