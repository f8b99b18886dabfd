/** How a route authenticates. */
export interface ConnectAuthOptions {
  /**
   * `'request'` (default): the token's qsh must be the hash of this very request.
   * `'context'`: also accept context tokens (`qsh: "context-qsh"`, from `AP.context.getToken()`);
   * use it only for routes your own front end calls with such a token.
   */
  qsh?: 'request' | 'context' | undefined;
  /**
   * The key of the app the route belongs to. Usually not needed: the app whose baseUrl path (or host)
   * the request is under is used.
   */
  app?: string | undefined;
  /**
   * The route serves a page the product frames (general page, macro, panel): after verification the
   * response gets `Content-Security-Policy: frame-ancestors <tenant baseUrl/displayUrl origins>` and,
   * when the request came over https, `Strict-Transport-Security`. Behind a TLS-terminating proxy,
   * https is detected from `X-Forwarded-Proto` only when the HTTP adapter trusts the proxy
   * (`app.set('trust proxy', …)` on Express, `new FastifyAdapter({ trustProxy })` on Fastify). `@ConnectPage()` is the shorthand.
   */
  page?: boolean | undefined;
}

/** The metadata key of `@ConnectAuth()`'s options on a route or controller. */
export const CONNECT_AUTH_OPTIONS = 'atlassian-connect-nest:auth-options';
