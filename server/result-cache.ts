/**
 * Search results cached in memory for the read paths GET /api/v1/search (the JSON body) and
 * GET / (the results and facet counts of the page and its htmx partial), so a repeated query
 * costs one tiny SELECT instead of both search legs and the facet counts.
 *
 * Key: the route, the parsed request (query, mode, filters, sort, page or limit and offset,
 * search as you type) and the caller's access scope (accessScope() in access.ts: admin,
 * internal, the sorted groups). Principals with the same rights share entries; different
 * rights never do. Only successful answers are stored; errors are never cached.
 *
 * Freshness comes from the database's change counters (indexes/embedded/change-stamp.ts),
 * read once per request before the lookup. Triggers bump them in the writing transaction, so
 * this process, another connection and another process (`innsikt ingest`, `innsikt delete`)
 * are seen alike:
 * - `revoke` moved (a chunk or document deleted, a document's access or groups changed, a
 *   re-ingest replacing chunks): every entry is invalid from the very next request. The cache
 *   never shows a row the store would no longer return.
 * - only `add` moved (new chunks): an entry stays valid for at most `refreshMs` after it was
 *   computed (INNSIKT_REFRESH_MS, like Elasticsearch's refresh_interval), so new documents
 *   appear within that delay.
 * - neither moved: valid until evicted (LRU by entry count, INNSIKT_CACHE_ENTRIES; 0 = off).
 * The stamp is read before the result is computed, so a change committed meanwhile makes the
 * entry stale at once. Concurrent misses of one key with the same stamp share one computation.
 */
import { accessScope } from '../indexes/embedded/access.ts';
import type { ChangeStamp } from '../indexes/embedded/change-stamp.ts';
import type { SqliteStore } from '../indexes/embedded/sqlite-store.ts';
import type { Principal, SearchFilters } from '../indexes/types.ts';
import type { Config } from './config.ts';
import { LruCache } from './answer/cache.ts';

export interface ResultCacheOptions {
  /** Entries kept at most; 0 turns the cache off. */
  entries: number;
  /** How long an entry may miss added documents, in ms. */
  refreshMs: number;
  /** The database's change counters; null when it has none (then nothing is cached). */
  stamp: () => ChangeStamp | null;
  now?: () => number;
}

interface Entry {
  value: unknown;
  stamp: ChangeStamp;
  at: number;
}

export class ResultCache {
  private readonly lru: LruCache<Entry>;
  private readonly running = new Map<string, { stamp: ChangeStamp; promise: Promise<unknown> }>();
  private revokeSeen = -1;
  private readonly now: () => number;
  readonly stats = { hits: 0, misses: 0 };

  constructor(private readonly opts: ResultCacheOptions) {
    this.lru = new LruCache<Entry>(Math.max(0, opts.entries));
    this.now = opts.now ?? Date.now;
  }

  get enabled(): boolean {
    return this.opts.entries > 0;
  }

  get size(): number {
    return this.lru.size;
  }

  /**
   * The cached value for `key`, or `compute()`'s (stored when `keep` says so). A rejected
   * computation is passed on and not stored.
   */
  async get<T>(key: string, compute: () => Promise<T>, keep: (value: T) => boolean = () => true): Promise<T> {
    if (!this.enabled) return compute();
    const stamp = this.opts.stamp();
    if (!stamp) return compute();
    if (stamp.revoke !== this.revokeSeen) {
      this.lru.clear();
      this.revokeSeen = stamp.revoke;
    }
    const at = this.now();
    const hit = this.lru.get(key);
    if (hit && hit.stamp.revoke === stamp.revoke && (hit.stamp.add === stamp.add || at - hit.at <= this.opts.refreshMs)) {
      this.stats.hits++;
      return hit.value as T;
    }
    const same = this.running.get(key);
    if (same && same.stamp.revoke === stamp.revoke && same.stamp.add === stamp.add) {
      this.stats.hits++;
      return same.promise as Promise<T>;
    }
    this.stats.misses++;
    const promise = compute();
    this.running.set(key, { stamp, promise });
    try {
      const value = await promise;
      if (stamp.revoke === this.revokeSeen && keep(value)) this.lru.set(key, { value, stamp, at });
      return value;
    } finally {
      if (this.running.get(key)?.promise === promise) this.running.delete(key);
    }
  }

  clear(): void {
    this.lru.clear();
  }
}

/** The server's result cache over a store, as configured. */
export function resultCacheFor(store: SqliteStore, config: Pick<Config, 'cacheEntries' | 'refreshMs'>): ResultCache {
  return new ResultCache({ entries: config.cacheEntries, refreshMs: config.refreshMs, stamp: () => store.changeStamp() });
}

/** Filters with their keys in one order and unset ones left out. */
function normalFilters(f: SearchFilters): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const k of Object.keys(f).sort()) {
    const v = (f as Record<string, unknown>)[k];
    if (v === undefined || v === false || (Array.isArray(v) && v.length === 0)) continue;
    out[k] = v;
  }
  return out;
}

/**
 * The key of one read: route, access scope and the parsed parameters. Give every parameter
 * that changes the answer; `filters` is normalised here.
 */
export function resultKey(route: string, principal: Principal, params: { filters: SearchFilters } & Record<string, unknown>): string {
  const { filters, ...rest } = params;
  const sorted = Object.fromEntries(Object.keys(rest).sort().map((k) => [k, rest[k]]));
  return JSON.stringify([route, accessScope(principal), sorted, normalFilters(filters)]);
}
