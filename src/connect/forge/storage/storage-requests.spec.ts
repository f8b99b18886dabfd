import { ConnectClientError } from '../../client/connect-client-error.js';
import { resolveConnectOptions } from '../../config/resolve-connect-options.js';
import { httpStatusOf } from '../../errors/connect-error-http.js';
import { ForgeStorageError } from './forge-storage-error.js';
import { StorageConditions, allOf, anyOf } from './storage-conditions.js';
import { FORGE_STORAGE_LIMITS, checkValue } from './storage-limits.js';
import { batchKeysRequest, batchSetRequest, deleteRequest, entityQueryRequest, getRequest, queryRequest, setRequest, transactionRequest } from './storage-requests.js';
import { storageErrorOf } from './storage-transport.js';

/** The error a builder throws, or fails the test when it does not throw. */
function refusal(build: () => unknown): ForgeStorageError {
  try {
    build();
  } catch (error) {
    expect(error).toBeInstanceOf(ForgeStorageError);
    return error as ForgeStorageError;
  }
  throw new Error('expected the request to be refused');
}

describe('storage request bodies', () => {
  it('key-value, secret and entity operations go to their documented paths with their fields', () => {
    expect(getRequest('kvs', 'k')).toEqual({ operation: 'v1/get', idempotent: true, body: { key: 'k' } });
    expect(getRequest('secret', 'k', { metadataFields: ['CREATED_AT', 'CREATED_AT'] })).toEqual({
      operation: 'v1/secret/get',
      idempotent: true,
      body: { key: 'k', options: { metadataFields: ['CREATED_AT'] } },
    });
    expect(getRequest('entity', 'k', undefined, 'task').body).toEqual({ entityName: 'task', key: 'k' });
    expect(deleteRequest('entity', 'k', 'task')).toEqual({ operation: 'v1/entity/delete', idempotent: true, body: { entityName: 'task', key: 'k' } });
    expect(setRequest('kvs', 'k', [1, 'two'], { ttl: { value: 7, unit: 'DAYS' } })).toEqual({
      operation: 'v1/set',
      idempotent: true,
      body: { key: 'k', value: [1, 'two'], options: { ttl: { value: 7, unit: 'DAYS' } } },
    });
  });

  it('returnValue is sent with keyPolicy OVERRIDE, as the API requires; FAIL_IF_EXISTS and PREVIOUS are never retried', () => {
    expect(setRequest('kvs', 'k', 1, { returnValue: 'LATEST', returnMetadataFields: ['UPDATED_AT'] })).toEqual({
      operation: 'v1/set',
      idempotent: true,
      body: { key: 'k', value: 1, options: { keyPolicy: 'OVERRIDE', returnValue: 'LATEST', returnMetadataFields: ['UPDATED_AT'] } },
    });
    expect(setRequest('kvs', 'k', 1, { keyPolicy: 'FAIL_IF_EXISTS' }).idempotent).toBe(false);
    expect(setRequest('kvs', 'k', 1, { returnValue: 'PREVIOUS' }).idempotent).toBe(false);
    expect(refusal(() => setRequest('kvs', 'k', 1, { returnMetadataFields: ['CREATED_AT'] })).code).toBe('storage/invalid-request');
  });

  it('a key-value query has one BEGINS_WITH on key, limit and the cursor as `after`', () => {
    expect(queryRequest({ prefix: 'p:', pageSize: 20, metadataFields: ['EXPIRE_TIME'] }, 'c1')).toEqual({
      operation: 'v1/query',
      idempotent: true,
      body: { limit: 20, after: 'c1', where: [{ property: 'key', condition: 'BEGINS_WITH', values: ['p:'] }], options: { metadataFields: ['EXPIRE_TIME'] } },
    });
    expect(queryRequest({}, undefined).body).toEqual({});
    expect(refusal(() => queryRequest({ pageSize: FORGE_STORAGE_LIMITS.maxKvsPageSize + 1 }, undefined)).code).toBe('storage/invalid-request');
    expect(refusal(() => queryRequest({ pageSize: 0 }, undefined)).code).toBe('storage/invalid-request');
  });

  it('an entity query carries index, partition, range, filters, sort, limit and cursor', () => {
    const request = entityQueryRequest(
      'task',
      {
        index: 'by-status-due',
        partition: ['open'],
        where: StorageConditions.between(1, 9),
        filters: anyOf(['title', StorageConditions.contains('x')], ['done', StorageConditions.notExists()]),
        sort: 'DESC',
        pageSize: 100,
      },
      'cur',
    );
    expect(request.body).toEqual({
      entityName: 'task',
      indexName: 'by-status-due',
      partition: ['open'],
      range: { condition: 'BETWEEN', values: [1, 9] },
      filters: {
        or: [
          { property: 'title', condition: 'CONTAINS', values: ['x'] },
          { property: 'done', condition: 'NOT_EXISTS', values: [true] },
        ],
      },
      sort: 'DESC',
      limit: 100,
      cursor: 'cur',
    });
  });

  it.each<[string, () => unknown]>([
    ['a filter-only condition as where', () => entityQueryRequest('task', { index: 'by-key', where: StorageConditions.contains('x') }, undefined)],
    ['BETWEEN with one value', () => entityQueryRequest('task', { index: 'by-key', where: { condition: 'BETWEEN', values: [1] } }, undefined)],
    ['both and and or', () => entityQueryRequest('task', { index: 'by-key', filters: { and: [], or: [] } as never }, undefined)],
    ['an empty filter list', () => entityQueryRequest('task', { index: 'by-key', filters: { and: [] } }, undefined)],
    ['a bad attribute name', () => entityQueryRequest('task', { index: 'by-key', filters: allOf(['1bad', StorageConditions.exists()]) }, undefined)],
    ['a page of 101', () => entityQueryRequest('task', { index: 'by-key', pageSize: 101 }, undefined)],
    ['an index name of two characters', () => entityQueryRequest('task', { index: 'ab' }, undefined)],
    ['an entity name starting with _', () => entityQueryRequest('_task', { index: 'by-key' }, undefined)],
    ['an entity name with ..', () => entityQueryRequest('ta..sk', { index: 'by-key' }, undefined)],
    ['an upper-case entity name', () => getRequest('entity', 'k', undefined, 'Task')],
    ['an entity value that is not an object', () => setRequest('entity', 'k', 'text', undefined, 'task')],
  ])('refuses %s (storage/invalid-request)', (_what, build) => {
    expect(refusal(build).code).toBe('storage/invalid-request');
  });

  it('more than 100 conditions in one query are refused', () => {
    const filters = allOf(...Array.from({ length: 100 }, (_, i) => [`a${i}`, StorageConditions.equalTo(i)] as [string, ReturnType<typeof StorageConditions.equalTo>]));
    expect(() => entityQueryRequest('task', { index: 'by-key', filters }, undefined)).not.toThrow();
    expect(refusal(() => entityQueryRequest('task', { index: 'by-key', filters, where: StorageConditions.equalTo(1) }, undefined)).message).toMatch(/at most 100/);
  });
});

describe('storage limits', () => {
  it('keys: 1 to 500 of letters, digits, whitespace and : . _ - #, not only whitespace', () => {
    expect(getRequest('kvs', 'a'.repeat(500)).body).toEqual({ key: 'a'.repeat(500) });
    expect(getRequest('kvs', 'Team 1: tasks #3 - v.2_x').body).toEqual({ key: 'Team 1: tasks #3 - v.2_x' });
    for (const key of ['', 'a'.repeat(501), '  ', 'a/b', 'ä', 'a?b', 'a,b']) expect(refusal(() => getRequest('kvs', key)).code).toBe('storage/invalid-request');
  });

  it('values: 240 KiB of UTF-8 JSON, 31 levels, JSON only', () => {
    // `"` + n characters + `"` = n + 2 bytes.
    expect(checkValue('v1/set', 'x'.repeat(240 * 1024 - 2))).toBe(240 * 1024);
    expect(refusal(() => checkValue('v1/set', 'x'.repeat(240 * 1024 - 1))).code).toBe('storage/too-large');
    expect(refusal(() => checkValue('v1/set', 'é'.repeat(121 * 1024))).code).toBe('storage/too-large');
    const nested = (depth: number): unknown => (depth === 0 ? 1 : [nested(depth - 1)]);
    expect(() => checkValue('v1/set', nested(31))).not.toThrow();
    expect(refusal(() => checkValue('v1/set', nested(32))).code).toBe('storage/too-large');
    for (const value of [undefined, null, Number.NaN, { at: new Date() }, { n: Infinity }, () => 1])
      expect(refusal(() => checkValue('v1/set', value)).code).toBe('storage/invalid-request');
  });

  it('ttl: a whole number of a unit, at most a year', () => {
    expect(setRequest('kvs', 'k', 1, { ttl: { value: 365, unit: 'DAYS' } }).body).toMatchObject({ options: { ttl: { value: 365, unit: 'DAYS' } } });
    for (const ttl of [
      { value: 366, unit: 'DAYS' },
      { value: 0, unit: 'SECONDS' },
      { value: 1.5, unit: 'HOURS' },
      { value: 1, unit: 'WEEKS' },
    ]) {
      expect(refusal(() => setRequest('kvs', 'k', 1, { ttl: ttl as never })).code).toBe('storage/invalid-request');
    }
  });

  it('batches: 1 to 25 items, each key (with its entity) once, 4 MB', () => {
    const items = Array.from({ length: 25 }, (_, i) => ({ key: `k${i}`, value: i }));
    expect((batchSetRequest(items).body as unknown[]).length).toBe(25);
    expect(refusal(() => batchSetRequest([...items, { key: 'k25', value: 25 }])).code).toBe('storage/invalid-request');
    expect(refusal(() => batchKeysRequest('get', [])).code).toBe('storage/invalid-request');
    expect(refusal(() => batchKeysRequest('delete', [{ key: 'a' }, { key: 'a' }])).code).toBe('storage/invalid-request');
    // The same key in another entity is another item.
    expect(batchKeysRequest('delete', [{ key: 'a' }, { key: 'a', entityName: 'task' }]).body).toEqual([{ key: 'a' }, { key: 'a', entityName: 'task' }]);
    const big = Array.from({ length: 18 }, (_, i) => ({ key: `k${i}`, value: 'x'.repeat(239 * 1024) }));
    expect(refusal(() => batchSetRequest(big)).code).toBe('storage/too-large');
  });

  it('transactions: 1 to 25 operations, each key once, conditions on entities only, never retried', () => {
    const request = transactionRequest({
      set: [{ key: 'a', value: 1 }],
      delete: [{ key: 'b', entityName: 'task', conditions: allOf(['done', StorageConditions.equalTo(true)]) }],
      check: [{ key: 'c', entityName: 'task', conditions: allOf(['status', StorageConditions.exists()]) }],
    });
    expect(request).toEqual({
      operation: 'v1/transaction',
      idempotent: false,
      body: {
        set: [{ key: 'a', value: 1 }],
        delete: [{ key: 'b', entityName: 'task', conditions: { and: [{ property: 'done', condition: 'EQUAL_TO', values: [true] }] } }],
        check: [{ key: 'c', entityName: 'task', conditions: { and: [{ property: 'status', condition: 'EXISTS', values: [true] }] } }],
      },
    });
    expect(refusal(() => transactionRequest({})).code).toBe('storage/invalid-request');
    expect(refusal(() => transactionRequest({ set: Array.from({ length: 26 }, (_, i) => ({ key: `k${i}`, value: i })) })).code).toBe('storage/invalid-request');
    expect(refusal(() => transactionRequest({ set: [{ key: 'a', value: 1 }], delete: [{ key: 'a' }] })).code).toBe('storage/invalid-request');
    expect(refusal(() => transactionRequest({ set: [{ key: 'a', value: 1, conditions: allOf(['x', StorageConditions.exists()]) }] })).code).toBe('storage/invalid-request');
  });
});

describe('storage errors', () => {
  const answered = (status: number, productErrorCode?: string, retries = 0) =>
    new ConnectClientError('client/http-error', `POST … answered HTTP ${status}`, {
      method: 'POST',
      url: 'https://x/v1/get',
      status,
      retries,
      productErrorCode,
      productMessages: ['said so'],
    });

  it.each<[number, string | undefined, string]>([
    [404, 'KEY_NOT_FOUND', 'storage/not-found'],
    [400, 'KEY_NOT_FOUND', 'storage/not-found'],
    [409, undefined, 'storage/conflict'],
    [400, 'KEY_ALREADY_EXISTS', 'storage/conflict'],
    [400, 'MAX_SIZE', 'storage/too-large'],
    [400, 'MAX_DEPTH', 'storage/too-large'],
    [413, undefined, 'storage/too-large'],
    [429, 'RATE_LIMIT_EXCEEDED', 'storage/rate-limited'],
    [400, 'TOO_MANY_REQUESTS', 'storage/rate-limited'],
    [401, undefined, 'storage/unauthorized'],
    [403, undefined, 'storage/unauthorized'],
    [400, 'INVALID_KEY', 'storage/invalid-request'],
    [422, undefined, 'storage/invalid-request'],
    [500, undefined, 'storage/unavailable'],
    [503, undefined, 'storage/unavailable'],
  ])('HTTP %i %s is %s', (status, apiCode, code) => {
    const error = storageErrorOf('v1/get', answered(status, apiCode, 2));
    expect(error).toMatchObject({ code, status, apiCode, retries: 2, operation: 'v1/get' });
    expect(error.message).toContain('said so');
  });

  it('client failures become storage errors; each code has its own HTTP status', () => {
    expect(storageErrorOf('v1/set', new ConnectClientError('client/timeout', 'slow', { method: 'POST', url: 'u', retries: 3 })).code).toBe('storage/unavailable');
    expect(storageErrorOf('v1/set', new ConnectClientError('client/forge-token-expired', 'none saved', { method: '-', url: '-', retries: 0 })).code).toBe('storage/token-missing');
    expect(storageErrorOf('v1/set', new ConnectClientError('client/forge-token-expired', 'refused', { method: 'POST', url: 'u', retries: 0, status: 401 })).code).toBe(
      'storage/unauthorized',
    );
    expect(storageErrorOf('v1/set', new TypeError('boom')).code).toBe('storage/unavailable');
    expect(
      (
        [
          'storage/not-found',
          'storage/conflict',
          'storage/too-large',
          'storage/rate-limited',
          'storage/token-missing',
          'storage/unauthorized',
          'storage/invalid-request',
          'storage/unavailable',
        ] as const
      ).map(httpStatusOf),
    ).toEqual([404, 409, 413, 429, 503, 502, 400, 503]);
  });
});

describe('forge.storageApiBaseUrl', () => {
  const APPS = [{ product: 'jira' as const, key: 'com.test.storage-options', baseUrl: 'https://storage-options.example.com/jira', descriptor: { name: 'S' } }];
  const STORE = { find: async () => null, install: async () => ({}) as never, update: async () => null, ping: async () => undefined };
  const resolve = (storageApiBaseUrl: string | undefined) =>
    resolveConnectOptions({ apps: APPS, tenantStore: STORE, retention: { schedule: false }, forge: { storageApiBaseUrl } }, { nodeEnv: 'test' }).then(
      (r) => r.forge.storageApiBaseUrl,
    );

  it('defaults to Atlassian’s gateway and takes https or loopback http, without a trailing slash', async () => {
    expect(await resolve(undefined)).toBe('https://api.atlassian.com/forge/storage/kvs');
    expect(await resolve('http://127.0.0.1:4100/forge/storage/kvs/')).toBe('http://127.0.0.1:4100/forge/storage/kvs');
  });

  it.each(['http://storage.example.com/kvs', 'https://user:pw@api.atlassian.com/forge/storage/kvs', 'https://api.atlassian.com/kvs?x=1', 'not a url'])(
    'refuses %s with config/invalid',
    async (url) => {
      await expect(resolve(url)).rejects.toMatchObject({ code: 'config/invalid', message: expect.stringContaining('forge.storageApiBaseUrl') });
    },
  );
});
