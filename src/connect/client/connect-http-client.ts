import { Logger } from '@nestjs/common';
import { ConnectClientError, productErrorCodeOf, productMessagesOf } from './connect-client-error.js';
import { paginate, type PageOptions } from './paginate.js';
import { ensureUnderBasePath, resolveRequestUrl, safeUrl, type QueryValue } from './request-url.js';
import type { RetryOptions } from '../config/connect-options.js';
import { backoffDelayMs, hintedDelayMs, isIdempotent, isRetryableStatus } from './retry-policy.js';
import type { RateLimitBudgetRef } from './rate-limit/rate-limit-key.js';
import type { RateLimitPacer } from './rate-limit/rate-limit-pacer.js';

export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE' | 'HEAD' | 'OPTIONS';

export interface ConnectRequestOptions {
  method?: HttpMethod | undefined;
  /**
   * Relative to the tenant's baseUrl (`/rest/api/3/myself`) or absolute on the tenant's origin; for the
   * Forge modes, relative to `apiBaseUrl` or absolute under it.
   */
  url: string;
  query?: Record<string, QueryValue> | undefined;
  /** Sent as JSON unless it is a string, Buffer or URLSearchParams. */
  body?: unknown | undefined;
  headers?: Record<string, string> | undefined;
  /** Per attempt; default from the module options (30 s). */
  timeoutMs?: number | undefined;
  signal?: AbortSignal | undefined;
  /** Retry tuning for this call; `false` disables retries. `{ retryNonIdempotent: true }` opts POST/PATCH in. */
  retry?: Partial<RetryOptions> | false | undefined;
}

export interface ConnectResponse<T> {
  status: number;
  headers: Headers;
  body: T;
  /** How many retries it took. */
  retries: number;
}

/** Where the calls of one handle go, and how each attempt is authorized. */
export interface CallTarget {
  /** Relative URLs resolve under it; absolute ones must stay on its origin. */
  readonly baseUrl: string;
  /** Replaces a leading `/rest/api/` (Confluence Data Center behind a proxy). */
  readonly restApiPrefix?: string | undefined;
  /** Absolute URLs must also stay under the baseUrl's path (the Forge `apiBaseUrl`). */
  readonly confineToBasePath?: boolean | undefined;
  /** The Authorization header for one attempt. */
  authorize(method: string, url: URL): Promise<string>;
  /** Called when the product answers 401 (a saved token it refuses), before the error is thrown; may return the error to throw instead. */
  onUnauthorized?(error: ConnectClientError): Promise<ConnectClientError | undefined>;
  /** The rate-limit budget the calls count against (a Connect tenant or a Forge installation). */
  readonly rateLimit?: RateLimitBudgetRef | undefined;
}

export interface ClientDefaults {
  readonly timeoutMs: number;
  readonly retry: Readonly<RetryOptions>;
  /** Per-tenant budgets from the products' rate-limit headers, and the requests waiting for them. */
  readonly pacer?: RateLimitPacer | undefined;
}

const logger = new Logger('ConnectClient');

/**
 * Calls one tenant's product REST API as the app or as a user, or a Forge installation's `apiBaseUrl`
 * with its OAuth tokens. Get one from `ConnectClient.asApp()`, `asUser()`, `asForgeApp()` or
 * `asForgeUser()`. JSON in and out; non-2xx answers reject with `ConnectClientError`.
 */
export class ConnectHttpClient {
  constructor(
    private readonly target: () => Promise<CallTarget>,
    private readonly defaults: ClientDefaults,
  ) {}

  async get<T = unknown>(url: string, options: Omit<ConnectRequestOptions, 'url' | 'method' | 'body'> = {}): Promise<T> {
    return (await this.request<T>({ ...options, method: 'GET', url })).body;
  }

  async post<T = unknown>(url: string, body?: unknown, options: Omit<ConnectRequestOptions, 'url' | 'method' | 'body'> = {}): Promise<T> {
    return (await this.request<T>({ ...options, method: 'POST', url, body })).body;
  }

  async put<T = unknown>(url: string, body?: unknown, options: Omit<ConnectRequestOptions, 'url' | 'method' | 'body'> = {}): Promise<T> {
    return (await this.request<T>({ ...options, method: 'PUT', url, body })).body;
  }

  async patch<T = unknown>(url: string, body?: unknown, options: Omit<ConnectRequestOptions, 'url' | 'method' | 'body'> = {}): Promise<T> {
    return (await this.request<T>({ ...options, method: 'PATCH', url, body })).body;
  }

  async delete<T = unknown>(url: string, options: Omit<ConnectRequestOptions, 'url' | 'method'> = {}): Promise<T> {
    return (await this.request<T>({ ...options, method: 'DELETE', url })).body;
  }

  /**
   * Every item of a paged collection: Jira's `startAt`/`maxResults`/`isLast`/`total` pages (`values`)
   * and Confluence's `results` with `_links.next` (or `start`/`limit`).
   *
   * @example
   * ```ts
   * for await (const project of client.asApp(ctx).paginate<Project>('/rest/api/3/project/search')) { … }
   * ```
   */
  paginate<T = unknown>(url: string, options: PageOptions & Omit<ConnectRequestOptions, 'url' | 'method' | 'body'> = {}): AsyncIterable<T> {
    return paginate<T>((pageUrl, query) => this.request({ ...options, method: 'GET', url: pageUrl, query }), url, options);
  }

  /** The full response: status, headers, parsed body and the retry count. */
  async request<T = unknown>(options: ConnectRequestOptions): Promise<ConnectResponse<T>> {
    const method = (options.method ?? 'GET').toUpperCase() as HttpMethod;
    const target = await this.target();
    const url = resolveRequestUrl(target.baseUrl, options.url, method, options.query, target.restApiPrefix);
    if (target.confineToBasePath) ensureUnderBasePath(target.baseUrl, url, method);
    const shownUrl = safeUrl(url);
    const retry: RetryOptions = options.retry === false ? { ...this.defaults.retry, maxAttempts: 1 } : { ...this.defaults.retry, ...options.retry };
    const mayRetry = isIdempotent(method) || retry.retryNonIdempotent;
    const { body, contentType } = encodeBody(options.body);
    const started = Date.now();
    for (let attempt = 1; ; attempt++) {
      const facts = { method, url: shownUrl, retries: attempt - 1 };
      if (options.signal?.aborted) throw new ConnectClientError('client/aborted', `${method} ${shownUrl} was aborted.`, facts);
      const headers: Record<string, string> = { accept: 'application/json', ...options.headers };
      if (contentType !== undefined && !hasHeader(headers, 'content-type')) headers['content-type'] = contentType;
      // Only once a response has carried rate-limit headers does a request wait for its tenant's budget.
      const pacer = this.defaults.pacer;
      let seq = 0;
      if (pacer !== undefined && pacer.pacing && target.rateLimit !== undefined) {
        const admitted = pacer.admit(target.rateLimit, facts, options.signal);
        seq = typeof admitted === 'number' ? admitted : await admitted;
      }
      try {
        headers.authorization = await target.authorize(method, url);
      } catch (error) {
        if (seq !== 0) pacer!.observe(target, seq, undefined, undefined, undefined);
        throw error;
      }
      const timeout = AbortSignal.timeout(options.timeoutMs ?? this.defaults.timeoutMs);
      const signal = options.signal ? AbortSignal.any([options.signal, timeout]) : timeout;
      let response: Response;
      let parsed: unknown;
      try {
        response = await fetch(url, { method, headers, signal, redirect: 'manual', ...(body !== undefined && { body }) });
        parsed = await readBody(response);
      } catch (error) {
        if (seq !== 0) pacer!.observe(target, seq, undefined, undefined, undefined);
        if (options.signal?.aborted) throw new ConnectClientError('client/aborted', `${method} ${shownUrl} was aborted.`, facts, error);
        const timedOut = timeout.aborted;
        const code = timedOut ? 'client/timeout' : 'client/network';
        const what = timedOut ? `did not answer within ${options.timeoutMs ?? this.defaults.timeoutMs} ms` : 'could not be reached';
        const delay = mayRetry ? this.nextDelay(attempt, retry, started, undefined) : undefined;
        if (delay === undefined) throw new ConnectClientError(code, `${method} ${shownUrl} ${what}.`, facts, error);
        logger.debug(`Retrying ${method} ${shownUrl} in ${delay} ms: it ${what} (attempt ${attempt + 1} of ${retry.maxAttempts}).`);
        await sleep(delay, options.signal, facts);
        continue;
      }
      if (pacer !== undefined) {
        pacer.observe(target, seq, response.status, response.headers, response.status === 429 ? hintedDelayMs(response.headers) : undefined);
      }
      if (response.status >= 200 && response.status < 300) {
        return { status: response.status, headers: response.headers, body: parsed as T, retries: attempt - 1 };
      }
      const retryable = isRetryableStatus(response.status);
      const hinted = retryable ? hintedDelayMs(response.headers) : undefined;
      const delay = retryable && mayRetry ? this.nextDelay(attempt, retry, started, hinted) : undefined;
      if (delay === undefined) {
        if (retryable && !mayRetry)
          logger.debug(`Not retrying ${method} ${shownUrl} after HTTP ${response.status}: ${method} is retried only when the call opts in (retry: { retryNonIdempotent: true }).`);
        const error = httpError(response, parsed, { ...facts, status: response.status });
        if (response.status === 401 && target.onUnauthorized !== undefined) throw (await target.onUnauthorized(error)) ?? error;
        throw error;
      }
      logger.debug(
        `Retrying ${method} ${shownUrl} in ${delay} ms after HTTP ${response.status} (${hinted !== undefined ? 'as the product asked' : 'backoff'}; attempt ${attempt + 1} of ${retry.maxAttempts}).`,
      );
      await sleep(delay, options.signal, facts);
    }
  }

  /** The wait before the next attempt, or `undefined` when no attempt or time is left. */
  private nextDelay(attempt: number, retry: RetryOptions, started: number, hinted: number | undefined): number | undefined {
    if (attempt >= retry.maxAttempts) return undefined;
    const delay = Math.min(hinted ?? backoffDelayMs(attempt, retry), retry.maxDelayMs);
    if (hinted !== undefined && hinted > retry.maxDelayMs) {
      logger.debug(`The product asked to wait ${hinted} ms, longer than maxDelayMs ${retry.maxDelayMs}: giving up.`);
      return undefined;
    }
    if (Date.now() - started + delay > retry.maxTotalMs) return undefined;
    return delay;
  }
}

function httpError(response: Response, body: unknown, facts: { method: string; url: string; retries: number; status: number }): ConnectClientError {
  const messages = productMessagesOf(body);
  if (response.status >= 300 && response.status < 400) {
    return new ConnectClientError(
      'client/http-error',
      `${facts.method} ${facts.url} answered a redirect (HTTP ${response.status}), which is not followed so credentials stay on the tenant's origin.`,
      facts,
    );
  }
  const detail = messages.length > 0 ? `: ${messages.join('; ')}` : '';
  const retried = facts.retries > 0 ? ` after ${facts.retries} retr${facts.retries === 1 ? 'y' : 'ies'}` : '';
  return new ConnectClientError('client/http-error', `${facts.method} ${facts.url} answered HTTP ${response.status}${retried}${detail}`, {
    ...facts,
    productMessages: messages,
    productErrorCode: productErrorCodeOf(body),
  });
}

async function readBody(response: Response): Promise<unknown> {
  const text = await response.text();
  if (text === '') return undefined;
  if (/json/i.test(response.headers.get('content-type') ?? '')) {
    try {
      return JSON.parse(text);
    } catch {
      return text;
    }
  }
  return text;
}

function encodeBody(body: unknown): { body: string | URLSearchParams | Uint8Array | undefined; contentType: string | undefined } {
  if (body === undefined) return { body: undefined, contentType: undefined };
  if (typeof body === 'string') return { body, contentType: 'text/plain; charset=utf-8' };
  if (body instanceof URLSearchParams) return { body, contentType: 'application/x-www-form-urlencoded' };
  if (body instanceof Uint8Array) return { body, contentType: 'application/octet-stream' };
  return { body: JSON.stringify(body), contentType: 'application/json' };
}

function hasHeader(headers: Record<string, string>, name: string): boolean {
  return Object.keys(headers).some((key) => key.toLowerCase() === name);
}

function sleep(ms: number, signal: AbortSignal | undefined, facts: { method: string; url: string; retries: number }): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(new ConnectClientError('client/aborted', `${facts.method} ${facts.url} was aborted while waiting to retry.`, facts));
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
