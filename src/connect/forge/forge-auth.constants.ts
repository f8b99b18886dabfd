/** How a Forge Remote route authenticates. */
export interface ForgeAuthOptions {
  /**
   * The key of the Connect app whose Forge app id the token must name. Default: any app configured with
   * `forge.appId`; the token's `aud` then chooses the app.
   */
  app?: string | undefined;
}

/** The metadata key of `@ForgeAuth()`'s options on a route or controller. */
export const FORGE_AUTH_OPTIONS = 'atlassian-connect-nest:forge-auth-options';

/** Header of the app's own OAuth token on a Forge Remote call. */
export const FORGE_OAUTH_SYSTEM_HEADER = 'x-forge-oauth-system';
/** Header of the calling user's OAuth token on a Forge Remote call. */
export const FORGE_OAUTH_USER_HEADER = 'x-forge-oauth-user';
