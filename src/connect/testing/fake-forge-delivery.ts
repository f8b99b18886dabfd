import { FORGE_OAUTH_SYSTEM_HEADER } from '../forge/forge-auth.constants.js';
import type { MintInvocationTokenOptions } from './fake-forge-host.js';
import { sleep } from './fake-http.js';
import { httpCall } from './http-call.js';

/** Why Forge redelivers: a non-2xx (or 3xx) answer, no answer in time, or a 401 to its token. */
export type ForgeRetryReason = 'INVALID_REMOTE_INVOCATION_ERROR' | 'TIMEOUT_ERROR' | 'INVALID_FORGE_INVOCATION_TOKEN';

/** What Forge puts into `payload.retryContext` of a redelivery. */
export interface ForgeDeliveryRetryContext {
  /** 1 on the first redelivery, up to `retries`. */
  retryCount: number;
  /** Why the delivery before this one failed. */
  retryReason: ForgeRetryReason;
  /** Always `null` for a remote. */
  retryData: null;
}

/** How {@link FakeForgeHost} delivers an event or trigger (every field has Forge's default). */
export interface ForgeDeliveryOptions {
  /** Sent as `x-forge-oauth-system` (the endpoint's manifest asks for the app system token). Triggers never carry a user token. */
  systemToken?: string;
  /**
   * Overrides of each attempt's FIT. By default it names the `core:endpoint` module `endpointKey` and
   * has no `principal`, as Forge's event and trigger tokens do.
   */
  token?: MintInvocationTokenOptions;
  /** The key of the `core:endpoint` module the FIT names (`app.module.key`). Default `'forge-remote-endpoint'`. */
  endpointKey?: string;
  /** Redeliveries after a failed attempt. Default 4 (five attempts in all), as Forge. */
  retries?: number;
  /** Wait before each redelivery, in ms. Default 60 000 (about Forge's); tests use a few ms. */
  retryDelayMs?: number;
  /** How long one attempt may take before it counts as `TIMEOUT_ERROR`, in ms. Default 5000 (55 000 for preUninstall). */
  timeoutMs?: number;
  /** Overrides the Host header. */
  host?: string;
  /** Further headers (the FIT and the system token header win over these). */
  headers?: Record<string, string>;
}

/** Options of `sendInstalledEvent` / `sendUpgradedEvent`. */
export interface ForgeLifecycleEventOptions extends ForgeDeliveryOptions {
  /** `installerAccountId` / `upgraderAccountId`. Default the sample account. */
  accountId?: string;
  /** `app.version`. Default `token.appVersion`, else `'1.0.0'`. */
  appVersion?: string;
  /** `app.name`. Default none. */
  appName?: string;
}

/** Options of `runScheduledTrigger` / `runPreUninstall`. */
export interface ForgeTriggerOptions extends ForgeDeliveryOptions {
  /** `payload.contextToken`. Default a fresh opaque string per delivery (the same on its redeliveries). */
  contextToken?: string;
}

/** One attempt of a delivery, as the remote answered it. */
export interface ForgeDeliveryAttempt {
  /** The HTTP status, `'timeout'` (no answer within `timeoutMs`) or `'network-error'` (no connection). */
  status: number | 'timeout' | 'network-error';
  /** The answer (parsed JSON, or text); for a network error, its message; `undefined` after a timeout. */
  body: unknown;
  /** What this attempt's body carried in `payload.retryContext` (`undefined` on the first). */
  retryContext: ForgeDeliveryRetryContext | undefined;
  /** From sending the request to the answer (or to giving up on it). */
  durationMs: number;
  /** The FIT this attempt was sent with (a fresh one each time). */
  fit: string;
}

/** How a delivery went: `delivered` once an attempt was answered 2xx. */
export interface ForgeDeliveryReport {
  /** Whether an attempt was answered 2xx in time (the last attempt, then). */
  delivered: boolean;
  /** Every attempt in order: the first delivery, then the redeliveries. */
  attempts: ForgeDeliveryAttempt[];
}

/** One event or trigger to deliver; see {@link deliverToForgeRemote}. */
export interface ForgeDelivery {
  url: string;
  /** `payload` of the body, without `retryContext` (added to each redelivery). */
  payload: Record<string, unknown>;
  /** Mints the FIT of one attempt. */
  mintFit: () => Promise<string>;
  timeoutMs: number;
  options: ForgeDeliveryOptions;
}

export const FORGE_DELIVERY_RETRIES = 4;
export const FORGE_DELIVERY_RETRY_DELAY_MS = 60_000;
export const FORGE_DELIVERY_TIMEOUT_MS = 5000;
export const FORGE_PRE_UNINSTALL_TIMEOUT_MS = 55_000;
export const DEFAULT_FORGE_ENDPOINT_KEY = 'forge-remote-endpoint';

/**
 * Delivers like Forge: POST `{ payload }` with a fresh FIT each attempt, redelivering after a failure
 * (anything but a 2xx within `timeoutMs`; redirects are not followed) with `payload.retryContext`.
 */
export async function deliverToForgeRemote(delivery: ForgeDelivery): Promise<ForgeDeliveryReport> {
  const retries = delivery.options.retries ?? FORGE_DELIVERY_RETRIES;
  const retryDelayMs = delivery.options.retryDelayMs ?? FORGE_DELIVERY_RETRY_DELAY_MS;
  if (!Number.isInteger(retries) || retries < 0) throw new TypeError(`retries must be a whole number of redeliveries ≥ 0, not ${retries}.`);
  if (!Number.isFinite(retryDelayMs) || retryDelayMs < 0) throw new TypeError(`retryDelayMs must be ≥ 0, not ${retryDelayMs}.`);
  if (!Number.isFinite(delivery.timeoutMs) || delivery.timeoutMs <= 0) throw new TypeError(`timeoutMs must be > 0, not ${delivery.timeoutMs}.`);

  const attempts: ForgeDeliveryAttempt[] = [];
  let retryContext: ForgeDeliveryRetryContext | undefined;
  for (let attempt = 0; attempt <= retries; attempt++) {
    if (attempt > 0) await sleep(retryDelayMs);
    const fit = await delivery.mintFit();
    const body = { payload: { ...delivery.payload, ...(retryContext !== undefined && { retryContext }) } };
    const answer = await sendOnce(delivery, fit, body);
    attempts.push({ ...answer, retryContext, fit });
    if (typeof answer.status === 'number' && answer.status >= 200 && answer.status < 300) return { delivered: true, attempts };
    retryContext = { retryCount: attempt + 1, retryReason: retryReasonOf(answer.status), retryData: null };
  }
  return { delivered: false, attempts };
}

function retryReasonOf(status: ForgeDeliveryAttempt['status']): ForgeRetryReason {
  if (status === 'timeout') return 'TIMEOUT_ERROR';
  if (status === 401) return 'INVALID_FORGE_INVOCATION_TOKEN';
  return 'INVALID_REMOTE_INVOCATION_ERROR';
}

async function sendOnce(delivery: ForgeDelivery, fit: string, body: unknown): Promise<Pick<ForgeDeliveryAttempt, 'status' | 'body' | 'durationMs'>> {
  const { options } = delivery;
  const headers: Record<string, string> = { accept: 'application/json', ...options.headers, authorization: `Bearer ${fit}` };
  if (options.systemToken !== undefined) headers[FORGE_OAUTH_SYSTEM_HEADER] = options.systemToken;
  // A deadline on the whole exchange (the socket timeout only measures silence); the socket timeout is
  // set past it so that the deadline is what ends a slow attempt.
  const deadline = new AbortController();
  const timer = setTimeout(() => deadline.abort(), delivery.timeoutMs);
  const started = performance.now();
  try {
    const res = await httpCall({
      method: 'POST',
      url: delivery.url,
      headers,
      body,
      signal: deadline.signal,
      timeoutMs: delivery.timeoutMs + 1000,
      ...(options.host !== undefined && { host: options.host }),
    });
    return { status: res.status, body: res.body, durationMs: performance.now() - started };
  } catch (error) {
    const durationMs = performance.now() - started;
    if (deadline.signal.aborted) return { status: 'timeout', body: undefined, durationMs };
    return { status: 'network-error', body: error instanceof Error ? error.message : String(error), durationMs };
  } finally {
    clearTimeout(timer);
  }
}
