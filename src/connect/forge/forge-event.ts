import type { ResolvedConnectApp } from '../config/resolved-connect-app.js';
import type { ForgeInstallation } from './forge-installations.js';
import type { ForgeInvocationContext } from './forge-invocation-context.js';

/** What reached the events endpoint: a `trigger` event, a `scheduledTrigger`, or a `preUninstall`. */
export type ForgeEventKind = 'event' | 'scheduled' | 'pre-uninstall';

/** The Forge lifecycle event sent when the app is installed on a site. */
export const FORGE_INSTALLED_EVENT = 'avi:forge:installed:app';
/** The Forge lifecycle event sent when an installed app is upgraded to a new major version. */
export const FORGE_UPGRADED_EVENT = 'avi:forge:upgraded:app';

/** Forge's account of an earlier failed delivery, in the body of a redelivery. */
export interface ForgeRetryContext {
  /** How many deliveries failed before this one (1 on the first retry; Forge stops after 4). */
  readonly retryCount: number;
  /** `INVALID_REMOTE_INVOCATION_ERROR` (a non-2xx answer), `TIMEOUT_ERROR`, `INVALID_FORGE_INVOCATION_TOKEN` (a 401) … */
  readonly retryReason: string | undefined;
  /** Always `null` for remote deliveries (kept for parity with Forge functions). */
  readonly retryData: unknown;
}

/**
 * What a `@OnForgeEvent()`, `@OnForgeScheduledTrigger()` or `@OnForgePreUninstall()` handler receives.
 * The Forge Invocation Token is verified and the installation recorded before any handler runs.
 */
export interface ForgeEventContext<Payload extends object = Record<string, unknown>> {
  readonly kind: ForgeEventKind;
  /** The app (by the FIT's Forge app id). */
  readonly app: ResolvedConnectApp;
  /** The event name (`avi:jira:created:issue` …); `undefined` for scheduled triggers and preUninstall. */
  readonly eventType: string | undefined;
  /** The `scheduledTrigger` / `preUninstall` module key (`payload.context.moduleKey`), when sent. */
  readonly moduleKey: string | undefined;
  /** The event payload as Forge sent it, without `retryContext`. Frozen. */
  readonly payload: Readonly<Payload>;
  /** Set on a redelivery: Forge's count and reason of the failed ones. */
  readonly retryContext: ForgeRetryContext | undefined;
  /** How many times this backend has started this event's handlers (1 the first time; more after a failure). */
  readonly attempt: number;
  /** The installation as recorded after this call (`null` when installations are not kept: an app-provided tenant store). */
  readonly installation: ForgeInstallation | null;
  /** The verified Forge call (installationId, cloudId, tokens …). */
  readonly forge: ForgeInvocationContext;
  /**
   * When Forge stops waiting for the answer. A handler still running then keeps running, but the answer
   * (202) is sent without it; slow work belongs in a queue.
   */
  readonly answerBy: Date;
}
