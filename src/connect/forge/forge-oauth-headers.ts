import { ConnectError } from '../errors/connect-error.js';
import { FORGE_OAUTH_SYSTEM_HEADER, FORGE_OAUTH_USER_HEADER } from './forge-auth.constants.js';
import type { ForgeOAuthTokens } from './forge-invocation-context.js';

/** Longest OAuth token accepted in an `x-forge-oauth-*` header. */
const MAX_OAUTH_TOKEN_LENGTH = 8192;

/** The `x-forge-oauth-*` tokens of a Forge call; a repeated or oversized header is refused, never guessed at. */
export function forgeOAuthTokensOf(headers: Record<string, string | string[] | undefined>): ForgeOAuthTokens {
  return { systemToken: oauthToken(headers, FORGE_OAUTH_SYSTEM_HEADER), userToken: oauthToken(headers, FORGE_OAUTH_USER_HEADER) };
}

function oauthToken(headers: Record<string, string | string[] | undefined>, name: string): string | undefined {
  const value = headers[name];
  if (value === undefined || value === '') return undefined;
  if (Array.isArray(value)) throw ConnectError.create('forge/invalid-token', `The request carries more than one ${name} header.`);
  if (value.length > MAX_OAUTH_TOKEN_LENGTH || /\s/.test(value.trim()) || value.trim() === '') {
    throw ConnectError.create('forge/invalid-token', `The ${name} header does not hold a single OAuth token.`);
  }
  return value.trim();
}
