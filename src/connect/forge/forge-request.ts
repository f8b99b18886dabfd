import type { ForgeInvocationContext } from './forge-invocation-context.js';

/** Where `@ForgeAuth()` leaves the verified invocation on the request object. */
export const FORGE_CONTEXT = Symbol.for('atlassian-connect-nest:forge-context');

export type RequestWithForgeContext = { [FORGE_CONTEXT]?: ForgeInvocationContext };

/** The verified Forge invocation of a `@ForgeAuth()` request, if any. */
export function forgeContextOf(request: unknown): ForgeInvocationContext | undefined {
  return (request as RequestWithForgeContext)[FORGE_CONTEXT];
}
