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
