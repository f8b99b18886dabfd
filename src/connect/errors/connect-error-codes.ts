/**
 * Every failure the framework reports has one of these codes. The code is the `type` of the JSON error
 * body; the HTTP status is chosen only at the edge (see `connect-error-http.ts`).
 */
export const CONNECT_ERROR_CODES = [
  'jwt/missing',
  'jwt/malformed',
  'jwt/unsupported-alg',
  'jwt/unknown-iss',
  'jwt/invalid-signature',
  'jwt/expired',
  'jwt/not-yet-valid',
  'jwt/invalid-qsh',
  'jwt/invalid-aud',
  'jwt/invalid-kid',
  'jwt/iss-mismatch',
  'jwt/tenant-inactive',
  'jwt/unknown-app',
  'jwt/key-unavailable',
  'store/unavailable',
  'lifecycle/invalid-payload',
  'lifecycle/payload-too-large',
  'lifecycle/hook-failed',
  'config/invalid',
  'client/http-error',
  'client/timeout',
  'client/aborted',
  'client/network',
  'client/foreign-origin',
  'client/user-token',
  'client/unknown-tenant',
  'client/invalid-request',
  'jwt/lifetime-too-long',
  'request/too-many-headers',
  'lifecycle/rate-limited',
] as const;

export type ConnectErrorCode = (typeof CONNECT_ERROR_CODES)[number];
