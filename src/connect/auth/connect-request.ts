import type { ConnectRequestContext } from './jwt/connect-token-verifier.js';

/** Where the guard leaves the verified context on the request object. */
export const CONNECT_CONTEXT = Symbol.for('atlassian-connect-nest:context');

export type RequestWithConnectContext = { [CONNECT_CONTEXT]?: ConnectRequestContext };

export function connectContextOf(request: unknown): ConnectRequestContext | undefined {
  return (request as RequestWithConnectContext)[CONNECT_CONTEXT];
}

/**
 * The request of an HTTP execution context: what `switchToHttp().getRequest()` returns, without the
 * three closures `switchToHttp()` creates on every call.
 */
export function httpRequestOf<T = unknown>(context: { getArgByIndex<A = unknown>(index: number): A }): T {
  return context.getArgByIndex<T>(0);
}
