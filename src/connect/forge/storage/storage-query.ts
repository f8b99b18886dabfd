import type { StorageEntry, StoragePage } from './forge-storage-types.js';

/** Most pages one iteration walks, whatever the API answers (a cursor that never ends stops here). */
export const MAX_STORAGE_QUERY_PAGES = 10_000;

/**
 * A storage query: iterate it (`for await`) for every entry, page after page by cursor, or take one
 * page with `page(cursor?)`. Each page is one request; nothing is sent until it is used.
 */
export class StorageQuery<T> implements AsyncIterable<StorageEntry<T>> {
  constructor(
    private readonly fetchPage: (cursor: string | undefined) => Promise<StoragePage<T>>,
    private readonly startCursor: string | undefined,
  ) {}

  /** One page, from `cursor` (default: the query's own `cursor`, else the start). */
  page(cursor: string | undefined = this.startCursor): Promise<StoragePage<T>> {
    return this.fetchPage(cursor);
  }

  /** Every entry, to the last page. */
  async *[Symbol.asyncIterator](): AsyncIterator<StorageEntry<T>> {
    let cursor = this.startCursor;
    for (let pages = 0; pages < MAX_STORAGE_QUERY_PAGES; pages++) {
      const page = await this.fetchPage(cursor);
      yield* page.results;
      if (page.nextCursor === undefined || page.nextCursor === cursor) return;
      cursor = page.nextCursor;
    }
  }

  /** Every entry in an array (walks all pages; for small result sets). */
  async toArray(): Promise<StorageEntry<T>[]> {
    const entries: StorageEntry<T>[] = [];
    for await (const entry of this) entries.push(entry);
    return entries;
  }
}

/** A page as the API answers it (`{ data, cursor }`), in the shape of `StoragePage`. */
export function pageOf<T>(body: unknown): StoragePage<T> {
  const record = (body ?? {}) as { data?: unknown; cursor?: unknown };
  const results = Array.isArray(record.data) ? (record.data as StorageEntry<T>[]) : [];
  const nextCursor = typeof record.cursor === 'string' && record.cursor !== '' ? record.cursor : undefined;
  return { results, ...(nextCursor !== undefined && { nextCursor }) };
}
