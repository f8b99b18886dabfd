import { parseInstallKeysBaseUrl } from '../config/url-options.js';
import { ConnectError } from '../errors/connect-error.js';

/** The longest key id accepted. Atlassian's kids are UUIDs (36 characters); this leaves room. */
export const MAX_KID_LENGTH = 128;

const SAFE_KID = /^[A-Za-z0-9][A-Za-z0-9_-]{0,127}$/;

/**
 * Whether `kid` is a key id we are willing to put into a key host URL: a strict allow-list of ASCII
 * letters, digits, `_` and `-`, starting with a letter or digit, at most {@link MAX_KID_LENGTH} long.
 * Everything that could change the meaning of a URL (`/`, `.`, `%`, `:`, `?`, `#`, whitespace, …) is
 * refused, so a token's header can never steer the key fetch to another path or host.
 */
export function isSafeKid(kid: unknown): kid is string {
  return typeof kid === 'string' && SAFE_KID.test(kid);
}

/**
 * The URL of the public key named `kid` under the install keys `base` URL: the kid becomes exactly one
 * path segment appended to the base path (a path prefix is kept, a trailing slash is tolerated).
 *
 * Throws `jwt/invalid-kid` when the kid is not safe ({@link isSafeKid}), and — defence in depth — when
 * the built URL would not have the base's origin and exactly the path `<base path>/<kid>`. Throws
 * `config/invalid` when the base is not a usable URL ({@link parseInstallKeysBaseUrl}).
 */
export function installKeyUrl(base: string, kid: string): string {
  const baseUrl = parseInstallKeysBaseUrl(base);
  if (!isSafeKid(kid)) {
    throw ConnectError.create('jwt/invalid-kid', 'The key id of the install token is not of a valid form.');
  }
  const basePath = baseUrl.pathname.replace(/\/+$/, '');
  const expectedPath = `${basePath}/${encodeURIComponent(kid)}`;
  const url = new URL(baseUrl.href);
  url.pathname = expectedPath;
  if (url.origin !== baseUrl.origin || url.pathname !== expectedPath || url.search !== '' || url.hash !== '') {
    throw ConnectError.create('jwt/invalid-kid', 'The key id of the install token would leave the install key host.', {
      kid,
    });
  }
  return url.href;
}
