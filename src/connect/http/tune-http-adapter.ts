import { createHash, hash } from 'node:crypto';
import type { AbstractHttpAdapter } from '@nestjs/core';

type Middleware = (request: BodyRequest, response: unknown, next: (error?: unknown) => void) => void;

interface BodyRequest {
  headers: Record<string, string | string[] | undefined>;
  body?: unknown;
}

/** The part of an Express application used here (the framework does not depend on express's types). */
interface ExpressSettings {
  disable(setting: string): unknown;
  set(setting: string, value: unknown): unknown;
  get(setting: string): unknown;
}

/** Express's weak ETag of an empty body. */
const EMPTY_WEAK_ETAG = 'W/"0-2jmj7l5rSw0yVb/vlWAYkK/YBwk"';

/** SHA-1 in base64, one-shot where Node has `crypto.hash` (20.12+), which spares a Hash object per response. */
const sha1Base64: (data: string | Buffer) => string =
  typeof hash === 'function' ? (data) => hash('sha1', data, 'base64') : (data) => createHash('sha1').update(data).digest('base64');

/**
 * The weak ETag Express sends by default (`W/"<byte length in hex>-<first 27 characters of the base64
 * SHA-1>"`, the `etag` package's form), byte for byte, computed without copying a string body into a Buffer.
 */
export function weakEtag(body: string | Buffer, encoding?: BufferEncoding): string {
  const utf8String = typeof body === 'string' && (encoding === undefined || encoding === 'utf8' || encoding === 'utf-8');
  const data = utf8String || Buffer.isBuffer(body) ? body : Buffer.from(body, encoding);
  const length = typeof data === 'string' ? Buffer.byteLength(data, 'utf8') : data.length;
  if (length === 0) return EMPTY_WEAK_ETAG;
  return `W/"${length.toString(16)}-${sha1Base64(data).slice(0, 27)}"`;
}

/**
 * Whether a request has a body, by the test body-parser itself applies first (a `Transfer-Encoding`, or a
 * numeric `Content-Length`, `0` included): requests it is false for are left alone by every body parser.
 */
function hasBody(request: BodyRequest): boolean {
  const length = request.headers['content-length'];
  return request.headers['transfer-encoding'] !== undefined || (length !== undefined && !Number.isNaN(Number(length)));
}

/**
 * Runs `parsers` one after the other (as separate middleware would run), but only for requests with a
 * body. A request without one gets what the parsers give it, `req.body` left `undefined`, at the cost of
 * one header check instead of a router layer per parser.
 */
function bodyParsersForRequestsWithABody(parsers: readonly Middleware[]): Middleware {
  return function connectBodyParser(request, response, next) {
    if (!hasBody(request)) {
      if (!('body' in request)) request.body = undefined;
      next();
      return;
    }
    let index = 0;
    const step = (error?: unknown): void => {
      if (error !== undefined || index === parsers.length) {
        next(error);
        return;
      }
      parsers[index++]!(request, response, step);
    };
    step();
  };
}

/**
 * Settings for an authenticated JSON backend, applied to a new HTTP adapter before `NestFactory.create()`:
 *
 * - **Express**: the JSON and URL-encoded body parsers Nest registers (with the options Nest gives them,
 *   `rawBody` included) run as one middleware that skips requests without a body (GETs, most of what a
 *   Connect app serves), instead of two router layers for every request; bodies are parsed exactly as
 *   before, and parser errors (invalid JSON, too large) reach the same error handlers. The
 *   `X-Powered-By: Express` header is no longer sent. ETags stay on and stay the same (Express's weak
 *   ETags, computed without a copy of the body).
 * - **Fastify**: nothing to change; the adapter is returned as it is.
 *
 * Measured in `npm run bench` (docs/benchmarks.md); the example app and scaffolded apps use it.
 *
 * ```ts
 * const app = await NestFactory.create(AppModule, tuneHttpAdapter(new ExpressAdapter()));
 * ```
 */
export function tuneHttpAdapter<A extends AbstractHttpAdapter>(adapter: A): A {
  if (adapter.getType() !== 'express') return adapter;
  const settings = adapter.getInstance<Partial<ExpressSettings>>();
  if (typeof settings.disable === 'function') settings.disable('x-powered-by');
  // The same tags as Express's default weak ETags, cheaper; an app that sets its own keeps it.
  if (typeof settings.get === 'function' && typeof settings.set === 'function' && settings.get('etag') === 'weak') settings.set('etag', weakEtag);

  const registerParsers = adapter.registerParserMiddleware.bind(adapter) as (prefix?: string, rawBody?: boolean) => unknown;
  const use = adapter.use.bind(adapter) as (...args: unknown[]) => unknown;
  adapter.registerParserMiddleware = (prefix?: string, rawBody?: boolean) => {
    // The adapter registers each parser with use(parser): collected here, then registered as one.
    const parsers: Middleware[] = [];
    adapter.use = (...args: unknown[]) => {
      const handler = args[args.length - 1];
      if (args.length === 1 && typeof handler === 'function') parsers.push(handler as Middleware);
      else use(...args);
      return adapter;
    };
    try {
      registerParsers(prefix, rawBody);
    } finally {
      adapter.use = use;
    }
    if (parsers.length > 0) use(bodyParsersForRequestsWithABody(parsers));
  };
  return adapter;
}
