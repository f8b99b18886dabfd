import type { ResolvedConnectApp } from '../config/resolved-connect-app.js';

/** What a verified Forge Invocation Token (FIT) and its companion headers tell a Forge Remote handler. */
export interface ForgeInvocationContext {
  /** The Connect app configured with this Forge app id (a Connect-on-Forge app has both). */
  readonly app: ResolvedConnectApp;
  /** The Forge app id (the UUID of `ari:cloud:ecosystem::app/<appId>`). */
  readonly appId: string;
  /** The FIT's app environment (`app.environment`): type such as DEVELOPMENT/STAGING/PRODUCTION, and id. */
  readonly environment: { readonly type: string | undefined; readonly id: string | undefined };
  /** `app.installationId`: `ari:cloud:ecosystem::installation/<uuid>`. */
  readonly installationId: string;
  /** `app.apiBaseUrl`: where the OAuth tokens below may be sent (and nowhere else). */
  readonly apiBaseUrl: string;
  /** `app.module` (type and key) when the invocation came from a module. */
  readonly module: { readonly type: string | undefined; readonly key: string | undefined } | undefined;
  /** The FIT's `context` claim, as sent (cloudId, localId, extension data …). */
  readonly context: Readonly<Record<string, unknown>>;
  /** The FIT's `principal` claim: the Atlassian account id of the user, absent for app-initiated calls. */
  readonly accountId: string | undefined;
  /** `x-forge-oauth-system`: the app's own OAuth token, when the manifest asks for it. */
  readonly systemToken: string | undefined;
  /** `x-forge-oauth-user`: the user's OAuth token, when the manifest asks for it. */
  readonly userToken: string | undefined;
  /** Every verified claim. */
  readonly claims: Readonly<Record<string, unknown>>;
}
