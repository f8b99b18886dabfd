import { ConnectClientError } from './connect-client-error.js';

export type QueryValue = string | number | boolean | undefined | null | readonly (string | number | boolean)[];

/**
 * The absolute URL of a call to a tenant's product. Relative URLs resolve against the tenant's baseUrl
 * (so `/rest/api/space` on Confluence goes to `<site>/wiki/rest/api/space`); absolute URLs must stay on
 * the tenant's own origin. Anything else is refused before a byte is sent, so a token can never reach
 * another host. `restApiPrefix` (Confluence Data Center behind an SSO proxy) replaces a leading
 * `/rest/api/` of the product-relative path, and the qsh is then computed over the path really sent.
 */
export function resolveRequestUrl(tenantBaseUrl: string, url: string, method: string, query?: Record<string, QueryValue>, restApiPrefix?: string): URL {
  const base = new URL(tenantBaseUrl);
  const basePath = base.pathname.replace(/\/+$/, '');
  let target: URL;
  if (/^[a-z][a-z0-9+.-]*:/i.test(url) || url.startsWith('//')) {
    try {
      // A protocol-relative URL (`//host/x`) takes the tenant's scheme, and then its host is checked like any other.
      target = new URL(url, base);
    } catch {
      throw invalid(method, url, 'is not a valid URL');
    }
    if (target.origin !== base.origin) {
      throw new ConnectClientError('client/foreign-origin', `Refused to send a request for this tenant to ${target.origin}: only ${base.origin} may receive its credentials.`, {
        method,
        url: safeUrl(target),
        retries: 0,
      });
    }
  } else {
    const relative = url.startsWith('/') ? url : `/${url}`;
    // Concatenate instead of resolving, so `..` or a second leading slash cannot leave the base path's origin.
    const alreadyPrefixed = basePath !== '' && (relative === basePath || relative.startsWith(`${basePath}/`));
    target = new URL(`${base.origin}${alreadyPrefixed ? '' : basePath}${relative}`);
    if (target.origin !== base.origin) throw invalid(method, url, 'leaves the tenant origin');
  }
  if (restApiPrefix !== undefined) {
    const relativePath = target.pathname.startsWith(`${basePath}/`) ? target.pathname.slice(basePath.length) : target.pathname;
    if (relativePath.startsWith('/rest/api/')) target.pathname = basePath + normalisePrefix(restApiPrefix) + relativePath.slice('/rest/api/'.length);
  }
  for (const [name, value] of Object.entries(query ?? {})) {
    if (value === undefined || value === null) continue;
    for (const item of Array.isArray(value) ? value : [value]) target.searchParams.append(name, String(item));
  }
  target.hash = '';
  return target;
}

/**
 * Refuses a resolved URL outside `baseUrl`'s path (the Forge `apiBaseUrl` is one site's API: an
 * absolute URL on the same gateway but for another product or site is not this installation's).
 */
export function ensureUnderBasePath(baseUrl: string, target: URL, method: string): void {
  const basePath = new URL(baseUrl).pathname.replace(/\/+$/, '');
  if (basePath === '' || target.pathname === basePath || target.pathname.startsWith(`${basePath}/`)) return;
  throw invalid(method, safeUrl(target), `is outside ${basePath}, where this installation's API lives`);
}

function normalisePrefix(prefix: string): string {
  return `/${prefix.replace(/^\/+|\/+$/g, '')}/`;
}

/** A URL fit for errors and logs: no credentials, no `jwt` parameter. */
export function safeUrl(url: URL): string {
  const copy = new URL(url.href);
  copy.username = '';
  copy.password = '';
  if (copy.searchParams.has('jwt')) copy.searchParams.set('jwt', '[redacted]');
  return copy.href;
}

function invalid(method: string, url: string, why: string): ConnectClientError {
  return new ConnectClientError('client/invalid-request', `The URL ${JSON.stringify(url.slice(0, 200))} ${why}.`, { method, url: url.slice(0, 200), retries: 0 });
}
