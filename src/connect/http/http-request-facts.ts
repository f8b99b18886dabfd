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
  return new AdapterRequestFacts(adapter, request);
}

/** One object of one shape per request, the host name read only when asked. */
class AdapterRequestFacts implements HttpRequestFacts {
  readonly method: string;
  readonly rawUrl: string;
  readonly authorization: string | string[] | undefined;
  private host: string | undefined | null = null;

  constructor(
    private readonly adapter: AbstractHttpAdapter,
    private readonly request: unknown,
  ) {
    this.method = String(adapter.getRequestMethod(request)).toUpperCase();
    this.rawUrl = String(adapter.getRequestUrl(request));
    this.authorization = (request as RequestLike).headers?.authorization;
  }

  // Read only when asked: it is needed only when apps share a path, and Express computes it per call
  // (Host header, trust-proxy rules), which is measurable on every authenticated request.
  get hostname(): string | undefined {
    if (this.host === null) this.host = hostnameOf(this.adapter.getRequestHostname(this.request));
    return this.host;
  }
}

function hostnameOf(value: unknown): string | undefined {
  if (typeof value !== 'string' || value === '') return undefined;
  // Some adapters keep the port; an IPv6 literal keeps its brackets.
  const withoutPort = value.startsWith('[') ? value.slice(0, value.indexOf(']') + 1) : value.replace(/:\d+$/, '');
  return withoutPort.toLowerCase();
}
