import { createSecretKey, type KeyObject, type webcrypto } from 'node:crypto';
import { compactVerify, errors, importSPKI, importX509 } from 'jose';
import { canonicalRequest } from '../auth/jwt/canonical-request.js';
import { CONTEXT_QSH, decodeUnverified } from '../auth/jwt/connect-jwt-claims.js';
import { fromJoseError } from '../auth/jwt/jose-errors.js';
import { DEFAULT_LEEWAY_SECONDS } from '../config/connect-options.js';
import { LIFECYCLE_PATHS } from '../config/resolved-connect-app.js';
import { isConnectError } from '../errors/connect-error.js';
import type { InstallKeyResolver } from '../keys/install-key-resolver.js';
import { isSafeKid } from '../keys/kid.js';
import { diagnoseQsh, type QshDiagnosis } from './qsh-diagnosis.js';

/**
 * Decodes a Connect JWT and judges it, check by check, against an optional key and request: the data
 * behind `atlassian-connect-nest explain`. Every function returns structured findings and nothing is
 * printed; the only I/O is the install key lookup of a resolver the caller passes in. Messages never
 * contain the shared secret.
 */

/**
 * `ok` passed, `fail` makes the token invalid, `skip` could not be checked (so the token is not shown
 * to be valid), `warn` is worth a look but does not decide anything, `info` is just a fact.
 */
export type Verdict = 'ok' | 'fail' | 'skip' | 'warn' | 'info';

export interface Finding {
  verdict: Verdict;
  message: string;
}

/** What the algorithm says the token is for. */
export type TokenKind = 'request' | 'install' | 'unknown';

/** How to check the signature. */
export type VerificationKey =
  /** The tenant's shared secret (HS256 tokens). */
  | { type: 'secret'; secret: string }
  /** An RSA public key (RS256 signed-install tokens); `source` names it in messages (e.g. a file name). */
  | { type: 'public-key'; key: KeyObject | webcrypto.CryptoKey; source: string }
  /** Looks the RS256 key up by the token's kid; `source` names the key host in messages. */
  | { type: 'install-keys'; resolver: InstallKeyResolver; source: string };

/** The request the token was presented with, as the app saw it. */
export interface RequestUnderTest {
  method: string;
  /** The raw request target (path and query) or the absolute URL. */
  url: string;
  /** Accept the literal `context-qsh` (routes with `@ConnectAuth({ qsh: 'context' })`). */
  allowContextQsh?: boolean;
}

export interface TokenReportInput {
  token: string;
  key?: VerificationKey | undefined;
  request?: RequestUnderTest | undefined;
  /** The app's baseUrl: its path is stripped before hashing, and signed installs must name it in `aud`. */
  baseUrl?: string | undefined;
  /** Seconds since the epoch; default now. */
  now?: number | undefined;
  /** Clock skew tolerated on exp, iat and nbf; default the framework's. */
  leewaySeconds?: number | undefined;
}

export interface TimeFinding extends Finding {
  claim: 'iat' | 'nbf' | 'exp';
  /** The claim's value, when it is a number. */
  value?: number;
}

export interface QshFinding extends Finding {
  diagnosis?: QshDiagnosis;
}

export interface TokenReport {
  header: Record<string, unknown>;
  claims: Record<string, unknown>;
  kind: TokenKind;
  alg: Finding;
  iss: Finding;
  times: TimeFinding[];
  /** The length of the validity window (nbf or iat to exp), when both ends are known. */
  window?: Finding;
  signature: Finding;
  /** Signed installs only: the `aud` claim against the app's baseUrl. */
  audience?: Finding;
  /** With a request: whether this kind of token belongs on that route. */
  route?: Finding;
  qsh: QshFinding;
  /** Every check passed (no `fail`, no `skip`). */
  valid: boolean;
}

/** Thrown by {@link decodeToken} (as a ConnectError `jwt/malformed`) when the token cannot be decoded. */
export function decodeToken(token: string): { header: Record<string, unknown>; claims: Record<string, unknown> } {
  const { header, claims } = decodeUnverified(token);
  return { header: { ...header }, claims: { ...claims } };
}

/** The alg verdict: HS256 for requests and enabled/disabled, RS256 with a safe kid for signed installs. */
export function algFinding(header: Record<string, unknown>): Finding & { kind: TokenKind } {
  const alg = header.alg;
  if (alg === 'HS256') {
    return { kind: 'request', verdict: 'ok', message: "HS256: signed with the tenant's shared secret (page loads, REST calls, webhooks, enabled/disabled callbacks)" };
  }
  if (alg === 'RS256') {
    const kid = header.kid;
    if (kid === undefined) return { kind: 'install', verdict: 'fail', message: 'RS256 without a kid: the install key cannot be looked up, so the token is refused' };
    if (!isSafeKid(kid)) {
      return {
        kind: 'install',
        verdict: 'fail',
        message: `RS256 with an unsafe kid ${JSON.stringify(kid).slice(0, 80)}: only letters, digits, "-" and "_" are accepted, so it is refused before any key fetch`,
      };
    }
    return { kind: 'install', verdict: 'ok', message: `RS256 with kid ${kid}: a signed install (installed/uninstalled callbacks), verified with Atlassian's public key` };
  }
  if (typeof alg === 'string' && alg.toLowerCase() === 'none') {
    return { kind: 'unknown', verdict: 'fail', message: `${JSON.stringify(alg)}: an unsigned token, never accepted` };
  }
  if (typeof alg !== 'string') return { kind: 'unknown', verdict: 'fail', message: 'the header names no algorithm (alg)' };
  return { kind: 'unknown', verdict: 'fail', message: `${JSON.stringify(alg)} is not used by Atlassian Connect (HS256 for requests, RS256 for signed installs): refused` };
}

export function issuerFinding(claims: Record<string, unknown>): Finding {
  if (typeof claims.iss !== 'string' || claims.iss === '') return { verdict: 'fail', message: "no issuer (iss): every Connect token names the tenant's clientKey" };
  if (claims.sub !== undefined && typeof claims.sub !== 'string') return { verdict: 'fail', message: 'the subject (sub) is not a string' };
  return { verdict: 'info', message: `${claims.iss} (the tenant's clientKey)${typeof claims.sub === 'string' ? `, user ${claims.sub}` : ''}` };
}

/** exp, iat and nbf relative to `now`, with `leewaySeconds` of tolerated clock skew. */
export function timeFindings(claims: Record<string, unknown>, now: number, leewaySeconds: number): { times: TimeFinding[]; window?: Finding } {
  const times: TimeFinding[] = [];
  const { iat, nbf, exp } = claims;
  const at = (value: number) => new Date(value * 1000).toISOString().replace('.000Z', 'Z');
  const leeway = `the ${leewaySeconds} s leeway`;

  if (iat !== undefined) {
    if (typeof iat !== 'number' || !Number.isFinite(iat)) times.push({ claim: 'iat', verdict: 'fail', message: 'iat is not a number' });
    else if (iat > now + leewaySeconds)
      times.push({ claim: 'iat', value: iat, verdict: 'fail', message: `issued in ${duration(iat - now)} (${at(iat)}): in the future beyond ${leeway}; is a clock wrong?` });
    else if (iat > now) times.push({ claim: 'iat', value: iat, verdict: 'warn', message: `issued in ${duration(iat - now)} (${at(iat)}): in the future, but within ${leeway}` });
    else times.push({ claim: 'iat', value: iat, verdict: 'ok', message: `issued ${duration(now - iat)} ago (${at(iat)})` });
  }
  if (nbf !== undefined) {
    if (typeof nbf !== 'number' || !Number.isFinite(nbf)) times.push({ claim: 'nbf', verdict: 'fail', message: 'nbf is not a number' });
    else if (nbf > now + leewaySeconds)
      times.push({ claim: 'nbf', value: nbf, verdict: 'fail', message: `not valid before ${at(nbf)}, in ${duration(nbf - now)} (beyond ${leeway})` });
    else if (nbf > now) times.push({ claim: 'nbf', value: nbf, verdict: 'warn', message: `valid from ${at(nbf)}, in ${duration(nbf - now)}, accepted within ${leeway}` });
    else times.push({ claim: 'nbf', value: nbf, verdict: 'ok', message: `valid since ${duration(now - nbf)} ago (${at(nbf)})` });
  }
  if (exp === undefined) times.push({ claim: 'exp', verdict: 'fail', message: 'no expiry (exp): Connect tokens must expire' });
  else if (typeof exp !== 'number' || !Number.isFinite(exp)) times.push({ claim: 'exp', verdict: 'fail', message: 'exp is not a number' });
  else if (exp <= now - leewaySeconds) times.push({ claim: 'exp', value: exp, verdict: 'fail', message: `expired ${duration(now - exp)} ago (${at(exp)})` });
  else if (exp <= now) times.push({ claim: 'exp', value: exp, verdict: 'warn', message: `expired ${duration(now - exp)} ago (${at(exp)}), still accepted within ${leeway}` });
  else times.push({ claim: 'exp', value: exp, verdict: 'ok', message: `expires in ${duration(exp - now)} (${at(exp)})` });

  const start = typeof nbf === 'number' ? nbf : iat;
  const startName = typeof nbf === 'number' ? 'nbf' : 'iat';
  if (typeof start !== 'number' || typeof exp !== 'number' || !Number.isFinite(start) || !Number.isFinite(exp)) return { times };
  const length = exp - start;
  let window: Finding;
  if (length <= 0) window = { verdict: 'fail', message: `empty: exp is ${length === 0 ? 'equal to' : 'before'} ${startName}` };
  else if (length > 3600) window = { verdict: 'warn', message: `${duration(length)} (${startName} to exp): unusually long, Atlassian signs tokens for about 3 min` };
  else window = { verdict: 'info', message: `${duration(length)} (${startName} to exp)` };
  return { times, window };
}

/** Verifies the signature only (times and claims are judged separately). */
export async function signatureFinding(token: string, header: Record<string, unknown>, key: VerificationKey | undefined): Promise<Finding> {
  const alg = header.alg;
  if (alg !== 'HS256' && alg !== 'RS256') return { verdict: 'fail', message: `not verified: ${JSON.stringify(alg ?? null)} tokens are refused whatever the key` };
  if (key === undefined) return { verdict: 'skip', message: 'signature not checked: no shared secret or public key given' };
  if (alg === 'HS256' && key.type !== 'secret') {
    return { verdict: 'skip', message: "signature not checked: an HS256 token is verified with the tenant's shared secret, not a public key" };
  }
  if (alg === 'RS256' && key.type === 'secret') {
    return { verdict: 'skip', message: "signature not checked: an RS256 signed-install token is verified with Atlassian's public key, not a shared secret" };
  }
  let verifyKey: KeyObject | webcrypto.CryptoKey;
  let source: string;
  if (key.type === 'secret') {
    verifyKey = createSecretKey(Buffer.from(key.secret, 'utf8'));
    source = 'the shared secret';
  } else if (key.type === 'public-key') {
    verifyKey = key.key;
    source = `the public key ${key.source}`;
  } else {
    if (!isSafeKid(header.kid)) return { verdict: 'skip', message: 'signature not checked: the kid is missing or unsafe, so no key was fetched' };
    try {
      verifyKey = await key.resolver.resolve(header.kid);
    } catch (error) {
      const message = isConnectError(error) ? error.message : String(error);
      if (isConnectError(error) && error.code === 'jwt/invalid-kid') return { verdict: 'fail', message: `no key: ${message}` };
      return { verdict: 'skip', message: `signature not checked: ${message}` };
    }
    source = `key ${header.kid} from ${key.source}`;
  }
  try {
    await compactVerify(token, verifyKey, { algorithms: [alg] });
  } catch (error) {
    if (error instanceof errors.JWSSignatureVerificationFailed) {
      return {
        verdict: 'fail',
        message:
          key.type === 'secret'
            ? "invalid: the signature does not verify with the given shared secret (another tenant's or an old secret, or the token was altered)"
            : `invalid: the signature does not verify with ${source}`,
      };
    }
    return { verdict: 'fail', message: `invalid: ${fromJoseError(error).message}` };
  }
  return { verdict: 'ok', message: `verified with ${source}` };
}

/** Signed installs must carry the app's baseUrl in `aud` (trailing slashes ignored). */
export function audienceFinding(claims: Record<string, unknown>, baseUrl: string | undefined): Finding {
  const aud = claims.aud;
  const shown = JSON.stringify(aud ?? null);
  if (aud === undefined) return { verdict: 'fail', message: "no audience (aud): a signed install names the app's baseUrl" };
  if (baseUrl === undefined) return { verdict: 'skip', message: `aud ${shown} not checked: the app's baseUrl was not given` };
  const wanted = baseUrl.replace(/\/+$/, '');
  const values = Array.isArray(aud) ? aud : [aud];
  if (values.some((value) => typeof value === 'string' && value.replace(/\/+$/, '') === wanted)) return { verdict: 'ok', message: `${shown} names the app's baseUrl` };
  return { verdict: 'fail', message: `${shown} is not the app's baseUrl ${wanted}: the install was signed for another app (or the app's baseUrl is configured differently)` };
}

/** Whether the token's kind fits the route: signed installs on installed/uninstalled, HS256 everywhere else. */
export function routeFinding(kind: TokenKind, canonical: string): Finding | undefined {
  const uri = canonical.slice(canonical.indexOf('&') + 1, canonical.indexOf('&', canonical.indexOf('&') + 1));
  const install = uri === LIFECYCLE_PATHS.installed || uri === LIFECYCLE_PATHS.uninstalled;
  const lifecycle = install || uri === LIFECYCLE_PATHS.enabled || uri === LIFECYCLE_PATHS.disabled;
  if (kind === 'request' && install) {
    return { verdict: 'fail', message: `${uri} is a signed-install callback: it takes RS256 tokens signed by Atlassian ("signed-install" migration), never HS256` };
  }
  if (kind === 'install' && lifecycle && !install)
    return { verdict: 'fail', message: `${uri} takes HS256 tokens signed with the shared secret; RS256 is only for installed/uninstalled` };
  if (kind === 'install' && !install)
    return { verdict: 'warn', message: `${uri} is not one of the framework's installed/uninstalled routes, the only ones that take RS256 tokens` };
  if (kind === 'install' || lifecycle) return { verdict: 'ok', message: `${uri}: a lifecycle callback, which takes ${kind === 'install' ? 'RS256' : 'HS256'} tokens` };
  return undefined;
}

export function qshFinding(claims: Record<string, unknown>, kind: TokenKind, request: RequestUnderTest | undefined, baseUrl: string | undefined): QshFinding {
  const qsh = claims.qsh;
  if (qsh === undefined) return { verdict: 'fail', message: 'no query string hash (qsh): the token is not bound to a request' };
  if (typeof qsh !== 'string' || qsh === '') return { verdict: 'fail', message: 'the query string hash (qsh) is not a string' };
  if (request === undefined) {
    if (qsh === CONTEXT_QSH) return { verdict: 'skip', message: 'context token (qsh "context-qsh"): valid only on routes that opt in; no request given' };
    return { verdict: 'skip', message: 'qsh not checked: no request URL given' };
  }
  const diagnosis = diagnoseQsh(request.method, request.url, baseUrl, qsh);
  if (diagnosis.contextToken) {
    if (kind === 'install') return { verdict: 'fail', diagnosis, message: 'context token (qsh "context-qsh"): never accepted on lifecycle callbacks' };
    if (request.allowContextQsh) return { verdict: 'ok', diagnosis, message: 'context token (qsh "context-qsh"): accepted, the route opts in' };
    return { verdict: 'fail', diagnosis, message: "context token: valid only on routes that opt in (@ConnectAuth({ qsh: 'context' }))" };
  }
  if (diagnosis.matches) return { verdict: 'ok', diagnosis, message: 'matches the request' };
  return {
    verdict: 'fail',
    diagnosis,
    message: diagnosis.variant === undefined ? 'mismatch: the token was signed for another request' : `mismatch: ${diagnosis.variant.description}`,
  };
}

/** Decodes `input.token` (throws a `jwt/malformed` ConnectError if it cannot) and runs every check. */
export async function buildTokenReport(input: TokenReportInput): Promise<TokenReport> {
  const { header, claims } = decodeToken(input.token);
  const now = input.now ?? Date.now() / 1000;
  const leeway = input.leewaySeconds ?? DEFAULT_LEEWAY_SECONDS;
  const { kind, ...alg } = algFinding(header);
  const iss = issuerFinding(claims);
  const { times, window } = timeFindings(claims, now, leeway);
  const signature = await signatureFinding(input.token, header, input.key);
  const audience = kind === 'install' ? audienceFinding(claims, input.baseUrl) : undefined;
  const qsh = qshFinding(claims, kind, input.request, input.baseUrl);
  const canonical = qsh.diagnosis?.canonical ?? (input.request ? canonicalRequest(input.request.method, input.request.url, input.baseUrl) : undefined);
  const route = canonical === undefined ? undefined : routeFinding(kind, canonical);
  const decisive: Finding[] = [alg, iss, ...times, signature, qsh, ...(window ? [window] : []), ...(audience ? [audience] : []), ...(route ? [route] : [])];
  const valid = decisive.every((finding) => finding.verdict !== 'fail' && finding.verdict !== 'skip');
  return {
    header,
    claims,
    kind,
    alg,
    iss,
    times,
    ...(window && { window }),
    signature,
    ...(audience && { audience }),
    ...(route && { route }),
    qsh,
    valid,
  };
}

/**
 * Imports an RSA public key for RS256 from PEM text: an SPKI `PUBLIC KEY` (what the install keys host
 * serves) or an X.509 `CERTIFICATE`. Throws an Error with a short message otherwise.
 */
export async function importPublicKeyPem(pem: string): Promise<webcrypto.CryptoKey> {
  const text = pem.trim();
  try {
    if (text.startsWith('-----BEGIN CERTIFICATE-----')) return await importX509(text, 'RS256');
    if (text.startsWith('-----BEGIN PUBLIC KEY-----')) return await importSPKI(text, 'RS256');
  } catch {
    throw new Error('the PEM does not hold a usable RSA public key');
  }
  throw new Error('not a PEM public key (expected -----BEGIN PUBLIC KEY----- or -----BEGIN CERTIFICATE-----)');
}

/**
 * A duration for people: "2 s", "90 s", "3 min", "1 h 5 min", "2 d 3 h". Under two minutes in seconds,
 * then rounded to whole minutes (the exact instant is always printed next to it).
 */
export function duration(seconds: number): string {
  const s = Math.round(Math.abs(seconds));
  if (s < 120) return `${s} s`;
  const minutes = Math.round(s / 60);
  if (minutes < 60) return `${minutes} min`;
  if (minutes < 24 * 60) return `${Math.floor(minutes / 60)} h${minutes % 60 ? ` ${minutes % 60} min` : ''}`;
  const hours = Math.round(s / 3600);
  return `${Math.floor(hours / 24)} d${hours % 24 ? ` ${hours % 24} h` : ''}`;
}
