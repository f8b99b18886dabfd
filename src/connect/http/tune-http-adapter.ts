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

/** The part of an Express response the JSON reply uses. */
interface ExpressResponse {
  statusCode: number;
  status(code: number): unknown;
  app?: Partial<ExpressSettings>;
  req?: { method?: string; headers: Record<string, string | string[] | undefined> };
  getHeader(name: string): unknown;
  setHeader(name: string, value: string): unknown;
  end(chunk: string, encoding: BufferEncoding): unknown;
}

type Reply = (response: unknown, body: unknown, statusCode?: number) => unknown;

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

/** Whether a plain JSON reply gets the weak ETag set here or none (ETags off). */
type PlainJsonEtag = 'weak' | 'none';

/**
 * Whether Express's `res.json(body)` would produce exactly what `replyJson` writes, and with which ETag: a
 * plain JSON body (no Error, no stream, nothing Nest reshapes), no Content-Type, ETag or Transfer-Encoding
 * chosen yet, Express's default JSON settings, ETags off or the weak ones set here, and none of the cases
 * `res.send` treats apart (HEAD, a conditional request, 204/205/304). `undefined` for everything else,
 * which goes the way it always went.
 */
function plainJsonReply(response: ExpressResponse, body: unknown, statusCode: number | undefined): PlainJsonEtag | undefined {
  if (typeof body !== 'object' || body === null || body instanceof Error || typeof (body as { getStream?: unknown }).getStream === 'function') return undefined;
  const request = response.req;
  const app = response.app;
  if (request === undefined || app === undefined || typeof app.get !== 'function') return undefined;
  if (request.method === 'HEAD' || request.headers['if-none-match'] !== undefined || request.headers['if-modified-since'] !== undefined) return undefined;
  const status = statusCode ?? response.statusCode;
  if (status === 204 || status === 205 || status === 304) return undefined;
  if (response.getHeader('content-type') !== undefined || response.getHeader('etag') !== undefined || response.getHeader('transfer-encoding') !== undefined) return undefined;
  if (app.get('json replacer') !== undefined || app.get('json spaces') !== undefined || app.get('json escape') !== undefined) return undefined;
  const etag = app.get('etag fn');
  if (etag === weakEtag) return 'weak';
  return etag === undefined || etag === false ? 'none' : undefined;
}

/**
 * Writes a JSON body with the headers `res.json()` → `res.send()` give it (`Content-Type: application/json;
 * charset=utf-8`, `Content-Length`, the weak `ETag`), without Express's per-response header parsing
 * (charset rewriting, MIME lookup, freshness of an unconditional request). False when the body does not
 * serialize to text (a `toJSON()` returning undefined), which is left to Express.
 */
function replyJson(response: ExpressResponse, body: unknown, statusCode: number | undefined, etag: PlainJsonEtag): boolean {
  const text = JSON.stringify(body) as string | undefined;
  if (typeof text !== 'string') return false;
  // Through res.status(), which checks the code as it does for Nest's own reply.
  if (statusCode !== undefined && statusCode !== null) response.status(statusCode);
  response.setHeader('Content-Type', 'application/json; charset=utf-8');
  response.setHeader('Content-Length', String(Buffer.byteLength(text, 'utf8')));
  if (etag === 'weak') response.setHeader('ETag', weakEtag(text));
  response.end(text, 'utf8');
  return true;
}

/**
 * Settings for an authenticated JSON backend, applied to a new HTTP adapter before `NestFactory.create()`:
 *
 * - **Express**: the JSON and URL-encoded body parsers Nest registers (with the options Nest gives them,
 *   `rawBody` included) run as one middleware that skips requests without a body (GETs, most of what a
 *   Connect app serves), instead of two router layers for every request; bodies are parsed exactly as
 *   before, and parser errors (invalid JSON, too large) reach the same error handlers. The
 *   `X-Powered-By: Express` header is no longer sent. ETags stay on and stay the same (Express's weak
 *   ETags, computed without a copy of the body). A plain JSON reply (what a controller returns, or an
 *   exception filter's error body) is written with the status, headers and bytes `res.json()` gives it,
 *   without `res.send()`'s header parsing; HEAD, conditional requests, 204/205/304, a Content-Type or ETag
 *   set by the route, streams and custom JSON or ETag settings still go through Express.
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

  const reply = adapter.reply.bind(adapter) as Reply;
  adapter.reply = ((response: ExpressResponse, body: unknown, statusCode?: number) => {
    const etag = plainJsonReply(response, body, statusCode);
    return etag !== undefined && replyJson(response, body, statusCode, etag) ? response : reply(response, body, statusCode);
  }) as typeof adapter.reply;

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
