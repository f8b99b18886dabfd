import type { ForgeInvocationContext } from '../forge/forge-invocation-context.js';
import { ConnectClientError } from './connect-client-error.js';
import type { CallTarget } from './connect-http-client.js';
import { isLoopbackHost } from '../util/loopback.js';
import { forgeBudget, forgeContextIds, type RateLimitBudgetRef } from './rate-limit/rate-limit-key.js';

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
  let budget: RateLimitBudgetRef | undefined;
  const target: CallTarget = {
    baseUrl,
    confineToBasePath: true,
    authorize: async () => `Bearer ${token}`,
    get rateLimit() {
      if (budget === undefined) {
        const ids = forgeContextIds(forge);
        budget = forgeBudget(ids.appKey, ids.installationId, ids.apiBaseUrl);
      }
      return budget;
    },
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

/** A Forge installation to call outside a request: its app and installationId (a `ForgeInstallation` is one). */
export interface ForgeInstallationTarget {
  readonly appKey: string;
  readonly installationId: string;
}

/** What the stored-token mode needs: the saved token of an installation, and forgetting it. */
export interface SavedSystemTokens {
  systemTokenOf(appKey: string, installationId: string): Promise<{ token: string | undefined; expiresAt: Date | null; apiBaseUrl: string } | null>;
  dropSystemToken(appKey: string, installationId: string): Promise<void>;
}

/**
 * The call target of `asForgeApp(installationId)`: the installation's saved app system token (looked
 * up on the first call), sent only under its `apiBaseUrl`. No saved or no unexpired token is
 * `client/forge-token-expired`; a 401 from the product drops the token, so it is never sent again.
 */
export function savedTokenCallTarget(tokens: SavedSystemTokens, target: ForgeInstallationTarget): () => Promise<CallTarget> {
  const { appKey, installationId } = target;
  let found: Promise<CallTarget> | undefined;
  const load = async (): Promise<CallTarget> => {
    const saved = await tokens.systemTokenOf(appKey, installationId);
    const fix =
      'Forge saves it from every call to the remote whose manifest entry sets auth.appSystemToken: true; add a scheduledTrigger (endpoint on this remote) so one arrives at least hourly.';
    if (saved === null) {
      throw new ConnectClientError(
        'client/forge-token-expired',
        `No call of the Forge installation ${installationId} of ${appKey} has been seen, so there is no saved app system token. ${fix}`,
        {
          method: '-',
          url: '-',
          retries: 0,
        },
      );
    }
    if (saved.token === undefined) {
      const when = saved.expiresAt === null ? 'none is saved (or it was refused)' : `it expired at ${saved.expiresAt.toISOString()}`;
      throw new ConnectClientError(
        'client/forge-token-expired',
        `The saved app system token of the Forge installation ${installationId} of ${appKey} is not usable: ${when}. ${fix}`,
        {
          method: '-',
          url: '-',
          retries: 0,
        },
      );
    }
    const token = saved.token;
    let budget: RateLimitBudgetRef | undefined;
    return {
      baseUrl: checkedApiBaseUrl(saved.apiBaseUrl, 'asForgeApp'),
      confineToBasePath: true,
      get rateLimit() {
        return (budget ??= forgeBudget(appKey, installationId, undefined));
      },
      authorize: async () => `Bearer ${token}`,
      onUnauthorized: async (error) => {
        found = undefined;
        await tokens.dropSystemToken(appKey, installationId).catch(() => undefined);
        return new ConnectClientError(
          'client/forge-token-expired',
          `The product refused the saved app system token of the Forge installation ${installationId} of ${appKey} (HTTP 401); it was dropped and will not be sent again. The next Forge call brings a new one.`,
          { method: error.method, url: error.url, retries: error.retries, status: 401 },
          error,
        );
      },
    };
  };
  return () =>
    (found ??= load().catch((error: unknown) => {
      found = undefined;
      throw error;
    }));
}
