/**
 * A bounded least-recently-used map with an optional time to live. Small on purpose: a Map keeps
 * insertion order, so the first key is always the least recently used one.
 */
/** One cached value; `live` turns false once the cache no longer holds it under `key`. */
interface Entry<K, V> {
  readonly key: K;
  readonly value: V;
  readonly expiresAt: number;
  touchedAt: number;
  live: boolean;
}

export class LruCache<K, V> {
  private readonly entries = new Map<K, Entry<K, V>>();
  /** Value (object) → its entry, for `holds`; only when constructed with `trackValues`. */
  private readonly byValue: WeakMap<object, Entry<K, V>> | undefined;

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
    /** Remember which entry holds each (object) value, so `holds(value)` needs no key. */
    trackValues = false,
  ) {
    if (!Number.isInteger(maxEntries) || maxEntries < 1) throw new RangeError('maxEntries must be a positive integer');
    this.byValue = trackValues ? new WeakMap() : undefined;
  }

  get size(): number {
    return this.entries.size;
  }

  get(key: K): V | undefined {
    const entry = this.entries.get(key);
    return entry === undefined ? undefined : this.hit(entry);
  }

  /**
   * Whether `value` (an object, with `trackValues`) is what `get` would return for its key right now,
   * found by the object's identity instead of by its key; counts as a hit for recency.
   */
  holds(value: V): boolean {
    const entry = this.byValue?.get(value as object);
    return entry !== undefined && entry.live && this.hit(entry) !== undefined;
  }

  set(key: K, value: V): void {
    this.drop(key);
    const now = this.now();
    const entry: Entry<K, V> = { key, value, expiresAt: now + this.ttlMs, touchedAt: now, live: true };
    this.entries.set(key, entry);
    if (this.byValue !== undefined && typeof value === 'object' && value !== null) this.byValue.set(value, entry);
    if (this.entries.size > this.maxEntries) this.drop(this.entries.keys().next().value as K);
  }

  delete(key: K): boolean {
    return this.drop(key);
  }

  clear(): void {
    for (const entry of this.entries.values()) entry.live = false;
    this.entries.clear();
  }

  /** The entry's value when it has not expired (refreshing its recency when due), else drops it. */
  private hit(entry: Entry<K, V>): V | undefined {
    const now = this.now();
    if (entry.expiresAt <= now) {
      this.drop(entry.key);
      return undefined;
    }
    if (this.touchIntervalMs === 0 || now - entry.touchedAt >= this.touchIntervalMs) {
      entry.touchedAt = now;
      this.entries.delete(entry.key);
      this.entries.set(entry.key, entry);
    }
    return entry.value;
  }

  private drop(key: K): boolean {
    const entry = this.entries.get(key);
    if (entry === undefined) return false;
    entry.live = false;
    return this.entries.delete(key);
  }
}
