/**
 * A bounded least-recently-used map with an optional time to live. Small on purpose: a Map keeps
 * insertion order, so the first key is always the least recently used one.
 */
export class LruCache<K, V> {
  private readonly entries = new Map<K, { value: V; expiresAt: number; touchedAt: number }>();

  constructor(
    readonly maxEntries: number,
    /** Time to live of entries set from now on (changing it leaves existing entries as they are). */
    public ttlMs = Number.POSITIVE_INFINITY,
    private readonly now: () => number = Date.now,
    /**
     * How stale an entry's recency may get before a hit moves it again (0: every hit). A hot entry hit
     * thousands of times a second then skips a delete and an insert per hit; eviction stays LRU to
     * within this many milliseconds.
     */
    private readonly touchIntervalMs = 0,
  ) {
    if (!Number.isInteger(maxEntries) || maxEntries < 1) throw new RangeError('maxEntries must be a positive integer');
  }

  get size(): number {
    return this.entries.size;
  }

  get(key: K): V | undefined {
    const entry = this.entries.get(key);
    if (entry === undefined) return undefined;
    const now = this.now();
    if (entry.expiresAt <= now) {
      this.entries.delete(key);
      return undefined;
    }
    if (this.touchIntervalMs === 0 || now - entry.touchedAt >= this.touchIntervalMs) {
      entry.touchedAt = now;
      this.entries.delete(key);
      this.entries.set(key, entry);
    }
    return entry.value;
  }

  set(key: K, value: V): void {
    this.entries.delete(key);
    const now = this.now();
    this.entries.set(key, { value, expiresAt: now + this.ttlMs, touchedAt: now });
    if (this.entries.size > this.maxEntries) {
      const oldest = this.entries.keys().next().value as K;
      this.entries.delete(oldest);
    }
  }

  delete(key: K): boolean {
    return this.entries.delete(key);
  }

  clear(): void {
    this.entries.clear();
  }
}
