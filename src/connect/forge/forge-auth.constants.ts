/** How a Forge Remote route authenticates. */
export interface ForgeAuthOptions {
  /**
   * The key of the Connect app whose Forge app id the token must name. Default: any app configured with
   * `forge.appId`; the token's `aud` then chooses the app.
   */
  app?: string | undefined;
  /**
   * Refuse calls from sites without an active licence (`app.license.isActive` must be `true`) with a
   * typed 402 `forge/unlicensed`. Forge sends no licence outside production, so tokens of a
   * DEVELOPMENT or STAGING environment without a `license` claim pass; a claim that says inactive never does.
   */
  requireLicense?: boolean | undefined;
}

/** The metadata key of `@ForgeAuth()`'s options on a route or controller. */
export const FORGE_AUTH_OPTIONS = 'atlassian-connect-nest:forge-auth-options';

/** Header of the app's own OAuth token on a Forge Remote call. */
export const FORGE_OAUTH_SYSTEM_HEADER = 'x-forge-oauth-system';
/** Header of the calling user's OAuth token on a Forge Remote call. */
export const FORGE_OAUTH_USER_HEADER = 'x-forge-oauth-user';
