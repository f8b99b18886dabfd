import type { ForgeInvocationContext } from '../forge/forge-invocation-context.js';
import { ConnectClientError } from './connect-client-error.js';
import type { CallTarget } from './connect-http-client.js';
import { isLoopbackHost } from '../util/loopback.js';

/** What the Forge modes of the client need from a verified Forge Remote call. */
export type ForgeCallContext = Pick<ForgeInvocationContext, 'apiBaseUrl' | 'systemToken' | 'userToken'>;

/** Whose Forge OAuth token a call carries. */
export type ForgePrincipal = 'system' | 'user';

const TOKEN_SOURCES: Record<ForgePrincipal, { method: string; header: string; setting: string }> = {
  system: { method: 'asForgeApp', header: 'x-forge-oauth-system', setting: 'appSystemToken' },
  user: { method: 'asForgeUser', header: 'x-forge-oauth-user', setting: 'appUserToken' },
};

/**
 * The call target of a Forge mode: `apiBaseUrl`, confined to its path, with `Authorization: Bearer`
 * and the chosen token. Checked when the handle is made, so a missing token fails before anything is
 * sent; the token itself never appears in an error.
 */
export function forgeCallTarget(forge: ForgeCallContext, principal: ForgePrincipal): () => Promise<CallTarget> {
  const source = TOKEN_SOURCES[principal];
  const token = principal === 'system' ? forge?.systemToken : forge?.userToken;
  if (typeof token !== 'string' || token.trim() === '' || /\s/.test(token)) {
    const who = principal === 'user' ? ' It is also absent when the app itself, not a user, made the call.' : '';
    throw new ConnectClientError(
      'client/forge-token',
      `${source.method}() needs the ${source.header} token, which Forge sends only when the manifest's remote sets auth.${source.setting}: true.${who}`,
      { method: '-', url: '-', retries: 0 },
    );
  }
  const baseUrl = checkedApiBaseUrl(forge.apiBaseUrl, source.method);
  const target: CallTarget = {
    baseUrl,
    confineToBasePath: true,
    authorize: async () => `Bearer ${token}`,
  };
  return async () => target;
}

/** `apiBaseUrl` without a trailing slash; https only, except on a loopback host (tests, local tunnels). */
function checkedApiBaseUrl(value: unknown, method: string): string {
  const refuse = (why: string) =>
    new ConnectClientError('client/invalid-request', `${method}() cannot call the Forge apiBaseUrl: it ${why}.`, { method: '-', url: '-', retries: 0 });
  if (typeof value !== 'string' || value === '') throw refuse('is missing');
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw refuse('is not an absolute URL');
  }
  if (url.username !== '' || url.password !== '' || url.search !== '' || url.hash !== '') throw refuse('carries credentials, a query or a fragment');
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && isLoopbackHost(url.hostname))) throw refuse('is not an https URL');
  return `${url.origin}${url.pathname.replace(/\/+$/, '')}`;
}
