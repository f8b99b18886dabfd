import { VerifiedRequestCache, type RememberedRequest } from './verified-request-cache.js';

const token = (n: number) => `eyJhbGciOiJIUzI1NiJ9.eyJpc3MiOiJ${n}In0.${String(n).padStart(43, 'S')}`;
const request = (overrides: Partial<RememberedRequest> = {}): RememberedRequest => ({
  method: 'GET',
  rawUrl: '/jira/api/whoami?a=1',
  authorization: `JWT ${token(1)}`,
  ...overrides,
});

describe('VerifiedRequestCache', () => {
  const jira = { key: 'jira' };
  const confluence = { key: 'confluence' };

  it('finds a request-bound entry only for the same app, method, raw URL and Authorization header', () => {
    const cache = new VerifiedRequestCache<string>(10, 4096, 'first');
    cache.remember(jira, request(), false, 'verified', 100);
    expect(cache.find(jira, false, request())?.verified).toBe('verified');
    expect(cache.find(jira, true, request())?.verified).toBe('verified'); // request-bound tokens are good on context routes too
    expect(cache.find(confluence, false, request())).toBeUndefined();
    expect(cache.find(jira, false, request({ method: 'POST' }))).toBeUndefined();
    expect(cache.find(jira, false, request({ rawUrl: '/jira/api/whoami?a=2' }))).toBeUndefined();
    expect(cache.find(jira, false, request({ rawUrl: '/jira/api/whoami?a=1&b' }))).toBeUndefined();
    expect(cache.find(jira, false, request({ authorization: `jwt ${token(1)}` }))).toBeUndefined();
    expect(cache.find(jira, false, request({ authorization: undefined }))).toBeUndefined();
    expect(cache.find(jira, false, { ...request(), authorization: [`JWT ${token(1)}`, `JWT ${token(1)}`] })).toBeUndefined();
  });

  it('never lets two headers that end alike share an entry (the whole header is compared)', () => {
    const cache = new VerifiedRequestCache<string>(10, 4096, 'first');
    const signature = token(1).split('.')[2];
    cache.remember(jira, request(), false, 'verified', 100);
    const forged = `JWT eyJhbGciOiJIUzI1NiJ9.eyJpc3MiOiJhdHRhY2tlciJ9.${signature}`;
    expect(cache.find(jira, false, request({ authorization: forged }))).toBeUndefined();
    expect(cache.find(jira, false, request())?.verified).toBe('verified'); // and the real one is still there
  });

  it('finds a context-token entry on any URL of a context route of the same app, unless the URL carries a jwt parameter', () => {
    const cache = new VerifiedRequestCache<string>(10, 4096, 'first');
    cache.remember(jira, request({ rawUrl: '/jira/api/context/whoami' }), true, 'context', 100);
    expect(cache.find(jira, true, request({ rawUrl: '/jira/api/context/items?page=2', method: 'POST' }))?.verified).toBe('context');
    expect(cache.find(jira, false, request({ rawUrl: '/jira/api/context/whoami' }))).toBeUndefined(); // route wants request-bound tokens
    expect(cache.find(confluence, true, request({ rawUrl: '/jira/api/context/whoami' }))).toBeUndefined();
    expect(cache.find(jira, true, request({ rawUrl: `/jira/api/context/items?jwt=${token(2)}` }))).toBeUndefined();
  });

  it('keys tokens sent in the URL by the URL', () => {
    const cache = new VerifiedRequestCache<string>(10, 4096, 'first');
    const page = request({ rawUrl: `/jira/pages/hello?lic=none&jwt=${token(3)}`, authorization: undefined });
    cache.remember(jira, page, false, 'page', 100);
    expect(cache.find(jira, false, page)?.verified).toBe('page');
    expect(cache.find(jira, false, { ...page, rawUrl: `/jira/pages/hello?lic=active&jwt=${token(3)}` })).toBeUndefined();
    expect(cache.find(jira, false, { ...page, authorization: `JWT ${token(3)}` })).toBeUndefined();
  });

  it('stays within maxEntries, dropping the oldest, and does not keep requests longer than maxKeyLength', () => {
    const cache = new VerifiedRequestCache<number>(3, 200, 'first');
    for (let n = 0; n < 10; n++) cache.remember(jira, request({ authorization: `JWT ${token(n)}` }), false, n, 100);
    cache.remember(jira, request({ authorization: undefined, rawUrl: `/jira/pages/x?jwt=${token(11)}` }), false, 11, 100);
    expect(cache.stats().size).toBe(3);
    expect(cache.find(jira, false, request({ authorization: `JWT ${token(9)}` }))?.verified).toBe(9);
    expect(cache.find(jira, false, request({ authorization: `JWT ${token(0)}` }))).toBeUndefined();
    cache.remember(jira, request({ rawUrl: `/jira/api/whoami?q=${'x'.repeat(200)}` }), false, 99, 100);
    expect(cache.find(jira, false, request({ rawUrl: `/jira/api/whoami?q=${'x'.repeat(200)}` }))).toBeUndefined();
  });

  it('drops the least recently used entry when full: a hit moves an entry to the recent end, at most once a second', () => {
    const cache = new VerifiedRequestCache<string>(2, 4096, 'first');
    const a = request({ authorization: `JWT ${token(1)}` });
    const b = request({ authorization: `JWT ${token(2)}` });
    cache.remember(jira, a, false, 'a', 100);
    cache.remember(jira, b, false, 'b', 100);
    const now = Date.now() / 1000;
    cache.touch(cache.find(jira, false, a)!, now); // too soon after it was stored: stays the oldest
    cache.remember(jira, request({ authorization: `JWT ${token(3)}` }), false, 'c', 100);
    expect(cache.find(jira, false, a)).toBeUndefined();

    cache.touch(cache.find(jira, false, b)!, now + 2); // b is now the most recent
    cache.remember(jira, request({ authorization: `JWT ${token(4)}` }), false, 'd', 100);
    expect(cache.find(jira, false, b)?.verified).toBe('b');
    expect(cache.find(jira, false, request({ authorization: `JWT ${token(3)}` }))).toBeUndefined();
  });

  it('forgets an entry only when it is still the one stored', () => {
    const cache = new VerifiedRequestCache<string>(10, 4096, 'first');
    cache.remember(jira, request(), false, 'old', 100);
    const old = cache.find(jira, false, request())!;
    cache.remember(jira, request(), false, 'new', 200);
    cache.forget(old);
    expect(cache.find(jira, false, request())?.verified).toBe('new');
    cache.forget(cache.find(jira, false, request())!);
    expect(cache.stats().size).toBe(0);
  });

  it('by default stores a request only when it verifies for the second time', () => {
    const cache = new VerifiedRequestCache<string>(10, 4096);
    cache.remember(jira, request(), false, 'once', 100);
    expect(cache.find(jira, false, request())).toBeUndefined();
    expect(cache.stats().size).toBe(0);
    cache.remember(jira, request(), false, 'twice', 100);
    expect(cache.find(jira, false, request())?.verified).toBe('twice');
    // Many requests seen once each (as with a new token on every request) store next to nothing.
    for (let n = 100; n < 5100; n++) cache.remember(jira, request({ authorization: `JWT ${token(n)}` }), false, 'fresh', 100);
    expect(cache.stats().size).toBeLessThan(1 + 5000 * 0.04);
  });

  it('refuses bounds that are not positive integers', () => {
    expect(() => new VerifiedRequestCache(0, 10)).toThrow(RangeError);
    expect(() => new VerifiedRequestCache(10, 1.5)).toThrow(RangeError);
  });
});
