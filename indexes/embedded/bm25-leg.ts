/**
 * The BM25 leg of the embedded store: which rows a query matches, and their best `limit` by
 * Okapi BM25 (FTS5's formula and column weights) times the short-chunk prior. Every row the
 * query matches is a candidate: the results are exactly those of ranking every match.
 *
 * What makes it fast on an index of one district (up to ~300k chunks; docs/benchmarks.md,
 * bench/NOTES.md: the parts measured at 300k, and the ones removed for not earning their place):
 * - IDFs come from a cache of document frequencies, passed to innsikt_bm25 (native.ts), which
 *   otherwise computes bm25() exactly; FTS5's bm25() recounts every phrase's rows per query.
 * - FTS5 ranks first and the access check and filters run in SQL on the best candidates only,
 *   widened until the best `limit` readable rows are certain (the short-chunk prior can only
 *   lower a score, so a row below the last candidate's raw score cannot overtake). With
 *   filters, or when widening would go too far, it joins every match instead (exact, slower).
 * - A query whose words are all common (each held by more than COMMON of the rows) is ranked
 *   from the common-word lists (common-postings.ts), with the same rows and scores.
 * Nothing unreadable leaves this module: the access clause is applied in SQL before rows are
 * returned, and `total` counts readable rows only. The statistics are the caller's too: a
 * plan's IDFs and average row length count only the rows the caller may read (its access
 * scope), so no score or order depends on documents it cannot read. Otherwise a public
 * `mode=bm25` score would tell how many secret chunks hold a word.
 */
import type Database from 'better-sqlite3';
import type { ParsedQuery } from '../analysis/query.ts';
import { BM25_WEIGHTS, SHORT_CHUNK, SHORT_CHUNK_TOKENS } from '../ranking.ts';
import { TOTAL_CAP } from '../store.ts';
import type { AccessClause } from './access.ts';
import { changeStamp } from './change-stamp.ts';
import { CommonPostings } from './common-postings.ts';
import { type FtsExpr, type FtsParts, ftsParts, ftsPlanned } from './fts-query.ts';
import { statementCache } from './statements.ts';
import { sqliteVarints } from './varints.ts';

export { BM25_WEIGHTS, SHORT_CHUNK, SHORT_CHUNK_TOKENS };

/** chunks_fts column the token prior counts: body. */
const BODY_COLUMN = 2;

export function shortChunkFactorSql(charsExpr: string): string {
  if (!(SHORT_CHUNK.chars > 0)) return '1.0';
  return `(CASE WHEN ${charsExpr} < ${SHORT_CHUNK.chars} THEN pow(${charsExpr} / ${SHORT_CHUNK.chars}.0, ${SHORT_CHUNK.power}) ELSE 1.0 END)`;
}

/**
 * Which words get a common-word list (common-postings.ts): those held by more than
 * max(minDf, share × rows) rows. Env INNSIKT_COMMON_SHARE / INNSIKT_COMMON_MIN_DF, for measuring.
 */
export const COMMON = {
  share: Number(process.env.INNSIKT_COMMON_SHARE ?? 0.01),
  minDf: Number(process.env.INNSIKT_COMMON_MIN_DF ?? 1000),
};

export { TOTAL_CAP };

/** First candidate window of the rank-first path, as a multiple of the limit. */
const FIRST_WINDOW = 1.5;
/** Beyond this many candidates, join every match instead of widening again. */
const MAX_WINDOW = 20_000;
/** Document frequencies are reused while the row count moved less than this share ... */
const DF_ROW_DRIFT = 0.01;
/** ... and for at most this long. */
const DF_MAX_AGE_MS = 10 * 60_000;
const DF_CACHE_MAX = 20_000;

export interface Bm25Result {
  ranked: { rowid: number; score: number }[];
  total: number;
  /** 'gte' when total is a lower bound (TOTAL_CAP). */
  totalRelation: 'eq' | 'gte';
}

/** Whose rows the statistics count: an access scope (accessScope()) and its clause. */
export interface StatsScope {
  key: string;
  acl: AccessClause;
}

export interface Bm25Plan {
  match: FtsExpr;
  /** innsikt_bm25's multiplier per phrase (IDF; 0 for excluded words), or null for bm25(). */
  multipliers: number[] | null;
  /**
   * The expression as groups of phrase indices (the groups AND-ed, each group's phrases
   * OR-ed), when it is no more than that (no NEAR, prefix, required phrase or exclusion):
   * what the common-word lists can rank (common-postings.ts). Null otherwise.
   */
  groups: number[][] | null;
  parts: FtsParts;
  /** Rows in the index when planned. */
  rows: number;
  /** Rows the scope may read when planned (the IDFs' N). */
  statsRows: number;
  /** Their average length in tokens (all columns), for BM25's length normalisation. */
  avgdl: number;
  scope?: StatsScope;
}

/** What rank() is asked: the best `limit` rows the access clause and filter let through. */
interface LegReq {
  limit: number;
  acl: AccessClause;
  filter: Filter;
  /**
   * The readable rows a narrow filter keeps, ascending (null: too many to list), for the
   * common-word lists to rank within (SqliteStore.allowedRows).
   */
  allow?: () => Uint32Array | null;
}

interface Filter {
  sql: string;
  params: Record<string, unknown>;
  /** The clause looks at chunks (c), not only at documents (d). */
  chunkLevel?: boolean;
}

/** A word whose expression is more than OR-ed phrases (NEAR of a decompounded word, a prefix). */
const complex = (e: FtsExpr) => /NEAR\(|"\*/.test(e.expr);

/** An expression as one group (any phrase may match), when it is only that. */
function orGroup(parts: FtsParts, match: FtsExpr, prefixWord: number | undefined): number[][] | null {
  if (parts.must.length || parts.excluded || prefixWord !== undefined) return null;
  if ([...parts.words, ...parts.caseNumbers].some(complex)) return null;
  return [match.phrases.map((_, i) => i)];
}

export class Bm25Leg {
  private readonly dfCache = new Map<string, { n: number; rows: number; at: number }>();
  private rowidDocIndex: boolean | null = null;
  private readonly stmt: (sql: string) => Database.Statement;

  readonly common: { share: number; minDf: number };
  /** Lists of the common words' rows, for queries of common words only (null without innsikt_fts). */
  readonly postings: CommonPostings | null;

  constructor(
    private readonly db: Database.Database,
    /** innsikt_bm25 is loaded (native.ts). */
    readonly native: boolean,
    opts: { common?: Partial<typeof COMMON>; postings?: boolean } = {},
  ) {
    this.stmt = statementCache(db);
    this.common = { ...COMMON, ...opts.common };
    const w = BM25_WEIGHTS;
    this.postings = native
      ? new CommonPostings(db, [w.title, w.heading, w.body, w.exact], {
          rank: opts.postings ?? process.env.INNSIKT_COMMON_POSTINGS !== '0',
          averages: () => this.averages(),
        })
      : null;
  }

  /** The common-word cutoff for an index of `rows` rows: words above it get a list (see COMMON). */
  cutoff(rows: number): number {
    return Math.max(this.common.minDf, this.common.share * rows);
  }

  /** Forget cached document frequencies (this process wrote to the index). */
  invalidate(): void {
    this.dfCache.clear();
  }

  private revokeSeen: number | null = null;
  /**
   * A delete, a replacement or an access change, by any process, can change who reads which rows
   * without changing the row count the cache watches: forget the counts then (change-stamp.ts).
   * Otherwise a document made internal would go on counting in public IDFs until the counts age.
   */
  private checkRevocations(): void {
    const revoke = changeStamp(this.db)?.revoke ?? null;
    if (revoke !== this.revokeSeen) this.dfCache.clear();
    this.revokeSeen = revoke;
  }

  /** Rows in the FTS index, from FTS5's own averages record (no scan). */
  rows(): number {
    return this.averages().rows;
  }

  /** FTS5's averages record: the rows, and the tokens of all columns (xColumnTotalSize(-1)). */
  averages(): { rows: number; tokens: number } {
    const blob = this.stmt(`SELECT block FROM chunks_fts_data WHERE id = 1`).pluck().get() as Buffer | undefined;
    if (!blob || !blob.length) return { rows: 0, tokens: 0 };
    // The rows, then a token count per column.
    const v = sqliteVarints(blob);
    return { rows: v[0], tokens: v.slice(1).reduce((a, b) => a + b, 0) };
  }

  /**
   * How many rows hold this phrase: of all rows (as bm25() counts), or of the rows `scope` may
   * read; cached while the index grew or shrank by less than DF_ROW_DRIFT.
   */
  phraseDf(phrase: string, rows = this.rows(), scope?: StatsScope): number {
    return this.cachedCount(scope && scope.key !== 'admin' ? `${scope.key}\u0000${phrase}` : phrase, rows, () =>
      scope && scope.key !== 'admin'
        ? (this.stmt(
            `SELECT count(*) FROM chunks_fts JOIN chunks c ${this.narrow()} ON c.rowid = chunks_fts.rowid JOIN documents d ON d.id = c.document_id
             WHERE chunks_fts MATCH @phrase AND ${scope.acl.sql}`,
          )
            .pluck()
            .get({ phrase, ...scope.acl.params }) as number)
        : (this.stmt(`SELECT count(*) FROM chunks_fts WHERE chunks_fts MATCH ?`).pluck().get(phrase) as number),
    );
  }

  /** Rows `scope` may read (all rows without a scope or for admin); cached like phraseDf. */
  scopeRows(rows = this.rows(), scope?: StatsScope): number {
    return this.scopeStats(rows, scope).rows;
  }

  /**
   * Rows `scope` may read and their tokens (all columns, as FTS5 counts a row's length), for
   * the IDFs' N and the average row length; cached like phraseDf. Without a scope or for
   * admin: FTS5's own totals.
   */
  scopeStats(rows = this.rows(), scope?: StatsScope): { rows: number; tokens: number } {
    if (!scope || scope.key === 'admin') return { rows, tokens: this.averages().tokens };
    let tokens = 0;
    const n = this.cachedCount(`${scope.key}\u0000`, rows, () => {
      const r = this.stmt(
        `SELECT count(*) AS n, total(c.tokens) AS t FROM chunks c ${this.narrow()} JOIN documents d ON d.id = c.document_id WHERE ${scope.acl.sql}`,
      ).get(scope.acl.params) as { n: number; t: number };
      tokens = r.t;
      this.dfCache.set(`${scope.key}\u0000tokens`, { n: r.t, rows, at: Date.now() });
      return r.n;
    });
    tokens = this.dfCache.get(`${scope.key}\u0000tokens`)?.n ?? tokens;
    return { rows: n, tokens };
  }

  private cachedCount(key: string, rows: number, count: () => number): number {
    const now = Date.now();
    const hit = this.dfCache.get(key);
    if (hit && now - hit.at < DF_MAX_AGE_MS && Math.abs(rows - hit.rows) <= DF_ROW_DRIFT * rows) return hit.n;
    const n = count();
    if (this.dfCache.size >= DF_CACHE_MAX) this.dfCache.delete(this.dfCache.keys().next().value!);
    this.dfCache.delete(key);
    this.dfCache.set(key, { n, rows, at: now });
    return n;
  }

  /**
   * `INDEXED BY chunks_rowid_doc` for a join of matches with `chunks c`, when the file has that
   * index (a read-only store on an older file may not): chunk rowid -> document without reading
   * the chunk rows, text and all (sqlite-store.ts).
   */
  narrow(): string {
    this.rowidDocIndex ??= !!this.db.prepare(`SELECT 1 FROM sqlite_schema WHERE type = 'index' AND name = 'chunks_rowid_doc'`).get();
    return this.rowidDocIndex ? 'INDEXED BY chunks_rowid_doc' : '';
  }

  /** FTS5's IDF: log((N - n + 0.5) / (n + 0.5)), at least 1e-6. */
  private idf(n: number, rows: number): number {
    const v = Math.log((rows - n + 0.5) / (n + 0.5));
    return v > 0 ? v : 1e-6;
  }

  /**
   * The plan of a query. `scope`: whose rows the statistics count (the caller's); without it,
   * all rows (as FTS5's bm25() counts them).
   */
  plan(q: ParsedQuery, prefixWord?: number, scope?: StatsScope): Bm25Plan | null {
    this.checkRevocations();
    const parts = ftsParts(q, { prefixWord });
    const match = ftsPlanned(parts);
    if (!match) return null;
    if (!this.native) return { match, multipliers: null, groups: null, parts, rows: 0, statsRows: 0, avgdl: 0, scope };
    const rows = this.rows();
    const stats = this.scopeStats(rows, scope);
    const avgdl = stats.rows > 0 && stats.tokens > 0 ? stats.tokens / stats.rows : 0;
    const plan = { match, parts, rows, statsRows: stats.rows, avgdl, scope };
    return { ...plan, multipliers: this.multipliers(plan), groups: orGroup(parts, match, prefixWord) };
  }

  private multipliers(plan: Pick<Bm25Plan, 'match' | 'parts' | 'rows' | 'statsRows' | 'scope'>): number[] {
    const { match } = plan;
    // Excluded words come last; they never occur in a matching row.
    const skipTail = plan.parts.excluded ? plan.parts.excluded.phrases.length : 0;
    return match.phrases.map((p, i) => (i >= match.phrases.length - skipTail ? 0 : this.idf(this.phraseDf(p, plan.rows, plan.scope), plan.statsRows)));
  }

  /** The score of a row, prior included ("smaller is better", as FTS5 has it). */
  private scoreSql(plan: Bm25Plan): { sql: string; params: Record<string, number> } {
    const w = BM25_WEIGHTS;
    if (!plan.multipliers) return { sql: `bm25(chunks_fts, ${w.title}, ${w.heading}, ${w.body}, ${w.exact}) * ${shortChunkFactorSql('c.chars')}`, params: {} };
    const params: Record<string, number> = { lenT: SHORT_CHUNK.chars > 0 ? SHORT_CHUNK_TOKENS : 0, lenP: SHORT_CHUNK.power };
    plan.multipliers.forEach((m, i) => (params[`m${i}`] = m));
    const args = plan.multipliers.map((_, i) => `, @m${i}`).join('');
    params.avgdl = plan.avgdl;
    return { sql: `innsikt_bm25(chunks_fts, ${w.title}, ${w.heading}, ${w.body}, ${w.exact}, ${BODY_COLUMN}, @lenT, @lenP, @avgdl${args})`, params };
  }

  rank(plan: Bm25Plan, req: LegReq): Bm25Result {
    // With filters, FTS5's ranking first would widen too far too often; the common-word lists
    // rank the widest windows cheaply, so a query they serve goes that way filtered too.
    const filtered = req.filter.sql !== '1 = 1';
    return (!filtered || (plan.groups && !req.filter.chunkLevel) ? this.rankFirst(plan, req, filtered) : null) ?? this.joined(plan, req);
  }

  /** Every match joined with its document for the access check and filters: exact, slow at scale. */
  private joined(plan: Bm25Plan, req: { limit: number; acl: AccessClause; filter: Filter }): Bm25Result {
    const score = this.scoreSql(plan);
    const rows = this.stmt(
      `SELECT rowid, score, count(*) OVER () AS total FROM (
         SELECT chunks_fts.rowid AS rowid, ${score.sql} AS score
         FROM chunks_fts JOIN chunks c ${plan.multipliers ? this.narrow() : ''} ON c.rowid = chunks_fts.rowid JOIN documents d ON d.id = c.document_id
         WHERE chunks_fts MATCH @match AND ${req.acl.sql} AND ${req.filter.sql}
       ) ORDER BY score LIMIT @limit`,
    ).all({ match: plan.match.expr, ...score.params, ...req.acl.params, ...req.filter.params, limit: req.limit }) as {
      rowid: number;
      score: number;
      total: number;
    }[];
    // FTS5's scores are "smaller is better"; report them as positive relevance.
    return { ranked: rows.map((r) => ({ rowid: r.rowid, score: -r.score })), total: rows.length ? rows[0].total : 0, totalRelation: 'eq' };
  }

  /**
   * FTS5 ranks (innsikt_bm25: the final order), then the access check runs in SQL on the best
   * candidates, widened until `limit` of them are readable; null to fall back to joined().
   */
  private rankFirst(plan: Bm25Plan, req: LegReq, listsOnly = false): Bm25Result | null {
    if (!plan.multipliers) return null;
    const score = this.scoreSql(plan);
    const ranked = this.stmt(`SELECT rowid, ${score.sql} AS s FROM chunks_fts WHERE chunks_fts MATCH @match ORDER BY s LIMIT @k`);
    // A query of common words only: the same ranking from the common-word lists.
    const listed =
      plan.groups && this.postings
        ? this.postings.rank(plan, (p) => this.phraseDf(p, plan.rows, plan.scope), {
            lenTokens: SHORT_CHUNK.chars > 0 ? SHORT_CHUNK_TOKENS : 0,
            lenPower: SHORT_CHUNK.power,
            firstK: Math.max(FIRST_WINDOW * req.limit, 100),
            allow: listsOnly ? req.allow : undefined,
          })
        : null;
    if (listsOnly && !listed) return null;
    const candidates = (k: number) => (listed ? listed.top(k) : (ranked.all({ match: plan.match.expr, ...score.params, k }) as { rowid: number; s: number }[]));
    const check = this.stmt(
      `SELECT c.rowid AS rowid FROM chunks c JOIN documents d ON d.id = c.document_id
       WHERE c.rowid IN (SELECT value FROM json_each(@ids)) AND ${req.acl.sql} AND ${req.filter.sql}`,
    );
    for (let k = Math.max(FIRST_WINDOW * req.limit, 100); k <= MAX_WINDOW; k *= 4) {
      const cands = candidates(k);
      const exhausted = cands.length < k;
      const readable = new Set(check.pluck().all({ ids: JSON.stringify(cands.map((c) => c.rowid)), ...req.acl.params, ...req.filter.params }) as number[]);
      const scored: { rowid: number; score: number }[] = [];
      for (const c of cands) if (readable.has(c.rowid)) scored.push({ rowid: c.rowid, score: -c.s });
      if (!exhausted && scored.length < req.limit) continue;
      // Ranked within the filter's own rows, the lists counted every readable match exactly.
      const counted = listed?.allowed && listed.complete ? { total: listed.matched, totalRelation: 'eq' as const } : null;
      const total = exhausted ? { total: scored.length, totalRelation: 'eq' as const } : (counted ?? this.countReadable(plan, req));
      return { ranked: scored.slice(0, req.limit), ...total };
    }
    return null;
  }

  /** Readable matches, counted up to TOTAL_CAP. */
  private countReadable(plan: Bm25Plan, req: { acl: AccessClause; filter: Filter }): { total: number; totalRelation: 'eq' | 'gte' } {
    const n = this.stmt(
      `SELECT count(*) FROM (SELECT 1 FROM chunks_fts JOIN chunks c ${this.narrow()} ON c.rowid = chunks_fts.rowid JOIN documents d ON d.id = c.document_id
       WHERE chunks_fts MATCH @match AND ${req.acl.sql} AND ${req.filter.sql} LIMIT ${TOTAL_CAP})`,
    )
      .pluck()
      .get({ match: plan.match.expr, ...req.acl.params, ...req.filter.params }) as number;
    return { total: n, totalRelation: n >= TOTAL_CAP ? 'gte' : 'eq' };
  }
}
