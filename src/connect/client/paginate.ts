import { ConnectClientError } from './connect-client-error.js';
import type { QueryValue } from './request-url.js';
import { CONNECT_DEFAULTS } from '../config/connect-defaults.js';

export interface PageOptions {
  query?: Record<string, QueryValue> | undefined;
  /** Stop after this many pages even if the product says there are more (default 1000). */
  maxPages?: number | undefined;
}

/** Fetches one page; only its parsed body is read. */
type FetchPage = (url: string, query: Record<string, QueryValue> | undefined) => Promise<{ readonly body: unknown }>;

interface JiraPage {
  values: unknown[];
  startAt?: number;
  maxResults?: number;
  total?: number;
  isLast?: boolean;
}

interface ConfluencePage {
  results: unknown[];
  start?: number;
  limit?: number;
  size?: number;
  _links?: { next?: string };
}

/** Walks the pages of a collection; see `ConnectHttpClient.paginate`. */
export async function* paginate<T>(fetchPage: FetchPage, url: string, options: PageOptions): AsyncGenerator<T> {
  const maxPages = options.maxPages ?? CONNECT_DEFAULTS.calls.maxPages;
  let nextUrl: string | undefined = url;
  let query: Record<string, QueryValue> | undefined = options.query;
  for (let page = 0; nextUrl !== undefined && page < maxPages; page++) {
    const { body } = await fetchPage(nextUrl, query);
    if (isJiraPage(body)) {
      yield* body.values as T[];
      const startAt = (body.startAt ?? 0) + body.values.length;
      const done = body.isLast === true || body.values.length === 0 || (typeof body.total === 'number' && startAt >= body.total);
      if (done) return;
      query = { ...query, ...(body.maxResults !== undefined && { maxResults: body.maxResults }), startAt };
      nextUrl = withoutParams(nextUrl, ['startAt', 'maxResults']);
    } else if (isConfluencePage(body)) {
      yield* body.results as T[];
      if (body.results.length === 0) return;
      if (typeof body._links?.next === 'string') {
        // `_links.next` already carries every parameter, relative to the site's base (`/wiki`).
        nextUrl = body._links.next;
        query = undefined;
      } else if (body._links === undefined && typeof body.limit === 'number' && (body.size ?? body.results.length) >= body.limit) {
        query = { ...query, start: (body.start ?? 0) + body.results.length, limit: body.limit };
        nextUrl = withoutParams(nextUrl, ['start', 'limit']);
      } else {
        return;
      }
    } else {
      throw new ConnectClientError('client/invalid-request', `GET ${url} did not answer a page of results (no "values" or "results" array).`, { method: 'GET', url, retries: 0 });
    }
  }
}

function isJiraPage(body: unknown): body is JiraPage {
  return body !== null && typeof body === 'object' && Array.isArray((body as JiraPage).values);
}

function isConfluencePage(body: unknown): body is ConfluencePage {
  return body !== null && typeof body === 'object' && Array.isArray((body as ConfluencePage).results);
}

/** Drops paging parameters from a URL that the next page sets again (the query option adds them). */
function withoutParams(url: string, names: string[]): string {
  const start = url.indexOf('?');
  if (start === -1) return url;
  const kept = url
    .slice(start + 1)
    .split('&')
    .filter((pair) => !names.includes(decodeURIComponent(pair.split('=')[0] ?? '')));
  return kept.length === 0 ? url.slice(0, start) : `${url.slice(0, start)}?${kept.join('&')}`;
}
