/**
 * Common-word lists: for every phrase of one token that many rows hold (more than the
 * common-word cutoff, bm25-leg.ts), what innsikt_bm25 needs of each row holding it, in rowid
 * order, as fixed-width arrays in one blob (native/innsikt_fts.c: innsikt_posting,
 * innsikt_pack): the phrase's frequency (column weights summed), the row's tokens (all
 * columns, and the body's for the short-chunk prior), and for the exact-form column the
 * instances' offsets.
 *
 * Why: a query whose every word is common ("valgstyret godkjente" in a corpus of election
 * protocols) matches a large share of all rows, and FTS5 walks and decodes every one of them,
 * each phrase's position lists included, then scores each row through the auxiliary-function
 * API: 170-300 ms at 1M chunks (bench/NOTES.md). innsikt_lists_topk ranks the same rows with
 * the same scores (innsikt_bm25's formula, the same IDFs from the caller's plan) from these
 * arrays in place: it walks the query's rarest word group and lets the other lists seek by
 * binary search, and finds the phrase boost from its words' offsets.
 *
 * Sound because a rowid never names another row (the store hands them out from a counter):
 * rows added after the lists were built (rowid above `upto`) are read from FTS5 at query time
 * (FTS5 seeks to them); deleted rows stay in the lists until the next build and are dropped by
 * the access check every candidate passes anyway (bm25-leg.ts). The lists are rebuilt when the
 * rows after `upto`, or the rows deleted since, pass REBUILD_SHARE of the index.
 *
 * Built by buildCommonPostings() (after `innsikt ingest` and `innsikt reindex`), in steps
 * within its time budget: a new generation is written beside the one queries read, and
 * switched to in one transaction when complete.
 */
import type Database from 'better-sqlite3';
import type { Bm25Plan } from './bm25-leg.ts';
import { statementCache } from './statements.ts';

/** Bumped when the blob layout changes: lists of another format are never read. */
export const POSTINGS_FORMAT = '3';
/** Rebuild when rows added after the lists, or deleted since, pass this share of the index. */
export const REBUILD_SHARE = 0.1;
/** Longest write transaction of a build (readers never wait on it; writers wait at most this). */
const BATCH_MS = 200;
/**
 * Rank from the lists only when every group of the query holds at least this share of the
 * rows (counting a row once per phrase it holds). Measured at 1M chunks (bench queries, BM25
 * leg): groups of 13-71% ran 1.6-3.2× faster from the lists (282 -> 87 ms at 71%), groups of
 * 2-6% ran 1.0-2.5× slower (30 -> 75 ms at 2%): there FTS5's AND seeks past the rest too,
 * and reading whole lists costs more than it saves.
 */
const MIN_GROUP_SHARE = 0.1;
/** A phrase without a list is read from FTS5 at query time when at most this many rows hold it. */
const LIVE_MAX_SHARE = 0.02;
/** Columns of chunks_fts: title, heading, body (stems), exact forms. */
const EXACT_COLUMN = 3;
const BODY_COLUMN = 2;

const STEM_PREFIX = '{title heading body} : "';
const EXACT_PREFIX = 'exact : "';

/** A phrase as the lists know it: one token in the stem columns or the exact column, or several in a row in the exact column. */
export function phraseTokens(phrase: string): { kind: 'stem' | 'exact'; tokens: string[] } | null {
  for (const [prefix, kind] of [
    [STEM_PREFIX, 'stem'],
    [EXACT_PREFIX, 'exact'],
  ] as const) {
    if (phrase.startsWith(prefix) && phrase.endsWith('"')) {
      const tokens = phrase.slice(prefix.length, -1).split(' ');
      if (tokens.some((t) => !t || !/^[\p{L}\p{N}]+$/u.test(t))) return null;
      if (kind === 'stem' && tokens.length !== 1) return null;
      return { kind, tokens };
    }
  }
  return null;
}

const listPhrase = (kind: 'stem' | 'exact', token: string) => (kind === 'stem' ? `${STEM_PREFIX}${token}"` : `${EXACT_PREFIX}${token}"`);

/** Best-first candidates: rowid and innsikt_bm25's score ("smaller is better", as FTS5). */
export interface Ranked {
  /** The best `k` (fewer when fewer rows match), best first. */
  top(k: number): { rowid: number; s: number }[];
  /** Rows ranked (all that match, or only those holding the phrase boost when they settled the best). */
  matched: number;
  /** `matched` is every row that matches (and, with `allowed`, that the filter's rows hold). */
  complete: boolean;
  /** Ranked within the rows the caller's filter allows (readable ones only). */
  allowed: boolean;
}

/** A build under way, kept in the meta table between calls. */
interface Job {
  gen: number;
  /** Rows up to this rowid go into the lists; later ones are read from FTS5 at query time. */
  upto: number;
  rows: number;
  cutoff: number;
  format: string;
  /** Still finding the common tokens: the last term done. */
  scanning: boolean;
  scanFrom: string;
  /** Lists still to write. */
  todo: string[];
  lists?: number;
  bytes?: number;
}

interface State {
  gen: number;
  upto: number;
  rows: number;
}

export class CommonPostings {
  private readonly stmt: (sql: string) => Database.Statement;
  private hasTable = false;

  /** Queries ranked from the lists so far, and the rows the last one scored (for tests and measuring). */
  served = 0;
  lastRanked = 0;
  private readonly lengthColumn = BODY_COLUMN;
  /** Whether queries are ranked from the lists; they are built either way. */
  readonly ranks: boolean;
  /** FTS5's averages record (Bm25Leg.averages). */
  private readonly averages: () => { rows: number; tokens: number };

  constructor(
    private readonly db: Database.Database,
    private readonly weights: readonly number[],
    opts: { rank?: boolean; averages: () => { rows: number; tokens: number } },
  ) {
    this.ranks = opts.rank ?? true;
    this.averages = opts.averages;
    this.stmt = statementCache(db);
  }

  private meta(key: string): string | null {
    return (this.stmt(`SELECT value FROM meta WHERE key = ?`).pluck().get(key) as string | undefined) ?? null;
  }

  private setMeta(key: string, value: string): void {
    this.stmt(`INSERT INTO meta(key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value`).run(key, value);
  }

  /** The layout and the column weights baked into the frequencies: lists of another are not read. */
  private format(): string {
    return `${POSTINGS_FORMAT}/${this.weights.join(',')}`;
  }

  /** The column weights as SQL literals (they are baked into the lists' frequencies). */
  private weightArgs(): string {
    return this.weights.map((w) => String(Number(w))).join(', ');
  }

  /** Whether the file has the lists' table (another process may create it while this one reads). */
  private table(): boolean {
    if (!this.hasTable) this.hasTable = !!this.stmt(`SELECT 1 FROM sqlite_schema WHERE type = 'table' AND name = 'common_lists'`).get();
    return this.hasTable;
  }

  /** The generation queries read, or null when there are no usable lists. */
  state(): State | null {
    if (!this.table()) return null;
    const raw = this.meta('postings_state');
    if (!raw) return null;
    const s = JSON.parse(raw) as State & { format: string };
    return s.format === this.format() ? { gen: s.gen, upto: s.upto, rows: s.rows } : null;
  }

  /**
   * innsikt_pack of one phrase's rows from FTS5, with rowids in (from, to]; an exact-form
   * phrase's with the positions of its instances.
   */
  private live(phrase: string, from: number, to = Number.MAX_SAFE_INTEGER): Buffer | null {
    return this.stmt(this.packSql(phrase, '@phrase', 'rowid > @from AND rowid <= @to'))
      .pluck()
      .get({ phrase, from: BigInt(from), to: BigInt(to) }) as Buffer | null;
  }

  /**
   * The SELECT that packs a phrase's rows from FTS5 into one list (innsikt_pack), the phrase
   * bound as `param`, its rows narrowed by `rows` (a rowid range); exact-form phrases keep
   * their instances' positions.
   */
  private packSql(phrase: string, param: string, rows: string): string {
    const positions = phrase.startsWith(EXACT_PREFIX) ? 1 : 0;
    return `SELECT innsikt_pack(r, p) FROM (SELECT rowid AS r, innsikt_posting(chunks_fts, ${this.weightArgs()}, ${this.lengthColumn}, ${positions}) AS p
         FROM chunks_fts WHERE chunks_fts MATCH ${param} AND ${rows} LIMIT -1)`;
  }

  /**
   * The plan's matches ranked from the lists, or null when the plan is not one they serve
   * (bm25-leg.ts falls back to FTS5): its expression must be `groups` (every group's phrases
   * OR-ed, the groups AND-ed), every phrase one the lists know (phraseTokens), and at least one
   * of its words listed. `df(phrase)` gives a phrase's rows, to read small ones from FTS5.
   * The ranking itself runs in innsikt_lists_topk (native/innsikt_fts.c), on the lists as
   * SQLite holds them: no copy passes through JavaScript.
   */
  rank(
    plan: Bm25Plan,
    df: (phrase: string) => number,
    opts: { lenTokens: number; lenPower: number; firstK: number; allow?: () => Uint32Array | null },
  ): Ranked | null {
    const groups = plan.groups;
    const mult = plan.multipliers;
    if (!this.ranks || !groups || !mult || !plan.match.phrases.length || mult.length !== plan.match.phrases.length) return null;
    const phrases = plan.match.phrases.map(phraseTokens);
    if (phrases.some((p) => !p)) return null;
    // Only where FTS5 must walk many matches: the group that holds the fewest rows still holds
    // a large share of the index (MIN_GROUP_SHARE). With fewer, FTS5's own AND seeks as well,
    // and reading the lists costs more than it saves.
    const dfs = plan.match.phrases.map(df);
    const fewest = Math.min(...groups.map((g) => g.reduce((a, i) => a + dfs[i], 0)));
    if (fewest < MIN_GROUP_SHARE * Math.max(1, plan.statsRows)) return null;
    // The lists needed: each one-token phrase's own; a longer phrase's exact forms, with positions.
    const keys: string[] = [];
    const keep: boolean[] = [];
    const index = new Map<string, number>();
    const listOf = (key: string, positions: boolean): number => {
      let i = index.get(key);
      if (i === undefined) {
        i = keys.length;
        index.set(key, i);
        keys.push(key);
        keep.push(false);
      }
      if (positions) keep[i] = true;
      return i;
    };
    const phraseLists = phrases.map((p) =>
      p!.tokens.length === 1 ? [listOf(listPhrase(p!.kind, p!.tokens[0]), false)] : p!.tokens.map((t) => listOf(listPhrase('exact', t), true)),
    );
    const run = (k: number): { matched: number; complete: boolean; allowed: boolean; hits: { rowid: number; s: number }[] } | null => {
      const st = this.state();
      if (!st) return null;
      const has = new Set(
        this.stmt(`SELECT phrase FROM common_lists WHERE gen = @gen AND phrase IN (SELECT value FROM json_each(@keys))`)
          .pluck()
          .all({ gen: st.gen, keys: JSON.stringify(keys) }) as string[],
      );
      if (!has.size) return null;
      // Without a list, only a phrase few rows hold is worth reading from FTS5.
      const liveMax = LIVE_MAX_SHARE * plan.rows;
      if (keys.some((key) => !has.has(key) && df(key) > liveMax)) return null;
      const spec: number[] = [keys.length, phrases.length, groups.length, k];
      const args: string[] = [];
      // Rowids bound as BigInt: FTS5 seeks to a rowid bound given as an integer, but walks the
      // whole list for a real (better-sqlite3 binds numbers as reals): 6.8 vs 0.02 ms at 100k.
      const params: Record<string, unknown> = { gen: st.gen, upto: BigInt(st.upto) };
      keys.forEach((key, i) => {
        params[`p${i}`] = key;
        const live = (from: string) => `(${this.packSql(key, `@p${i}`, `rowid > ${from}`)})`;
        if (has.has(key)) {
          spec.push(2, keep[i] ? 1 : 0);
          args.push(`(SELECT data FROM common_lists WHERE gen = @gen AND phrase = @p${i})`, live('@upto'));
        } else {
          spec.push(1, keep[i] ? 1 : 0);
          args.push(live('0'));
        }
      });
      for (const l of phraseLists) spec.push(l.length, ...l);
      for (const g of groups) spec.push(g.length, ...g);
      // The rows the caller's filters allow, when few enough to list (read in this transaction).
      const allow = opts.allow?.() ?? null;
      if (allow && !allow.length) return { matched: 0, complete: true, allowed: true, hits: [] };
      spec.push(allow ? 1 : 0);
      if (allow) {
        params.allow = Buffer.from(allow.buffer, allow.byteOffset, allow.byteLength);
        args.push('@allow');
      }
      const numbers = [plan.avgdl > 0 ? plan.avgdl : this.avgdl(), opts.lenTokens, opts.lenPower, this.weights[EXACT_COLUMN], ...mult];
      params.spec = Buffer.from(Int32Array.from(spec).buffer);
      params.numbers = Buffer.from(Float64Array.from(numbers).buffer);
      const out = this.stmt(`SELECT innsikt_lists_topk(@spec, @numbers, ${args.join(', ')})`)
        .pluck()
        .get(params) as Buffer | null;
      // NULL: a value did not fit the lists' fixed widths (a row of over 65,535 tokens): FTS5 ranks.
      if (!out) return null;
      const n = (out.length / 8 - 1) / 2;
      const hits: { rowid: number; s: number }[] = new Array(n);
      for (let i = 0; i < n; i++) hits[i] = { rowid: out.readDoubleLE(8 + 16 * i), s: -out.readDoubleLE(16 + 16 * i) };
      // Below zero: only the phrase boost's rows were ranked (-1 - their number).
      const m = out.readDoubleLE(0);
      return { matched: m >= 0 ? m : -1 - m, complete: m >= 0, allowed: !!allow, hits };
    };
    const once = (k: number) => (this.db.inTransaction ? run(k) : this.db.transaction(run)(k));
    // The fewer asked for, the sooner the phrase boost's rows alone can settle them (C).
    let computedK = Math.max(1, Math.ceil(opts.firstK));
    let last = once(computedK);
    if (!last) return null;
    this.served++;
    this.lastRanked = last.matched;
    return {
      get matched() {
        return last!.matched;
      },
      get complete() {
        return last!.complete;
      },
      get allowed() {
        return last!.allowed;
      },
      top: (k: number) => {
        if (k > computedK && last!.hits.length >= computedK) {
          const more = once(k);
          if (more) {
            last = more;
            computedK = k;
            this.lastRanked = more.matched;
          }
        }
        return last!.hits.slice(0, k);
      },
    };
  }

  /** FTS5's average row length (all columns), as innsikt_bm25 has it: xColumnTotalSize / xRowCount. */
  private avgdl(): number {
    const { rows, tokens } = this.averages();
    const avg = rows > 0 ? tokens / rows : 1;
    return avg > 0 ? avg : 1;
  }

  /**
   * Write the lists anew when there are none, or the index changed too much since (see the
   * header); in steps, until done or `budgetMs` is spent (the next call goes on). Returns what
   * it did.
   */
  build(opts: { cutoff: number; rows: number; budgetMs?: number; force?: boolean }): { phrases: number; ms: number; done: boolean } {
    const t0 = performance.now();
    const budget = opts.budgetMs ?? Number.POSITIVE_INFINITY;
    if (this.db.readonly) return { phrases: 0, ms: 0, done: false };
    // The key in an index of its own: which lists exist is answered without touching the
    // blobs (a WITHOUT ROWID table read each list's overflow pages for it: 14 ms at 1M).
    this.db.exec(`CREATE TABLE IF NOT EXISTS common_lists (id INTEGER PRIMARY KEY, gen INTEGER NOT NULL, phrase TEXT NOT NULL, data BLOB NOT NULL);
      CREATE UNIQUE INDEX IF NOT EXISTS common_lists_key ON common_lists (gen, phrase)`);
    this.hasTable = true;
    let pending = this.meta('postings_build');
    // A job begun by another version writes another layout: begin anew.
    if (pending && (JSON.parse(pending) as { format?: string }).format !== this.format()) pending = null;
    if (!pending) {
      if (!opts.force && !this.stale(opts.rows)) return { phrases: 0, ms: Math.round(performance.now() - t0), done: true };
      const upto = (this.stmt(`SELECT coalesce(max(rowid), 0) FROM chunks`).pluck().get() as number) ?? 0;
      const gen = (this.state()?.gen ?? 0) + 1;
      this.db.prepare(`DELETE FROM common_lists WHERE gen = ?`).run(gen);
      const job: Job = { gen, upto, rows: opts.rows, todo: [], cutoff: opts.cutoff, format: this.format(), scanFrom: '', scanning: true };
      pending = JSON.stringify(job);
      this.setMeta('postings_build', pending);
    }
    const job = JSON.parse(pending) as Job;
    if (job.scanning) {
      this.scan(job, t0, budget);
      this.setMeta('postings_build', JSON.stringify(job));
      if (job.scanning) return { phrases: 0, ms: Math.round(performance.now() - t0), done: false };
    }
    const put = this.stmt(`INSERT OR REPLACE INTO common_lists (gen, phrase, data) VALUES (?, ?, ?)`);
    let built = 0;
    while (job.todo.length && performance.now() - t0 < budget) {
      // A batch of lists per transaction: readers never wait long, progress is kept.
      const batchStart = performance.now();
      const batchMs = Math.min(BATCH_MS, budget - (batchStart - t0));
      this.db.transaction(() => {
        // At least one list per batch: every call makes progress.
        for (let first = true; job.todo.length && (first || performance.now() - batchStart < batchMs); first = false) {
          const phrase = job.todo[job.todo.length - 1];
          const data = this.live(phrase, 0, job.upto);
          if (data && data.length) {
            put.run(job.gen, phrase, data);
            job.lists = (job.lists ?? 0) + 1;
            job.bytes = (job.bytes ?? 0) + data.length;
          }
          job.todo.pop();
          built++;
        }
        this.setMeta('postings_build', JSON.stringify(job));
      })();
    }
    if (job.todo.length) return { phrases: built, ms: Math.round(performance.now() - t0), done: false };
    // Complete: switch queries to the new generation, then drop the old one.
    this.db.transaction(() => {
      this.setMeta(
        'postings_state',
        JSON.stringify({
          gen: job.gen,
          upto: job.upto,
          rows: job.rows,
          lists: job.lists ?? 0,
          bytes: job.bytes ?? 0,
          at: new Date().toISOString(),
          format: this.format(),
        }),
      );
      this.db.prepare(`DELETE FROM meta WHERE key = 'postings_build'`).run();
    })();
    this.db.prepare(`DELETE FROM common_lists WHERE gen <> ?`).run(job.gen);
    return { phrases: built, ms: Math.round(performance.now() - t0), done: true };
  }

  /**
   * Which tokens many rows hold, per column, from FTS5's own dictionary (fts5vocab): a pass
   * over the whole index (2-5 s per 100k chunks), so it goes term range by term range, within
   * the budget, the next call going on after the last term it finished.
   */
  private scan(job: Job, t0: number, budget: number): void {
    this.db.exec(`CREATE VIRTUAL TABLE IF NOT EXISTS temp.postings_vocab USING fts5vocab(main, 'chunks_fts', 'col')`);
    let term: string | null = null;
    let stem = 0;
    let exact = 0;
    const flush = () => {
      if (term === null) return;
      if (/^[\p{L}\p{N}]+$/u.test(term)) {
        // A row may hold a stem in several columns: the sum over columns is an upper bound.
        if (stem > job.cutoff) job.todo.push(listPhrase('stem', term));
        if (exact > job.cutoff) job.todo.push(listPhrase('exact', term));
      }
      job.scanFrom = term;
    };
    // Terms come in FTS5's order, each term's columns together; fts5vocab seeks to `term > ?`.
    for (const [t, col, doc] of this.stmt(`SELECT term, col, doc FROM temp.postings_vocab WHERE term > ?`).raw().iterate(job.scanFrom) as Iterable<
      [string, string, number]
    >) {
      if (t !== term) {
        flush();
        if (term !== null && performance.now() - t0 >= budget) return; // at least one term per call
        term = t;
        stem = 0;
        exact = 0;
      }
      if (col === 'exact') exact += doc;
      else stem += doc;
    }
    flush();
    job.scanning = false;
  }

  /** No lists, or rows added or deleted since they were built pass REBUILD_SHARE. */
  private stale(rows: number): boolean {
    const st = this.state();
    if (!st) return true;
    const added = this.stmt(`SELECT count(*) FROM chunks WHERE rowid > ?`).pluck().get(st.upto) as number;
    const deleted = Math.max(0, st.rows + added - rows);
    return added > REBUILD_SHARE * st.rows || deleted > REBUILD_SHARE * st.rows;
  }

  /** What `innsikt status` shows: the lists queries read, and a build under way. */
  status(): {
    lists: number;
    bytes: number | null;
    builtAt: string | null;
    upto: number;
    rowsAfter: number;
    /** A build under way: still finding the common tokens, or this many lists left to write. */
    building: { scanning: boolean; left: number } | null;
  } | null {
    const raw = this.table() ? this.meta('postings_state') : null;
    const pending = this.meta('postings_build');
    const job = pending ? (JSON.parse(pending) as Job) : null;
    const building = job ? { scanning: !!job.scanning, left: job.todo.length } : null;
    if (!raw && !building) return null;
    const s = raw ? (JSON.parse(raw) as State & { lists?: number; bytes?: number; at?: string; format: string }) : null;
    const current = s && s.format === this.format() ? s : null;
    const rowsAfter = current ? (this.stmt(`SELECT count(*) FROM chunks WHERE rowid > ?`).pluck().get(current.upto) as number) : 0;
    // Lists written before their count and size were recorded: counted (the key's index), size unknown.
    const lists = current ? (current.lists ?? (this.stmt(`SELECT count(*) FROM common_lists WHERE gen = ?`).pluck().get(current.gen) as number)) : 0;
    return { lists, bytes: current ? (current.bytes ?? null) : 0, builtAt: current?.at ?? null, upto: current?.upto ?? 0, rowsAfter, building };
  }

  /** Drop every list (the index was rebuilt elsewhere, or for measuring). */
  drop(): void {
    if (this.db.readonly || !this.table()) return;
    this.db.exec(`DELETE FROM common_lists`);
    this.db.prepare(`DELETE FROM meta WHERE key IN ('postings_state', 'postings_build')`).run();
  }
}
