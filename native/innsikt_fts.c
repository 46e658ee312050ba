/*
 * innsikt_fts: one FTS5 ranking function for the embedded store, loaded as an SQLite extension.
 *
 *   innsikt_bm25(chunks_fts, w_col0, ..., w_colN-1, len_col, len_tokens, len_power, top_k,
 *                m_phrase0, ..., m_phraseP-1)
 *
 * Okapi BM25 exactly as FTS5's built-in bm25() computes it (k1 = 1.2, b = 0.75, a phrase's
 * frequency in a row is the sum of the column weights of its instances, document length = all
 * tokens of the row, "smaller is better" sign), with one difference: each phrase's multiplier
 * (its IDF) is given by the caller instead of being computed per statement.
 *
 * Why: bm25() counts, for every phrase of every query, all rows of the whole table that contain
 * it (xQueryPhrase) before it scores the first row: a full pass over the doclist of every
 * common word, each time. The store keeps those counts in a cache and passes the IDFs in. A
 * multiplier of 0 lets a phrase select rows without scoring them (the store's gate for queries
 * with common words, see bm25-leg.ts).
 *
 * The short-chunk prior is applied here too, so FTS5's ORDER BY is the final order: a row whose
 * column len_col holds fewer than len_tokens tokens has its score scaled by
 * (tokens / len_tokens) ^ len_power (len_tokens <= 0: no prior).
 *
 * top_k > 0 promises that the statement keeps only the best top_k rows (ORDER BY ... LIMIT
 * top_k, nothing filtered after the ranking). The function then remembers the best top_k
 * scores it has returned so far in this statement, and a row whose upper bound (its phrase
 * frequencies with the shortest length its matched positions allow: a column holds at least
 * last matched position + 1 tokens; no prior) is strictly below the worst of them
 * cannot be among the best top_k: it gets 0 ("no match", sorted last) without reading its
 * length from the %_docsize table, which is most of the cost of scoring a row. The rows that
 * can make the top_k get their exact score, so ORDER BY ... LIMIT top_k returns the same rows.
 * top_k = 0: every row is scored (use it when a join or filter drops rows after ranking).
 *
 *   innsikt_lengths(fts_table, len_col)
 *
 * Reads every row's token counts (all columns, and column len_col) from the table's %_docsize
 * once into memory held by the connection; innsikt_bm25 then takes a row's lengths from there
 * instead of a %_docsize lookup per row (about half the cost of scoring a row). Returns the
 * largest rowid held (-1: not held, rowids too sparse). Rows above it, or not present when it
 * ran, are looked up as before. Sound only while a rowid, once used, never names another row:
 * the store hands out rowids from a counter that never goes back (sqlite-store.ts). Call it
 * again to take in new rows; innsikt_lengths(NULL, 0) drops the memory. Only the table it was
 * given may be ranked with innsikt_bm25 on this connection.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "sqlite3ext.h"
SQLITE_EXTENSION_INIT1

#define K1 1.2
#define B 0.75
#define MAX_COLS 16
#define MAX_PHRASES 256

#define LENGTHS_KEY "innsikt_lengths"
#define UNKNOWN_LEN 0xFFFFFFFFu

typedef struct Lengths {
  sqlite3_int64 n; /* rowids [0, n) */
  int col;
  unsigned int *all, *one; /* tokens of the row, and of column col; UNKNOWN_LEN: not held */
} Lengths;

static void lengthsFree(void *p) {
  Lengths *l = (Lengths *)p;
  if (!l) return;
  sqlite3_free(l->all);
  sqlite3_free(l->one);
  sqlite3_free(l);
}

/* SQLite's varint (as FTS5 writes %_docsize): the bytes read, 0 when malformed. */
static int readVarint(const unsigned char *p, int left, sqlite3_uint64 *v) {
  sqlite3_uint64 x = 0;
  for (int i = 0; i < 9 && i < left; i++) {
    if (i == 8) { *v = (x << 8) | p[i]; return 9; }
    x = (x << 7) | (p[i] & 0x7f);
    if (!(p[i] & 0x80)) { *v = x; return i + 1; }
  }
  return 0;
}

static void innsiktLengths(sqlite3_context *ctx, int nArg, sqlite3_value **argv) {
  (void)nArg;
  sqlite3 *db = sqlite3_context_db_handle(ctx);
  const char *table = (const char *)sqlite3_value_text(argv[0]);
  int col = sqlite3_value_int(argv[1]);
  if (!table) {
    sqlite3_set_clientdata(db, LENGTHS_KEY, 0, 0);
    sqlite3_result_int64(ctx, -1);
    return;
  }
  sqlite3_stmt *st = 0;
  char *sql = sqlite3_mprintf("SELECT coalesce(max(id), 0), count(*) FROM \"%w_docsize\"", table);
  int rc = sql ? sqlite3_prepare_v2(db, sql, -1, &st, 0) : SQLITE_NOMEM;
  sqlite3_free(sql);
  if (rc != SQLITE_OK) { sqlite3_finalize(st); sqlite3_result_error(ctx, "innsikt_lengths: no such FTS5 table (or no %_docsize)", -1); return; }
  sqlite3_int64 maxId = 0, count = 0;
  if (sqlite3_step(st) == SQLITE_ROW) { maxId = sqlite3_column_int64(st, 0); count = sqlite3_column_int64(st, 1); }
  sqlite3_finalize(st);
  /* Rowids far sparser than the rows: not worth the memory. */
  if (maxId < 0 || maxId > 4 * count + 1048576) {
    sqlite3_set_clientdata(db, LENGTHS_KEY, 0, 0);
    sqlite3_result_int64(ctx, -1);
    return;
  }
  Lengths *l = (Lengths *)sqlite3_malloc(sizeof(Lengths));
  if (!l) { sqlite3_result_error_nomem(ctx); return; }
  l->n = maxId + 1;
  l->col = col;
  l->all = (unsigned int *)sqlite3_malloc64(sizeof(unsigned int) * (sqlite3_uint64)l->n);
  l->one = (unsigned int *)sqlite3_malloc64(sizeof(unsigned int) * (sqlite3_uint64)l->n);
  if (!l->all || !l->one) { lengthsFree(l); sqlite3_result_error_nomem(ctx); return; }
  memset(l->all, 0xff, sizeof(unsigned int) * (size_t)l->n);
  memset(l->one, 0xff, sizeof(unsigned int) * (size_t)l->n);
  sql = sqlite3_mprintf("SELECT id, sz FROM \"%w_docsize\"", table);
  rc = sql ? sqlite3_prepare_v2(db, sql, -1, &st, 0) : SQLITE_NOMEM;
  sqlite3_free(sql);
  while (rc == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW) {
    sqlite3_int64 id = sqlite3_column_int64(st, 0);
    const unsigned char *p = (const unsigned char *)sqlite3_column_blob(st, 1);
    int left = sqlite3_column_bytes(st, 1);
    if (id < 0 || id >= l->n) continue;
    sqlite3_uint64 total = 0, mine = 0, v = 0;
    int c = 0, ok = 1;
    while (left > 0) {
      int used = readVarint(p, left, &v);
      if (!used) { ok = 0; break; }
      total += v;
      if (c == col) mine = v;
      p += used;
      left -= used;
      c++;
    }
    if (ok && total < UNKNOWN_LEN) {
      l->all[id] = (unsigned int)total;
      l->one[id] = (unsigned int)mine;
    }
  }
  sqlite3_finalize(st);
  if (rc != SQLITE_OK) { lengthsFree(l); sqlite3_result_error_code(ctx, rc); return; }
  /* Replaces (and frees) what this connection held before. */
  rc = sqlite3_set_clientdata(db, LENGTHS_KEY, l, lengthsFree);
  if (rc != SQLITE_OK) { sqlite3_result_error_code(ctx, rc); return; }
  sqlite3_result_int64(ctx, maxId);
}

/* Per statement: the average row length, and a min-heap of the best top_k scores so far. */
typedef struct Avg {
  double avgdl;
  int k, n;             /* heap capacity and size */
  sqlite3_int64 last;   /* rowid last pushed: a row evaluated twice is pushed once */
  int pushed;
  double *heap;         /* heap[0] = the worst of the best k */
} Avg;

static void avgFree(void *p) {
  Avg *a = (Avg *)p;
  if (a) sqlite3_free(a->heap);
  sqlite3_free(a);
}

static void heapPush(Avg *a, double s) {
  if (a->n < a->k) {
    int i = a->n++;
    while (i > 0) {
      int up = (i - 1) / 2;
      if (a->heap[up] <= s) break;
      a->heap[i] = a->heap[up];
      i = up;
    }
    a->heap[i] = s;
    return;
  }
  if (s <= a->heap[0]) return;
  int i = 0;
  for (;;) {
    int l = 2 * i + 1, r = l + 1, m = i;
    double v = s;
    if (l < a->n && a->heap[l] < v) { m = l; v = a->heap[l]; }
    if (r < a->n && a->heap[r] < v) m = r;
    if (m == i) break;
    a->heap[i] = a->heap[m];
    i = m;
  }
  a->heap[i] = s;
}

static void innsiktBm25(const Fts5ExtensionApi *api, Fts5Context *fts, sqlite3_context *ctx, int nVal, sqlite3_value **apVal) {
  int nCol = api->xColumnCount(fts);
  int nPhrase = api->xPhraseCount(fts);
  if (nCol > MAX_COLS || nPhrase > MAX_PHRASES || nVal != nCol + 4 + nPhrase) {
    sqlite3_result_error(ctx, "innsikt_bm25: expects a weight per column, the prior's column, tokens and power, top_k, and a multiplier per phrase", -1);
    return;
  }
  int lenCol = sqlite3_value_int(apVal[nCol]);
  double lenTokens = sqlite3_value_double(apVal[nCol + 1]);
  double lenPower = sqlite3_value_double(apVal[nCol + 2]);
  int topK = sqlite3_value_int(apVal[nCol + 3]);
  sqlite3_value **mult = apVal + nCol + 4;
  Avg *avg = (Avg *)api->xGetAuxdata(fts, 0);
  if (!avg) {
    sqlite3_int64 nRow = 0, nTok = 0;
    int rc = api->xRowCount(fts, &nRow);
    if (rc == SQLITE_OK) rc = api->xColumnTotalSize(fts, -1, &nTok);
    if (rc != SQLITE_OK) { sqlite3_result_error_code(ctx, rc); return; }
    avg = (Avg *)sqlite3_malloc(sizeof(Avg));
    if (!avg) { sqlite3_result_error_nomem(ctx); return; }
    memset(avg, 0, sizeof(Avg));
    avg->avgdl = nRow > 0 ? (double)nTok / (double)nRow : 1.0;
    if (avg->avgdl <= 0) avg->avgdl = 1.0;
    if (topK > 0) {
      avg->heap = (double *)sqlite3_malloc64(sizeof(double) * (sqlite3_uint64)topK);
      if (!avg->heap) { sqlite3_free(avg); sqlite3_result_error_nomem(ctx); return; }
      avg->k = topK;
    }
    rc = api->xSetAuxdata(fts, avg, avgFree);
    if (rc != SQLITE_OK) { sqlite3_result_error_code(ctx, rc); return; }
  }
  double w[MAX_COLS];
  double freq[MAX_PHRASES];
  int lastPos[MAX_COLS]; /* the last matched position per column: the column has more tokens */
  memset(lastPos, -1, sizeof(lastPos));
  for (int i = 0; i < nCol; i++) w[i] = sqlite3_value_double(apVal[i]);
  memset(freq, 0, sizeof(double) * nPhrase);
  int rc = SQLITE_OK;
  /* Each phrase's own position list (xPhraseFirst/Next), not xInst: xInst first merges every
     phrase's instances into one array sorted by position, which this sum does not need. */
  for (int i = 0; rc == SQLITE_OK && i < nPhrase; i++) {
    if (sqlite3_value_double(mult[i]) == 0) continue;
    Fts5PhraseIter iter;
    int ic = -1, io = -1;
    rc = api->xPhraseFirst(fts, i, &iter, &ic, &io);
    while (rc == SQLITE_OK && ic >= 0) {
      if (ic < nCol) {
        freq[i] += w[ic];
        if (io > lastPos[ic]) lastPos[ic] = io;
      }
      api->xPhraseNext(fts, &iter, &ic, &io);
    }
  }
  if (rc != SQLITE_OK) { sqlite3_result_error_code(ctx, rc); return; }
  sqlite3_int64 rowid = api->xRowid(fts);
  if (avg->k > 0 && avg->n == avg->k && rowid != avg->last) {
    /* The largest score this row can have: the shortest length its matched positions allow,
       prior at most 1. */
    double minTok = 0;
    for (int c = 0; c < nCol; c++) minTok += lastPos[c] + 1;
    double kMin = K1 * (1.0 - B + B * minTok / avg->avgdl), bound = 0.0;
    for (int i = 0; i < nPhrase; i++) {
      if (freq[i] <= 0) continue;
      bound += sqlite3_value_double(mult[i]) * ((freq[i] * (K1 + 1.0)) / (freq[i] + kMin));
    }
    if (bound < avg->heap[0]) { sqlite3_result_double(ctx, 0.0); return; }
  }
  /* Lengths held in memory (innsikt_lengths), else the %_docsize lookup. */
  Lengths *held = (Lengths *)sqlite3_get_clientdata(sqlite3_context_db_handle(ctx), LENGTHS_KEY);
  unsigned int heldAll = UNKNOWN_LEN, heldOne = UNKNOWN_LEN;
  if (held && rowid >= 0 && rowid < held->n) {
    heldAll = held->all[rowid];
    if (held->col == lenCol) heldOne = held->one[rowid];
  }
  int nTok = 0;
  if (heldAll != UNKNOWN_LEN) nTok = (int)heldAll;
  else rc = api->xColumnSize(fts, -1, &nTok);
  if (rc != SQLITE_OK) { sqlite3_result_error_code(ctx, rc); return; }
  double k = K1 * (1.0 - B + B * (double)nTok / avg->avgdl);
  double score = 0.0;
  for (int i = 0; i < nPhrase; i++) {
    if (freq[i] <= 0) continue;
    double m = sqlite3_value_double(mult[i]);
    if (m == 0) continue;
    score += m * ((freq[i] * (K1 + 1.0)) / (freq[i] + k));
  }
  if (score > 0 && lenTokens > 0 && lenCol >= 0 && lenCol < nCol) {
    int n = 0;
    if (heldOne != UNKNOWN_LEN && heldAll != UNKNOWN_LEN) n = (int)heldOne;
    else rc = api->xColumnSize(fts, lenCol, &n);
    if (rc != SQLITE_OK) { sqlite3_result_error_code(ctx, rc); return; }
    if (n < 1) n = 1;
    if (n < lenTokens) score *= pow((double)n / lenTokens, lenPower);
  }
  if (avg->k > 0 && score > 0 && !(avg->pushed && rowid == avg->last)) {
    heapPush(avg, score);
    avg->last = rowid;
    avg->pushed = 1;
  }
  sqlite3_result_double(ctx, -score);
}

static fts5_api *fts5Api(sqlite3 *db) {
  fts5_api *api = 0;
  sqlite3_stmt *stmt = 0;
  if (sqlite3_prepare_v2(db, "SELECT fts5(?1)", -1, &stmt, 0) == SQLITE_OK) {
    sqlite3_bind_pointer(stmt, 1, (void *)&api, "fts5_api_ptr", 0);
    sqlite3_step(stmt);
  }
  sqlite3_finalize(stmt);
  return api;
}

#ifdef _WIN32
__declspec(dllexport)
#endif
int sqlite3_innsiktfts_init(sqlite3 *db, char **pzErrMsg, const sqlite3_api_routines *pApi) {
  SQLITE_EXTENSION_INIT2(pApi);
  fts5_api *api = fts5Api(db);
  if (!api || api->iVersion < 2) {
    *pzErrMsg = sqlite3_mprintf("innsikt_fts: this SQLite has no FTS5");
    return SQLITE_ERROR;
  }
  int rc = sqlite3_create_function(db, "innsikt_lengths", 2, SQLITE_UTF8 | SQLITE_DIRECTONLY, 0, innsiktLengths, 0, 0);
  if (rc != SQLITE_OK) return rc;
  return api->xCreateFunction(api, "innsikt_bm25", 0, innsiktBm25, 0);
}
