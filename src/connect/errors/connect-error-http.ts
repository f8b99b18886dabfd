import type { ConnectErrorCode } from './connect-error-codes.js';
import { ConnectError } from './connect-error.js';

/** How long a client should wait before retrying after a dependency outage, in seconds. */
export const RETRY_AFTER_SECONDS = 5;

type StorageErrorCode = Extract<ConnectErrorCode, `storage/${string}`>;

/** A bad key or value is the caller's input (400, 413); a refused token or an outage is the backend's (502, 503). */
const STORAGE_STATUS: Readonly<Record<StorageErrorCode, number>> = {
  'storage/not-found': 404,
  'storage/conflict': 409,
  'storage/too-large': 413,
  'storage/rate-limited': 429,
  'storage/token-missing': 503,
  'storage/unauthorized': 502,
  'storage/invalid-request': 400,
  'storage/unavailable': 503,
};

/** The HTTP status for an error code: the only place where codes meet HTTP. */
export function httpStatusOf(code: ConnectErrorCode): number {
  if (code === 'jwt/key-unavailable' || code === 'store/unavailable' || code === 'forge/jwks-unavailable') return 503;
  if (code === 'lifecycle/invalid-payload' || code === 'lifecycle/host-not-allowed') return 400;
  if (code === 'lifecycle/payload-too-large') return 413;
  if (code === 'lifecycle/rate-limited') return 429;
  if (code === 'request/too-many-headers') return 431;
  if (code === 'jwt/unknown-app') return 404;
  // A verified Forge call whose installation has no active Connect tenant: nothing to act on.
  if (code === 'forge/unknown-installation') return 404;
  // A verified Forge call from a site without an active licence, on a route that requires one.
  if (code === 'forge/unlicensed') return 402;
  // No Forge token to call with: the manifest (or an app-initiated call asking for a user) is at fault.
  if (code === 'client/forge-token') return 500;
  // No usable saved system token for work outside a request: it comes back with the next Forge call.
  if (code === 'client/forge-token-expired') return 503;
  // The client paced itself and the tenant's budget would not come back in time: try again later.
  if (code === 'client/rate-limited') return 503;
  // A failed call to the product is the product's (or the network's) fault, not the caller's.
  if (code.startsWith('client/')) return code === 'client/timeout' ? 504 : 502;
  // A Forge event or trigger body that is not what Forge sends.
  if (code === 'forge/invalid-event') return 400;
  // A realm migration hook whose body or query is not what Atlassian's migration service sends.
  if (code === 'forge/invalid-realm-migration') return 400;
  // The app declines a realm migration (the body carries Atlassian's errorResponseCode: no retries).
  if (code === 'forge/realm-migration-refused') return 409;
  // A realm migration handler failed: Atlassian retries a 5xx without errorResponseCode.
  if (code === 'forge/realm-migration-failed') return 500;
  // A handler of a Forge event failed, or another instance is still running it: Forge redelivers on a 5xx.
  if (code === 'forge/event-in-progress') return 503;
  if (code === 'lifecycle/hook-failed' || code === 'config/invalid' || code === 'forge/event-failed') return 500;
  // A Forge manifest that cannot be built from the app's configuration (a tool's error, never a request's).
  if (code === 'forge/invalid-manifest') return 500;
  // Forge hosted storage (ForgeStorage), when a handler lets the error through.
  if (code.startsWith('storage/')) return STORAGE_STATUS[code as StorageErrorCode];
  return 401;
}

export interface ConnectErrorResponse {
  status: number;
  headers: Record<string, string>;
  body: { type: ConnectErrorCode; message: string };
}

/**
 * Turns an error into the response the client sees. `realm` is the app key used in
 * `WWW-Authenticate` for 401s.
 */
export function toErrorResponse(error: ConnectError, realm = error.realm): ConnectErrorResponse {
  const status = httpStatusOf(error.code);
  const headers: Record<string, string> = { 'cache-control': 'no-store' };
  // Forge Remote calls authenticate with a bearer token (the FIT), Connect ones with the JWT scheme.
  const scheme = error.code.startsWith('forge/') ? 'Bearer' : 'JWT';
  if (status === 401) headers['www-authenticate'] = `${scheme} realm="${(realm ?? 'atlassian-connect').replace(/["\\]/g, '')}"`;
  if (status === 503) headers['retry-after'] = String(RETRY_AFTER_SECONDS);
  if (status === 429) headers['retry-after'] = String(Math.max(1, Number(error.detail?.retryAfterSeconds) || RETRY_AFTER_SECONDS));
  return { status, headers, body: error.toJSON() };
}
