import type { RateLimitTenant } from './rate-limit-snapshot.js';

/** Which budget a handle's calls count against: a key for the pacer's map, and the tenant it names. */
export interface RateLimitBudgetRef {
  readonly key: string;
  readonly tenant: RateLimitTenant;
}

/** A Connect tenant's budget (as the app and as its users: the points quota is per tenant and app). */
export function connectBudget(appKey: string, clientKey: string): RateLimitBudgetRef {
  return { key: `connect\n${appKey}\n${clientKey}`, tenant: Object.freeze({ kind: 'connect', appKey, clientKey }) };
}

/**
 * A Forge installation's budget: by app and installationId when known (a verified Forge call, a saved
 * installation), else by the `apiBaseUrl` alone (a bare `{ apiBaseUrl, systemToken }`).
 */
export function forgeBudget(appKey: string | undefined, installationId: string | undefined, apiBaseUrl: string | undefined): RateLimitBudgetRef {
  const key = installationId !== undefined ? `forge\n${appKey ?? ''}\n${installationId}` : `forge-url\n${apiBaseUrl ?? ''}`;
  return { key, tenant: Object.freeze({ kind: 'forge', appKey, installationId, apiBaseUrl }) };
}

/** The app key and installationId a Forge call context carries, when it is a full `ForgeInvocationContext`. */
export function forgeContextIds(forge: unknown): { appKey: string | undefined; installationId: string | undefined; apiBaseUrl: string | undefined } {
  const record = (forge ?? {}) as { app?: { key?: unknown }; installationId?: unknown; apiBaseUrl?: unknown };
  const appKey = typeof record.app?.key === 'string' ? record.app.key : undefined;
  const installationId = typeof record.installationId === 'string' && record.installationId !== '' ? record.installationId : undefined;
  const apiBaseUrl = typeof record.apiBaseUrl === 'string' ? record.apiBaseUrl.replace(/\/+$/, '') : undefined;
  return { appKey, installationId, apiBaseUrl };
}
