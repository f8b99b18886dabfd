import type { AbstractHttpAdapter } from '@nestjs/core';
import { ConnectError } from '../errors/connect-error.js';
import { requestFacts } from './http-request-facts.js';
import { sendConnectError } from './send-connect-error.js';

/**
 * The largest lifecycle body accepted: Express's JSON parser default (100 KiB), applied on Fastify too
 * (whose own default is 1 MiB), so both adapters answer the same body the same way. Real lifecycle
 * payloads are about 2 KiB.
 */
export const LIFECYCLE_BODY_LIMIT_BYTES = 100 * 1024;

export type RouteHandler = (request: unknown, response: unknown) => Promise<void>;
type ErrorHandler = (error: unknown, request: unknown, reply: unknown) => unknown;

/** The part of a Fastify instance used here (the framework does not depend on fastify's types). */
interface FastifyRoutes {
  route(options: { method: 'POST'; url: string; bodyLimit: number; errorHandler: ErrorHandler; handler: RouteHandler }): unknown;
  readonly errorHandler: ErrorHandler;
}

/**
 * Registers the POST routes of the lifecycle callbacks so that a body the adapter's parser refuses
 * (invalid JSON, too large) gets a typed answer (`lifecycle/invalid-payload` 400,
 * `lifecycle/payload-too-large` 413) instead of the adapter's generic one. Every other failure, and
 * every other route, keeps Nest's own error handling.
 */
export function postLifecycleRoutes(
  adapter: AbstractHttpAdapter,
  routes: { path: string; handler: RouteHandler }[],
  failureOf: (error: unknown) => ConnectError | undefined = lifecycleBodyFailure,
): void {
  if (adapter.getType() === 'fastify') {
    const fastify = adapter.getInstance<FastifyRoutes>();
    for (const { path, handler } of routes) {
      fastify.route({
        method: 'POST',
        url: path,
        bodyLimit: LIFECYCLE_BODY_LIMIT_BYTES,
        // Route-scoped: only the parser failures of these paths are answered here. Nest's handler is
        // read per error, as Nest installs it after the routes are registered.
        errorHandler: (error, request, reply) => {
          const failure = failureOf(error);
          if (failure === undefined) return fastify.errorHandler(error, request, reply);
          sendConnectError(adapter, reply, failure);
          return undefined;
        },
        handler,
      });
    }
    return;
  }
  if (adapter.getType() === 'express') answerExpressBodyErrors(adapter, new Set(routes.map((route) => route.path)), failureOf);
  for (const { path, handler } of routes) adapter.post(path, handler);
}

/** Express runs its body parser before any route: its errors reach an error middleware. */
function answerExpressBodyErrors(adapter: AbstractHttpAdapter, lifecyclePaths: Set<string>, failureOf: (error: unknown) => ConnectError | undefined): void {
  adapter.use((error: unknown, request: unknown, response: unknown, next: (error?: unknown) => void) => {
    const failure = failureOf(error);
    const path = requestFacts(adapter, request).rawUrl.split('?', 1)[0] ?? '';
    if (failure === undefined || !lifecyclePaths.has(path)) {
      next(error);
      return;
    }
    sendConnectError(adapter, response, failure);
  });
}

/**
 * The typed error for a body parser failure of either adapter: body-parser's `entity.*` types on
 * Express, `FST_ERR_CTP_*` codes (and the JSON parser's SyntaxError with status 400) on Fastify.
 * `undefined` for anything else.
 */
export function lifecycleBodyFailure(error: unknown): ConnectError | undefined {
  const { type, code, statusCode } = (error ?? {}) as { type?: unknown; code?: unknown; statusCode?: unknown };
  if (type === 'entity.too.large' || code === 'FST_ERR_CTP_BODY_TOO_LARGE') {
    return ConnectError.create('lifecycle/payload-too-large', 'The lifecycle body is larger than this app accepts.');
  }
  const notJson =
    type === 'entity.parse.failed' ||
    code === 'FST_ERR_CTP_INVALID_JSON_BODY' ||
    code === 'FST_ERR_CTP_EMPTY_JSON_BODY' ||
    code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE' ||
    code === 'FST_ERR_CTP_INVALID_CONTENT_LENGTH' ||
    (error instanceof SyntaxError && statusCode === 400);
  return notJson ? ConnectError.create('lifecycle/invalid-payload', 'The lifecycle body is not valid JSON.') : undefined;
}
