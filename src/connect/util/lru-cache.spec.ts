import { LruCache } from './lru-cache.js';

describe('LruCache', () => {
  it('evicts the least recently used entry past its bound', () => {
    const cache = new LruCache<string, number>(2);
    cache.set('a', 1);
    cache.set('b', 2);
    expect(cache.get('a')).toBe(1); // a is now the most recent
    cache.set('c', 3);
    expect(cache.get('b')).toBeUndefined();
    expect(cache.get('a')).toBe(1);
    expect(cache.get('c')).toBe(3);
    expect(cache.size).toBe(2);
  });

  it('forgets entries once their time to live has passed', () => {
    let now = 1000;
    const cache = new LruCache<string, number>(10, 50, () => now);
    cache.set('a', 1);
    now = 1049;
    expect(cache.get('a')).toBe(1);
    now = 1050;
    expect(cache.get('a')).toBeUndefined();
    expect(cache.size).toBe(0);
  });

  it('refuses a non-positive bound', () => {
    expect(() => new LruCache(0)).toThrow(RangeError);
  });
});

describe('LruCache with a touch interval', () => {
  it('moves a hit entry to the recent end only once the interval has passed', () => {
    let now = 0;
    const cache = new LruCache<string, number>(2, Number.POSITIVE_INFINITY, () => now, 1_000);
    cache.set('a', 1);
    cache.set('b', 2);
    now = 500;
    expect(cache.get('a')).toBe(1); // too soon to move: 'a' stays the oldest
    cache.set('c', 3);
    expect(cache.get('a')).toBeUndefined();
    now = 2_000;
    expect(cache.get('b')).toBe(2); // moved: 'c' is now the oldest
    cache.set('d', 4);
    expect(cache.get('c')).toBeUndefined();
    expect(cache.get('b')).toBe(2);
  });
});

describe('LruCache.holds (values tracked by identity)', () => {
  const record = (name: string) => ({ name });

  it('is true exactly while get(key) would return that very object', () => {
    let now = 0;
    const cache = new LruCache<string, { name: string }>(2, 100, () => now, 0, true);
    const a = record('a');
    const b = record('b');
    cache.set('a', a);
    expect(cache.holds(a)).toBe(true);
    expect(cache.holds(record('a'))).toBe(false); // an equal object is not the same record

    const replacement = record('a2');
    cache.set('a', replacement);
    expect(cache.holds(a)).toBe(false);
    expect(cache.holds(replacement)).toBe(true);

    cache.delete('a');
    expect(cache.holds(replacement)).toBe(false);

    cache.set('b', b);
    now = 100;
    expect(cache.holds(b)).toBe(false); // expired, and dropped
    expect(cache.size).toBe(0);
  });

  it('forgets evicted and cleared values, and follows a value set again under its key', () => {
    const cache = new LruCache<string, { name: string }>(2, Number.POSITIVE_INFINITY, Date.now, 0, true);
    const [a, b, c] = [record('a'), record('b'), record('c')];
    cache.set('a', a);
    cache.set('b', b);
    cache.set('c', c); // evicts a
    expect([cache.holds(a), cache.holds(b), cache.holds(c)]).toEqual([false, true, true]);
    cache.set('b', b); // same object again: still held
    expect(cache.holds(b)).toBe(true);
    cache.clear();
    expect([cache.holds(b), cache.holds(c)]).toEqual([false, false]);
  });

  it('counts as a hit for recency', () => {
    const cache = new LruCache<string, { name: string }>(2, Number.POSITIVE_INFINITY, Date.now, 0, true);
    const [a, b] = [record('a'), record('b')];
    cache.set('a', a);
    cache.set('b', b);
    expect(cache.holds(a)).toBe(true); // a is now the most recent
    cache.set('c', record('c'));
    expect(cache.get('b')).toBeUndefined();
    expect(cache.holds(a)).toBe(true);
  });

  it('is always false without value tracking', () => {
    const cache = new LruCache<string, { name: string }>(2);
    const a = record('a');
    cache.set('a', a);
    expect(cache.holds(a)).toBe(false);
  });
});
