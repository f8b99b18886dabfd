import { FakeForgeApi } from './fake-forge-api.js';
import { FakeForgeStorage } from './fake-forge-storage.js';

describe('FakeForgeStorage', () => {
  let storage: FakeForgeStorage;
  let token: string;
  const installationId = 'ari:cloud:ecosystem::installation/00000000-0000-4000-8000-000000000001';

  beforeAll(async () => {
    storage = await FakeForgeStorage.start({ entities: [{ name: 'note', attributes: { text: { type: 'string' }, n: { type: 'integer' } }, indexes: ['n'] }] });
    token = storage.issueToken(installationId);
  });
  afterAll(() => storage.close());

  async function post(operation: string, body: unknown, authorization: string | null = `Bearer ${token}`): Promise<{ status: number; body: unknown }> {
    const response = await fetch(`${storage.baseUrl}/${operation}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(authorization !== null && { authorization }) },
      body: JSON.stringify(body),
    });
    const text = await response.text();
    return { status: response.status, body: text === '' ? undefined : JSON.parse(text) };
  }

  it('checks the bearer token like the real API: none, unknown, expired, revoked and user tokens are refused', async () => {
    expect(await post('v1/get', { key: 'k' }, null)).toMatchObject({ status: 401, body: { code: 'UNAUTHORIZED' } });
    expect(await post('v1/get', { key: 'k' }, 'Bearer nope')).toMatchObject({ status: 401 });
    const expired = storage.issueToken(installationId, -1);
    expect(await post('v1/get', { key: 'k' }, `Bearer ${expired}`)).toMatchObject({ status: 401, body: { message: expect.stringContaining('expired') } });
    const revoked = storage.issueToken(installationId);
    storage.revoke(revoked);
    expect(await post('v1/get', { key: 'k' }, `Bearer ${revoked}`)).toMatchObject({ status: 401 });

    const api = new FakeForgeApi('http://127.0.0.1:1', 'jira');
    storage.trust(api);
    const issued = api.issueTokens({ installationId });
    expect(await post('v1/get', { key: 'k' }, `Bearer ${issued.userToken}`)).toMatchObject({ status: 403, body: { code: 'FORBIDDEN' } });
    expect(await post('v1/set', { key: 'k', value: 1 }, `Bearer ${issued.systemToken}`)).toMatchObject({ status: 204 });
    expect(storage.valueOf(installationId, 'k')).toBe(1);
    expect(storage.requests.at(-1)).toMatchObject({ operation: 'v1/set', installationId, status: 204, headers: { authorization: 'Bearer …' } });
  });

  it('enforces the documented limits itself, with the documented error codes', async () => {
    expect(await post('v1/set', { key: 'a/b', value: 1 })).toMatchObject({ status: 400, body: { code: 'INVALID_KEY' } });
    expect(await post('v1/set', { key: 'k'.repeat(501), value: 1 })).toMatchObject({ status: 400, body: { code: 'KEY_TOO_LONG' } });
    expect(await post('v1/set', { key: 'big', value: 'x'.repeat(240 * 1024) })).toMatchObject({ status: 400, body: { code: 'MAX_SIZE' } });
    let deep: unknown = 1;
    for (let i = 0; i < 32; i++) deep = [deep];
    expect(await post('v1/set', { key: 'deep', value: deep })).toMatchObject({ status: 400, body: { code: 'MAX_DEPTH' } });
    expect(await post('v1/query', { limit: 21 })).toMatchObject({ status: 400, body: { code: 'LIST_QUERY_LIMIT_EXCEEDED' } });
    expect(await post('v1/query', { where: [{ property: 'value', condition: 'BEGINS_WITH', values: ['a'] }] })).toMatchObject({ body: { code: 'QUERY_WHERE_FIELD_INVALID' } });
    expect(await post('v1/query', { where: [{ property: 'key', condition: 'CONTAINS', values: ['a'] }] })).toMatchObject({ body: { code: 'INVALID_FILTER_CONDITION' } });
    expect(
      await post(
        'v1/batch/set',
        Array.from({ length: 26 }, (_, i) => ({ key: `k${i}`, value: i })),
      ),
    ).toMatchObject({ status: 400 });
    expect(await post('v1/entity/set', { entityName: 'note', key: 'n1', value: { text: 'x', extra: 1 } })).toMatchObject({ body: { code: 'INVALID_ENTITY_ATTRIBUTE' } });
    expect(await post('v1/entity/set', { entityName: 'note', key: 'n1', value: { n: 2 ** 31 } })).toMatchObject({ body: { code: 'INVALID_ENTITY_VALUE' } });
    expect(await post('v1/entity/query', { entityName: 'note', indexName: 'n', range: { condition: 'CONTAINS', values: ['x'] } })).toMatchObject({
      body: { code: 'INVALID_FILTER_CONDITION' },
    });
    expect(await post('v1/get', { key: 'never-set' })).toMatchObject({ status: 404, body: { code: 'KEY_NOT_FOUND' } });
  });

  it('answers injected failures with Retry-After, then recovers', async () => {
    storage.failNext(1);
    const response = await fetch(`${storage.baseUrl}/v1/get`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: '{"key":"k"}',
    });
    expect(response.status).toBe(429);
    expect(response.headers.get('retry-after')).toBe('0');
    expect(await response.json()).toMatchObject({ code: 'RATE_LIMIT_EXCEEDED' });
    expect(await post('v1/get', { key: 'k' })).toMatchObject({ status: 200, body: { key: 'k', value: 1 } });
  });

  it('expires values with a ttl and reports expireTime', async () => {
    expect(await post('v1/set', { key: 'short', value: 'v', options: { ttl: { value: 1, unit: 'SECONDS' } } })).toMatchObject({ status: 204 });
    expect(await post('v1/get', { key: 'short', options: { metadataFields: ['EXPIRE_TIME'] } })).toMatchObject({ status: 200, body: { expireTime: expect.any(String) } });
    await new Promise((resolve) => setTimeout(resolve, 1100));
    expect(await post('v1/get', { key: 'short' })).toMatchObject({ status: 404 });
  });
});
