import type { AbstractHttpAdapter } from '@nestjs/core';

/** What the framework reads from a request, the same way on every HTTP adapter. */
export interface HttpRequestFacts {
  readonly method: string;
  /** Path and query exactly as received (undecoded): what the qsh is computed over. */
  readonly rawUrl: string;
  readonly hostname: string | undefined;
  readonly authorization: string | string[] | undefined;
}

type RequestLike = { headers?: Record<string, string | string[] | undefined> };

/**
 * Reads through the adapter: the URL is Express's `originalUrl` or, on Fastify, the raw request's
 * `originalUrl ?? url` (both before any rewrite or mount prefix), never a decoded or re-encoded form;
 * the host name is taken from the Host header (or the forwarded one when the adapter trusts a proxy).
 */
export function requestFacts(adapter: AbstractHttpAdapter, request: unknown): HttpRequestFacts {
  const headers = (request as RequestLike).headers ?? {};
  let hostname: string | undefined | null = null;
  return {
    method: String(adapter.getRequestMethod(request)).toUpperCase(),
    rawUrl: String(adapter.getRequestUrl(request)),
    // Read only when asked: it is needed only when apps share a path, and Express computes it per call
    // (Host header, trust-proxy rules), which is measurable on every authenticated request.
    get hostname() {
      if (hostname === null) hostname = hostnameOf(adapter.getRequestHostname(request));
      return hostname;
    },
    authorization: headers.authorization,
  };
}

function hostnameOf(value: unknown): string | undefined {
  if (typeof value !== 'string' || value === '') return undefined;
  // Some adapters keep the port; an IPv6 literal keeps its brackets.
  const withoutPort = value.startsWith('[') ? value.slice(0, value.indexOf(']') + 1) : value.replace(/:\d+$/, '');
  return withoutPort.toLowerCase();
}
