import { createSecretKey } from 'node:crypto';
import { SignJWT } from 'jose';
import { queryStringHash } from '../auth/jwt/canonical-request.js';

/** Lifetime of the JWT the app signs for one REST call. */
export const APP_JWT_LIFETIME_SECONDS = 180;

/**
 * The JWT for one call as the app: `iss` = app key, `qsh` over the product-relative path and query
 * (the tenant baseUrl's path, like Confluence's `/wiki`, is stripped), short expiry.
 */
export function signAppJwt(appKey: string, sharedSecret: string, method: string, url: URL, tenantBaseUrl: string): Promise<string> {
  const iat = Math.floor(Date.now() / 1000);
  return new SignJWT({ iss: appKey, iat, exp: iat + APP_JWT_LIFETIME_SECONDS, qsh: queryStringHash(method, url.href, tenantBaseUrl) })
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .sign(createSecretKey(Buffer.from(sharedSecret, 'utf8')));
}
