/** The `aud` of a Forge Invocation Token names the app as this ARI prefix plus its app id. */
export const FORGE_APP_ARI_PREFIX = 'ari:cloud:ecosystem::app/';

/** `iss` of every Forge Invocation Token. */
export const FORGE_INVOCATION_TOKEN_ISSUER = 'forge/invocation-token';

/** A Forge app id is a UUID (the last segment of `ari:cloud:ecosystem::app/<uuid>`). */
const FORGE_APP_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

export function isForgeAppId(value: unknown): value is string {
  return typeof value === 'string' && FORGE_APP_ID.test(value);
}

/** `ari:cloud:ecosystem::app/<appId>`: what a FIT for this app carries in `aud`. */
export function forgeAppAri(appId: string): string {
  return `${FORGE_APP_ARI_PREFIX}${appId}`;
}

/** The app id of a Forge app ARI, or undefined when the value is not one. */
export function forgeAppIdOfAri(value: unknown): string | undefined {
  if (typeof value !== 'string' || !value.startsWith(FORGE_APP_ARI_PREFIX)) return undefined;
  const appId = value.slice(FORGE_APP_ARI_PREFIX.length);
  return isForgeAppId(appId) ? appId : undefined;
}
