import { inspect } from 'node:util';
import type { ResolvedConnectApp } from '../config/resolved-connect-app.js';
import type { ForgeInstallationContext, ForgeLicense } from './forge-token-claims.js';

/**
 * What a verified Forge Invocation Token (FIT) and its companion headers tell a Forge Remote handler.
 * `systemToken` and `userToken` are secrets: they are non-enumerable, so they stay out of
 * `JSON.stringify`, object spreads, `util.inspect` and loggers; read them by name only.
 */
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
  /** `app.appVersion`, when sent. */
  readonly appVersion: string | undefined;
  /** The site's stable id (`context.cloudId`, else the installation's first context). Survives reinstalls; `installationId` does not. */
  readonly cloudId: string | undefined;
  /** `context.siteUrl` (https only), when sent. */
  readonly siteUrl: string | undefined;
  /** `app.license` (isActive, type, isEvaluation), when sent. */
  readonly license: ForgeLicense | undefined;
  /** `app.installation.contexts`: every site and product of the installation. */
  readonly installationContexts: readonly ForgeInstallationContext[];
  /**
   * The FIT's `icLabel` (such as `orange`) when the call came from an Isolated Cloud environment, whose
   * configured JWKS verified it (`forge.isolatedCloudJwksUrls`); `undefined` for the regular cloud.
   */
  readonly icLabel: string | undefined;
  /** `x-forge-oauth-system`: the app's own OAuth token, when the manifest asks for it. A secret (non-enumerable). */
  readonly systemToken: string | undefined;
  /** `x-forge-oauth-user`: the user's OAuth token, when the manifest asks for it. A secret (non-enumerable). */
  readonly userToken: string | undefined;
  /** Every verified claim. */
  readonly claims: Readonly<Record<string, unknown>>;
}

/** The OAuth tokens Forge sends beside the FIT. */
export interface ForgeOAuthTokens {
  readonly systemToken: string | undefined;
  readonly userToken: string | undefined;
}

/**
 * Builds the context object: every field enumerable except the two tokens, which are defined
 * non-enumerable (so serialising or logging the context never shows them); `util.inspect` also
 * leaves out the app's descriptor and the raw claims to keep log lines short.
 */
export function createForgeInvocationContext(fields: Omit<ForgeInvocationContext, 'systemToken' | 'userToken'>, tokens: ForgeOAuthTokens): ForgeInvocationContext {
  const context = {
    app: fields.app,
    appId: fields.appId,
    environment: Object.freeze({ ...fields.environment }),
    installationId: fields.installationId,
    apiBaseUrl: fields.apiBaseUrl,
    module: fields.module === undefined ? undefined : Object.freeze({ ...fields.module }),
    context: fields.context,
    accountId: fields.accountId,
    appVersion: fields.appVersion,
    cloudId: fields.cloudId,
    siteUrl: fields.siteUrl,
    license: fields.license === undefined ? undefined : Object.freeze({ ...fields.license }),
    installationContexts: fields.installationContexts,
    icLabel: fields.icLabel,
    claims: fields.claims,
  };
  Object.defineProperties(context, {
    systemToken: { value: tokens.systemToken, enumerable: false },
    userToken: { value: tokens.userToken, enumerable: false },
    [inspect.custom]: {
      enumerable: false,
      value(this: ForgeInvocationContext) {
        return {
          app: this.app.key,
          appId: this.appId,
          environment: this.environment,
          installationId: this.installationId,
          apiBaseUrl: this.apiBaseUrl,
          module: this.module,
          accountId: this.accountId,
          cloudId: this.cloudId,
          appVersion: this.appVersion,
          icLabel: this.icLabel,
          systemToken: this.systemToken === undefined ? undefined : '[redacted]',
          userToken: this.userToken === undefined ? undefined : '[redacted]',
        };
      },
    },
  });
  return Object.freeze(context) as ForgeInvocationContext;
}
