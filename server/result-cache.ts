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
 * Freshness comes from the database's change counters (Store.changes(); for the embedded store, triggers in indexes/embedded/change-stamp.ts),
 * read once per request before the lookup. Triggers bump them in the writing transaction, so
 * this process, another connection and another process (`innsikt ingest`, `innsikt delete`)
 * are seen alike:
 * - `revoke` moved (a chunk or document deleted, a document's access or groups changed, a
 *   re-ingest replacing chunks): from the very next request, no entry shows one of the
 *   documents concerned (the revocation log names them), so the cache never shows a row the
 *   store would no longer return. When who may read what changed (access, groups), or the log
 *   cannot say which documents it was about, every entry goes. An entry that shows one of the
 *   documents is redacted when the route can (`redact`: the hits of those documents taken
 *   out, so the list is one or more short) and dropped when it cannot or nothing would be
 *   left. Redacted entries and entries that show none of the documents are kept but refreshed
 *   like entries that missed additions (below): only their totals and facet counts may still
 *   count a deleted or replaced document, and a redacted list lacks the hits that would have
 *   moved up, for at most maxStaleMs. So a batch that deletes or re-ingests the documents
 *   many cached pages show does not make every one of those pages wait for a recomputation.
 * - only `add` moved (new chunks): an entry stays valid for `refreshMs` after it was computed
 *   (INNSIKT_REFRESH_MS, like Elasticsearch's refresh_interval). After that it is recomputed
 *   in the background while requests still get it (stale-while-revalidate), one key at a time
 *   and on at most half of the event loop's time (after a recomputation of d ms the refresher
 *   rests d ms), up to `maxStaleMs` (INNSIKT_MAX_STALE_MS, 10 s); older, a request waits for
 *   the recomputation. So new documents appear within refreshMs on an idle server, and within
 *   maxStaleMs on one that is busy (a batch import beside many repeated queries).
 * - neither moved: valid until evicted (LRU by entry count, INNSIKT_CACHE_ENTRIES; 0 = off).
 * The stamp is read before the result is computed, so a change committed meanwhile makes the
 * entry stale at once. Concurrent misses of one key with the same stamp share one computation.
 */
import { accessScope } from '../indexes/access.ts';
import type { ChangeStamp, Revocations, Store } from '../indexes/store.ts';
import type { Principal, SearchFilters } from '../indexes/types.ts';
import { filtersKey, LruCache } from './answer/cache.ts';
import type { Config } from './config.ts';

export interface ResultCacheOptions {
  /** Entries kept at most; 0 turns the cache off. */
  entries: number;
  /** How long an entry may miss added documents, in ms. */
  refreshMs: number;
  /** How long an entry that only missed additions may still be answered while it refreshes, in ms. */
  maxStaleMs?: number;
  /** The index's change counters (Store.changes()); null when it has none (then nothing is cached). */
  stamp: () => Promise<ChangeStamp | null>;
  /** The documents revoked since a log position (Store.revokedSince()); without it a revoke clears all. */
  revocations?: (since: number) => Promise<Revocations | null>;
  now?: () => number;
}

/**
 * A cached value without the hits of the given documents, or null when it cannot be given
 * (then the entry is dropped). Return null too when nothing would be left to show.
 */
export type Redactor<T> = (value: T, revoked: ReadonlySet<string>) => T | null;

/** How a route's values are kept (all optional). */
export interface CachePolicy<T> {
  /** Whether to store a computed value (default: always). */
  keep?: (value: T) => boolean;
  /** The documents a value shows, so a revocation touches only the entries that show one. */
  shows?: (value: T) => Iterable<string>;
  /** Such a value without those documents' hits (null: drop the entry instead). */
  redact?: Redactor<T>;
}

interface Entry {
  value: unknown;
  stamp: ChangeStamp;
  at: number;
  /** Ids of the documents the value shows; null: unknown (dropped at any revocation). */
  shows: Set<string> | null;
  /** The value without the named documents' hits, or null when that is not possible. */
  redact?: (revoked: ReadonlySet<string>) => { value: unknown; shows: Iterable<string> } | null;
  /** Since when a revocation elsewhere makes it due for a refresh. */
  staleSince?: number;
}

export class ResultCache {
  private readonly lru: LruCache<Entry>;
  private readonly running = new Map<string, { stamp: ChangeStamp; promise: Promise<unknown> }>();
  /** Keys waiting for a background refresh, in order. */
  private readonly refreshQueue = new Map<string, () => Promise<void>>();
  private draining = false;
  private revokeSeen = -1;
  /** Revocation log position read up to. */
  private logSeen = -1;
  private readonly now: () => number;
  /**
   * hits: answered from the cache (or a computation already running); misses: computed on the
   * request path; stale: answered while due for a refresh; refreshed: recomputed in the
   * background; redacted: entries that had a revoked document's hits taken out.
   */
  readonly stats = { hits: 0, misses: 0, stale: 0, refreshed: 0, redacted: 0 };

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
   * The cached value for `key`, or `compute()`'s (stored as `policy` says). A rejected
   * computation is passed on and not stored.
   */
  async get<T>(key: string, compute: () => Promise<T>, policy: CachePolicy<T> = {}): Promise<T> {
    if (!this.enabled) return compute();
    const stamp = await this.opts.stamp();
    if (!stamp) return compute();
    const at = this.now();
    if (stamp.revoke !== this.revokeSeen) await this.revoke(stamp.revoke, at);
    const hit = this.lru.get(key);
    if (hit && hit.stamp.revoke === stamp.revoke) {
      if (hit.staleSince === undefined && (hit.stamp.add === stamp.add || at - hit.at <= this.opts.refreshMs)) {
        this.stats.hits++;
        return hit.value as T;
      }
      // Only additions since (or revocations of documents it does not show), and not long ago:
      // answer with it now and recompute it in the background, one key at a time, so a burst
      // of refreshes never stalls every request.
      if (at - (hit.staleSince ?? hit.at) <= Math.max(this.opts.refreshMs, this.opts.maxStaleMs ?? 10_000)) {
        this.stats.stale++;
        this.refreshLater(key, compute, policy);
        return hit.value as T;
      }
    }
    return this.computeNow(key, stamp, at, compute, policy);
  }

  /** `revoke` moved: drop what shows a revoked document (or everything), the rest is due for a refresh. */
  private async revoke(revoke: number, at: number): Promise<void> {
    const r = this.opts.revocations ? await this.opts.revocations(this.logSeen) : null;
    // Another request applied this (or a newer) revocation while the log was read.
    if (revoke === this.revokeSeen) return;
    if (r) this.logSeen = r.to;
    // The counter moved but the log names nothing (a writer without the log): everything goes.
    if (!r || !r.complete || r.readers || !r.documents.size || this.revokeSeen < 0) {
      this.lru.clear();
      this.refreshQueue.clear();
    } else {
      for (const [key, e] of [...this.lru.entries()]) {
        if (!e.shows) {
          this.lru.delete(key);
          continue;
        }
        if (shows(e.shows, r.documents)) {
          const redacted = e.redact?.(r.documents) ?? null;
          if (!redacted) {
            this.lru.delete(key);
            continue;
          }
          e.value = redacted.value;
          e.shows = new Set(redacted.shows);
          this.stats.redacted++;
        }
        e.stamp = { add: e.stamp.add, revoke };
        e.staleSince ??= at;
      }
    }
    this.revokeSeen = revoke;
  }

  private async computeNow<T>(key: string, stamp: ChangeStamp, at: number, compute: () => Promise<T>, policy: CachePolicy<T>, background = false): Promise<T> {
    const same = this.running.get(key);
    if (same && same.stamp.revoke === stamp.revoke && same.stamp.add === stamp.add) {
      if (!background) this.stats.hits++;
      return same.promise as Promise<T>;
    }
    if (background) this.stats.refreshed++;
    else this.stats.misses++;
    const promise = compute();
    this.running.set(key, { stamp, promise });
    try {
      const value = await promise;
      if (stamp.revoke === this.revokeSeen && (policy.keep?.(value) ?? true)) this.store(key, value, stamp, at, policy);
      return value;
    } finally {
      if (this.running.get(key)?.promise === promise) this.running.delete(key);
    }
  }

  private store<T>(key: string, value: T, stamp: ChangeStamp, at: number, { shows, redact }: CachePolicy<T>): void {
    const entry: Entry = { value, stamp, at, shows: shows ? new Set(shows(value)) : null };
    if (redact && shows) {
      entry.redact = (revoked) => {
        const v = redact(entry.value as T, revoked);
        return v === null ? null : { value: v, shows: shows(v) };
      };
    }
    this.lru.set(key, entry);
  }

  /** Queue a background recomputation of `key` (once); the queue runs one at a time. */
  private refreshLater<T>(key: string, compute: () => Promise<T>, policy: CachePolicy<T>): void {
    if (this.refreshQueue.has(key)) return;
    this.refreshQueue.set(key, async () => {
      const stamp = await this.opts.stamp();
      if (!stamp || stamp.revoke !== this.revokeSeen) return; // revoked meanwhile: the next request decides
      await this.computeNow(key, stamp, this.now(), compute, policy, true).catch(() => undefined);
    });
    if (!this.draining) void this.drain();
  }

  private async drain(): Promise<void> {
    this.draining = true;
    try {
      for (const [key, job] of this.refreshQueue) {
        this.refreshQueue.delete(key);
        // Let waiting requests in between two recomputations, and rest as long as the last one
        // took: refreshing never takes more than half of the event loop.
        const t0 = this.now();
        await job();
        const took = this.now() - t0;
        await new Promise((r) => (took >= 1 ? setTimeout(r, Math.min(took, 1000)) : setImmediate(r)));
      }
    } finally {
      this.draining = false;
    }
  }

  clear(): void {
    this.lru.clear();
  }
}

/** Whether a value showing `ids` shows one of `revoked`. */
function shows(ids: Set<string>, revoked: ReadonlySet<string>): boolean {
  for (const id of ids) if (revoked.has(id)) return true;
  return false;
}

/** The server's result cache over a store, as configured. */
export function resultCacheFor(store: Store, config: Pick<Config, 'cacheEntries' | 'refreshMs' | 'maxStaleMs'>): ResultCache {
  return new ResultCache({
    entries: config.cacheEntries,
    refreshMs: config.refreshMs,
    maxStaleMs: config.maxStaleMs,
    stamp: () => store.changes(),
    revocations: (since) => store.revokedSince(since),
  });
}

/**
 * The key of one read: route, access scope and the parsed parameters. Give every parameter
 * that changes the answer; `filters` is normalised here.
 */
export function resultKey(route: string, principal: Principal, params: { filters: SearchFilters } & Record<string, unknown>): string {
  const { filters, ...rest } = params;
  const sorted = Object.fromEntries(
    Object.keys(rest)
      .sort()
      .map((k) => [k, rest[k]]),
  );
  return JSON.stringify([route, accessScope(principal), sorted, filtersKey(filters)]);
}
