import { ConnectError } from '../errors/connect-error.js';
import { isLoopbackHost } from '../util/loopback.js';

/**
 * The URLs the framework fetches keys from are configuration, never taken from a token: these checks
 * make sure they are plain endpoint URLs (no credentials, query or fragment, which a fetch would send
 * or drop silently).
 */

/**
 * An install keys base URL (`https://connect-install-keys.atlassian.com`, or a local stand-in such as
 * `http://127.0.0.1:4000/keys`): absolute `http:`/`https:`, no credentials, query or fragment.
 */
export function parseInstallKeysBaseUrl(base: string): URL {
  let url: URL;
  try {
    url = new URL(base);
  } catch (cause) {
    throw ConnectError.create('config/invalid', 'The install keys URL is not an absolute URL.', undefined, cause);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw ConnectError.create('config/invalid', 'The install keys URL must use http or https.', {
      protocol: url.protocol,
    });
  }
  if (url.username !== '' || url.password !== '') {
    throw ConnectError.create('config/invalid', 'The install keys URL must not carry credentials.');
  }
  if (url.search !== '' || url.hash !== '' || base.includes('?') || base.includes('#')) {
    throw ConnectError.create('config/invalid', 'The install keys URL must not have a query or a fragment.', {
      installKeysUrl: `${url.origin}${url.pathname}`,
    });
  }
  return url;
}

/**
 * A Forge JWKS URL: https, or http on a loopback host (tests, the simulator); no credentials, query or
 * fragment. `name` is the option named in messages.
 */
export function parseForgeJwksUrl(value: unknown, name = 'forge.jwksUrl'): URL {
  let url: URL;
  try {
    url = new URL(String(value));
  } catch {
    throw ConnectError.create('config/invalid', `${name} ${JSON.stringify(value)} is not an absolute URL.`);
  }
  if (url.username || url.password || url.search || url.hash) {
    throw ConnectError.create('config/invalid', `${name} ${url.origin}${url.pathname} must not carry credentials, a query or a fragment.`);
  }
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && isLoopbackHost(url.hostname))) {
    throw ConnectError.create('config/invalid', `${name} ${url.href} must be https (plain http is accepted only on a loopback host, for tests).`);
  }
  return url;
}
