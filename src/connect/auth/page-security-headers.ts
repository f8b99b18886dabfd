import type { ConnectTenant } from '../tenants/tenant.js';

/** `Strict-Transport-Security` sent on pages served over https (one year; subdomains left alone). */
export const PAGE_HSTS = 'max-age=31536000';

/**
 * The `Content-Security-Policy` of a page the product frames (PROTOCOL.md §8): only the tenant's own
 * site (its baseUrl and displayUrl origins) may frame it, instead of `X-Frame-Options`, which would
 * forbid the product too.
 */
export function frameAncestorsPolicy(tenant: Pick<ConnectTenant, 'baseUrl' | 'displayUrl'>): string {
  const origins = new Set<string>();
  for (const url of [tenant.baseUrl, tenant.displayUrl]) {
    if (!url) continue;
    try {
      const origin = new URL(url).origin;
      if (origin !== 'null') origins.add(origin);
    } catch {
      // a stored URL that does not parse contributes nothing
    }
  }
  return `frame-ancestors ${origins.size > 0 ? [...origins].join(' ') : "'none'"}`;
}

/** The headers of a verified page response: CSP always, HSTS when the request came over https. */
export function pageSecurityHeaders(tenant: Pick<ConnectTenant, 'baseUrl' | 'displayUrl'>, https: boolean): Record<string, string> {
  const headers: Record<string, string> = { 'content-security-policy': frameAncestorsPolicy(tenant) };
  if (https) headers['strict-transport-security'] = PAGE_HSTS;
  return headers;
}
