import { isAllowedSiteUrl } from '../config/allowed-host-patterns.js';
import type { ResolvedConnectApp } from '../config/resolved-connect-app.js';
import { ConnectError } from '../errors/connect-error.js';

/** The payload fields that name the site; each must be on an allowed host when present. */
const SITE_URL_FIELDS = ['baseUrl', 'displayUrl', 'displayUrlServicedeskHelpCenter'] as const;

/**
 * Refuses a lifecycle body whose site URLs are not on a host of the app's `allowedHostPatterns`
 * (`lifecycle/host-not-allowed`). It reads only the URL fields that are strings and parse as http(s)
 * URLs; everything else about the body is left to `parseLifecyclePayload()`, which runs after the token
 * was verified.
 */
export function assertLifecycleHostsAllowed(app: ResolvedConnectApp, body: unknown): void {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) return;
  const input = body as Record<string, unknown>;
  for (const field of SITE_URL_FIELDS) {
    const value = input[field];
    if (typeof value !== 'string' || value === '' || !URL.canParse(value)) continue;
    const url = new URL(value);
    // Not a web URL at all (`javascript:`, `ftp:`): an invalid payload, not a foreign site.
    if (url.protocol !== 'https:' && url.protocol !== 'http:') continue;
    if (isAllowedSiteUrl(app.allowedHostPatterns, url)) continue;
    const host = url.hostname.length > 253 ? `${url.hostname.slice(0, 250)}...` : url.hostname;
    throw ConnectError.create(
      'lifecycle/host-not-allowed',
      `The payload's "${field}" is ${url.protocol}//${host}, not an https site on a host that app ${app.key} accepts (its allowedHostPatterns).`,
      { app: app.key, field, host },
    );
  }
}
