/**
 * Answers cached in memory, so a question asked again costs no model call.
 *
 * The key holds everything an answer depends on: the normalised question, the search mode and
 * filters, the caller's access scope, the sources given (chunk ids and a hash of their text,
 * so a re-ingested document with changed text is not answered from the old one) and the model.
 * Sources are retrieved with the caller's principal before the lookup, so two callers share an
 * entry only when they were given the very same sources; the scope in the key makes that rule
 * explicit rather than incidental.
 */
import crypto from 'node:crypto';
import { accessScope } from '../../indexes/access.ts';
import type { Principal, SearchFilters, SearchMode } from '../../indexes/types.ts';
import type { AnswerResult, Source } from './types.ts';

export class LruCache<V> {
  private readonly map = new Map<string, V>();
  constructor(readonly capacity: number) {}

  get(key: string): V | undefined {
    const v = this.map.get(key);
    if (v === undefined) return undefined;
    this.map.delete(key); // most recently used goes last
    this.map.set(key, v);
    return v;
  }

  set(key: string, value: V): void {
    this.map.delete(key);
    this.map.set(key, value);
    while (this.map.size > this.capacity) this.map.delete(this.map.keys().next().value!);
  }

  get size(): number {
    return this.map.size;
  }

  /** Every entry, least recently used first (no reordering). */
  entries(): IterableIterator<[string, V]> {
    return this.map.entries();
  }

  delete(key: string): void {
    this.map.delete(key);
  }

  clear(): void {
    this.map.clear();
  }
}

/** Case, spacing and closing punctuation do not change a question. */
export function normaliseQuestion(q: string): string {
  return q
    .normalize('NFC')
    .toLowerCase()
    .replace(/\s+/g, ' ')
    .replace(/[\s?!.]+$/, '')
    .trim();
}

/**
 * Filters as a cache key: keys in one order, values of lists sorted, unset ones (undefined,
 * false, empty lists) left out, so equal filters give equal keys. Shared with the result cache.
 */
export function filtersKey(f: SearchFilters | undefined): Record<string, unknown> {
  if (!f) return {};
  const out: Record<string, unknown> = {};
  for (const k of Object.keys(f).sort()) {
    const v = (f as Record<string, unknown>)[k];
    if (v === undefined || v === false || (Array.isArray(v) && v.length === 0)) continue;
    out[k] = Array.isArray(v) ? [...v].sort() : v;
  }
  return out;
}

export function answerKey(parts: {
  question: string;
  mode: SearchMode | undefined;
  filters: SearchFilters | undefined;
  principal: Principal;
  sources: Source[];
  model: string;
}): string {
  const texts = crypto.createHash('sha256');
  for (const s of parts.sources) texts.update(s.chunkId).update('\u0000').update(s.text).update('\u0000');
  return JSON.stringify({
    q: normaliseQuestion(parts.question),
    mode: parts.mode ?? 'hybrid',
    filters: filtersKey(parts.filters),
    scope: accessScope(parts.principal),
    chunks: parts.sources.map((s) => s.chunkId),
    text: texts.digest('hex').slice(0, 32),
    model: parts.model,
  });
}

export type AnswerCache = LruCache<AnswerResult>;
