/**
 * The Elasticsearch layout: index names, and the settings and mappings of each index (declared
 * as JSON in ./mappings/, completed here with what depends on configuration: shards, replicas,
 * the vector's dimensions, and the similarity that carries the embedded store's column weights).
 *
 * Names (prefix from INNSIKT_ES_PREFIX):
 * - `<prefix>-chunks-<scope>`: the chunks of one access scope (scopeOf): `public`, `internal`, or
 *   `g-<hash>` for protected documents shared with one set of groups. A caller searches the
 *   scopes it may read, so BM25's statistics (document frequencies, lengths) are those of
 *   exactly the documents it may read: public results are never ranked with statistics of
 *   non-public documents, as on the embedded store (bm25-leg.ts, per-scope statistics).
 * - `<prefix>-documents`, `<prefix>-meetings`, `<prefix>-vocab`, `<prefix>-meta`.
 * Each of these is an alias over a physical index `<alias>-v<generation>`: `innsikt reindex`
 * builds the next generation beside the live one and swaps every alias in one request.
 * - `<prefix>-changes`: the change log for caches, one physical index that outlives rebuilds.
 *
 * Ranking, the same as the embedded store's (indexes/ranking.ts, FTS5's bm25()):
 * - FTS5 multiplies a column's term frequency by its weight (title 3, heading 2, body 1), with
 *   one length for the whole row. Here the stems of title, heading and body go into one field
 *   `stems`, the title written 3 times and the heading twice: the same weighted frequency, and
 *   one document frequency over all three (FTS5 counts rows, too). Gaps of 100 positions keep
 *   phrases and NEAR inside one part.
 * - The exact forms (weight 0.5) go into `exact` with BM25's k1 doubled: FTS5's score for a
 *   column of weight w is BM25 with k1 / w, scaled by (k1 + 1) / (k1 / w + 1) (EXACT_SCALE).
 * - The short-chunk prior is stored per chunk (`prior`) and multiplies the score.
 * What differs, by design of the two engines: Lucene's IDF is log(1 + (N - n + 0.5) / (n + 0.5))
 * where FTS5's is log((N - n + 0.5) / (n + 0.5)), a phrase's IDF is the sum of its words' IDFs,
 * and lengths are stored to one byte. `npm run eval -- --backend=both` measures the difference.
 */
import crypto from 'node:crypto';
import { BM25_WEIGHTS } from '../ranking.ts';
import type { AccessLevel } from '../types.ts';
import changesJson from './mappings/changes.json' with { type: 'json' };
import chunksJson from './mappings/chunks.json' with { type: 'json' };
import documentsJson from './mappings/documents.json' with { type: 'json' };
import meetingsJson from './mappings/meetings.json' with { type: 'json' };
import metaJson from './mappings/meta.json' with { type: 'json' };
import vocabJson from './mappings/vocab.json' with { type: 'json' };

/** Lucene's (and FTS5's) default k1. */
const K1 = 1.2;

/**
 * Elasticsearch's BM25 keeps the (k1 + 1) factor (LegacyBM25Similarity), which FTS5 has too,
 * but with k1 / w for the exact forms it is (k1 / w + 1) there: their clauses are scaled back
 * by this, so an exact form weighs what FTS5 gives it.
 */
export const EXACT_SCALE = (K1 + 1) / (K1 / BM25_WEIGHTS.exact + 1);

/** How often the title and the heading are written into `stems`: their FTS5 column weights. */
export const REPEAT = { title: BM25_WEIGHTS.title, heading: BM25_WEIGHTS.heading, body: BM25_WEIGHTS.body };
for (const [k, v] of Object.entries(REPEAT)) {
  if (!Number.isInteger(v) || v < 1) throw new Error(`BM25_WEIGHTS.${k} must be a whole number for Elasticsearch's stems field, got ${v}`);
}

export type Generational = 'documents' | 'meetings' | 'vocab' | 'meta';
export const GENERATIONAL: readonly Generational[] = ['documents', 'meetings', 'vocab', 'meta'];

/** The chunk index of a document's access: public, internal, or its set of groups. */
export function scopeOf(access: AccessLevel, groups: readonly string[]): string {
  if (access === 'public' || access === 'internal') return access;
  const set = [...new Set(groups)].sort();
  return `g-${crypto.createHash('sha256').update(JSON.stringify(set)).digest('hex').slice(0, 16)}`;
}

export class Names {
  constructor(readonly prefix: string) {}

  alias(kind: Generational): string {
    return `${this.prefix}-${kind}`;
  }

  chunkAlias(scope: string): string {
    return `${this.prefix}-chunks-${scope}`;
  }

  /** The physical index behind an alias in generation `gen`. */
  physical(alias: string, gen: number): string {
    return `${alias}-v${gen}`;
  }

  get changes(): string {
    return `${this.prefix}-changes`;
  }

  /** Patterns of every physical index of a generation, and of every chunk index. */
  generationPattern(gen: number): string {
    return `${this.prefix}-*-v${gen}`;
  }

  get chunkPattern(): string {
    return `${this.prefix}-chunks-*`;
  }

  /** The alias a physical index belongs to, and its generation (null for other names). */
  parse(physical: string): { alias: string; gen: number } | null {
    if (!physical.startsWith(`${this.prefix}-`)) return null;
    const m = /^(.*)-v(\d+)$/.exec(physical);
    if (!m) return null;
    const rest = m[1].slice(this.prefix.length + 1);
    if (!/^(documents|meetings|vocab|meta|chunks-(public|internal|g-[0-9a-f]{16}))$/.test(rest)) return null;
    return { alias: m[1], gen: Number(m[2]) };
  }
}

type IndexBody = { settings?: Record<string, unknown>; mappings: Record<string, unknown> };

function body(json: { settings?: unknown; mappings: unknown }): IndexBody {
  // A deep copy without the "_comment" (documentation in the JSON files, not a setting).
  const { _comment: _c, ...rest } = JSON.parse(JSON.stringify(json)) as IndexBody & { _comment?: string };
  return rest;
}

function withShards(b: IndexBody, shards: number, replicas: number): IndexBody {
  const settings = (b.settings ??= {}) as { index?: Record<string, unknown> };
  settings.index = { ...(settings.index ?? {}), number_of_shards: shards, number_of_replicas: replicas };
  return b;
}

/** A chunk index: `dims` of the embedder, and the scope's readers recorded in its _meta. */
export function chunkIndexBody(opts: { shards: number; replicas: number; dims: number; access: AccessLevel; groups: string[] }): IndexBody {
  const b = withShards(body(chunksJson), opts.shards, opts.replicas);
  const settings = b.settings as { index: { similarity: { exact_form: { k1: number } } } };
  settings.index.similarity.exact_form.k1 = K1 / BM25_WEIGHTS.exact;
  const mappings = b.mappings as { _meta: Record<string, unknown>; properties: { embedding: Record<string, unknown> } };
  mappings._meta = { ...mappings._meta, access: opts.access, groups: opts.groups };
  mappings.properties.embedding.dims = opts.dims;
  return b;
}

export function indexBody(kind: Generational | 'changes', opts: { replicas: number }): IndexBody {
  const json = { documents: documentsJson, meetings: meetingsJson, vocab: vocabJson, changes: changesJson, meta: metaJson }[kind];
  return withShards(body(json), 1, opts.replicas);
}
