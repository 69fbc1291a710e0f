/**
 * A bounded map that forgets its least recently used entry when full, and counts its
 * hits and misses.
 *
 * @example Capacity two
 * ```ts
 * import assert from "node:assert/strict";
 * import { LruCache } from "@einconv/runtime";
 *
 * const cache = new LruCache<string, number>(2);
 * cache.set("a", 1);
 * cache.set("b", 2);
 * cache.get("a");
 * cache.set("c", 3);
 * assert.equal(cache.get("b"), undefined);
 * assert.equal(cache.get("a"), 1);
 * ```
 */
export class LruCache<K, V> {
  #entries = new Map<K, V>();
  #capacity: number;
  #hits = 0;
  #misses = 0;

  /**
   * Creates an empty cache.
   *
   * @param capacity The largest number of entries kept (a non-negative integer).
   */
  constructor(capacity: number) {
    this.#capacity = checkCapacity(capacity);
  }

  /** The largest number of entries kept; assigning a smaller one evicts the oldest. */
  get capacity(): number {
    return this.#capacity;
  }

  set capacity(value: number) {
    this.#capacity = checkCapacity(value);
    this.#evict();
  }

  /** The number of entries held. */
  get size(): number {
    return this.#entries.size;
  }

  /** How many lookups found an entry. */
  get hits(): number {
    return this.#hits;
  }

  /** How many lookups found none. */
  get misses(): number {
    return this.#misses;
  }

  /** The entry for `key`, marked as most recently used, or `undefined`. */
  get(key: K): V | undefined {
    const value = this.#entries.get(key);
    if (value === undefined) {
      this.#misses++;
      return undefined;
    }
    this.#hits++;
    this.#entries.delete(key);
    this.#entries.set(key, value);
    return value;
  }

  /** Whether an entry for `key` is held (does not count as a use). */
  has(key: K): boolean {
    return this.#entries.has(key);
  }

  /** Stores `value` under `key` as the most recently used entry. */
  set(key: K, value: V): void {
    this.#entries.delete(key);
    this.#entries.set(key, value);
    this.#evict();
  }

  /** Forgets every entry and resets the counters. */
  clear(): void {
    this.#entries.clear();
    this.#hits = 0;
    this.#misses = 0;
  }

  #evict(): void {
    while (this.#entries.size > this.#capacity) {
      this.#entries.delete(this.#entries.keys().next().value as K);
    }
  }
}

function checkCapacity(capacity: number): number {
  if (!Number.isInteger(capacity) || capacity < 0) {
    throw new RangeError(
      `Cannot read capacity: expected a non-negative integer, got ${capacity}`,
    );
  }
  return capacity;
}
