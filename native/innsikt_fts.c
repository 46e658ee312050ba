/*
 * innsikt_fts: one FTS5 ranking function for the embedded store, loaded as an SQLite extension.
 *
 *   innsikt_bm25(chunks_fts, w_col0, ..., w_colN-1, len_col, len_tokens, len_power, avgdl,
 *                m_phrase0, ..., m_phraseP-1)
 *
 * Okapi BM25 exactly as FTS5's built-in bm25() computes it (k1 = 1.2, b = 0.75, a phrase's
 * frequency in a row is the sum of the column weights of its instances, document length = all
 * tokens of the row, "smaller is better" sign), with two differences: each phrase's multiplier
 * (its IDF) is given by the caller instead of being computed per statement, and so is the
 * average row length when avgdl > 0 (the caller's statistics: the rows it may read; avgdl <= 0:
 * the whole table's, as bm25() has it).
 *
 * Why: bm25() counts, for every phrase of every query, all rows of the whole table that contain
 * it (xQueryPhrase) before it scores the first row: a full pass over the doclist of every
 * common word, each time. The store keeps those counts in a cache and passes the IDFs in (they
 * are the caller's: counted among the rows it may read). A multiplier of 0 lets a phrase select
 * rows without scoring them.
 *
 * The short-chunk prior is applied here too, so FTS5's ORDER BY is the final order: a row whose
 * column len_col holds fewer than len_tokens tokens has its score scaled by
 * (tokens / len_tokens) ^ len_power (len_tokens <= 0: no prior).
 *
 *   innsikt_posting(fts_table, w_col0, ..., w_colN-1, len_col, with_positions)  (auxiliary)
 *   innsikt_pack(rowid, posting)                                              (aggregate)
 *
 * The store's common-word lists (common-postings.ts). innsikt_posting gives what a list keeps
 * of a row for phrase 0 of the query: its frequency (the column weights of its instances,
 * summed as innsikt_bm25 sums them), the row's tokens (all columns) and its tokens in column
 * len_col, and with with_positions != 0 the offsets of its instances. innsikt_pack gathers
 * rows (ascending rowids) into one list of fixed-width arrays, read in place without decoding:
 *   u32 version (2), u32 n, u32 npos, u32 flags (1: positions; 2: a value did not fit)
 *   u32 rowid[n], f32 freq[n], u16 tokens[n], u16 len_col tokens[n]
 *   with positions: u16 instances[n], u16 offset[npos] (each row's in order)
 * all little-endian. A list flagged 2 (a rowid above 2^32, a row of over 65,535 tokens, a
 * frequency a float cannot hold exactly) is never ranked from: FTS5 ranks instead.
 *
 *   innsikt_lists_topk(spec, numbers, list blobs ...)
 *
 * Ranks rows from such lists exactly as innsikt_bm25 ranks the same query (common-postings.ts
 * writes spec and numbers): a list may come in several blobs (the lists' table, then the rows
 * added since, from FTS5); each phrase is one list, or several exact-form lists whose offsets
 * stand in a row (a phrase of several words); a row matches when every group holds one of its
 * phrases, and scores innsikt_bm25's score, prior included. The group with the fewest rows is
 * walked, the other lists seek (binary search) to its rows; but first, when a phrase of several
 * words is held by few rows, only those are ranked, and when the best top_k of them all score
 * above what any row without it could score, that is the answer. Returns a blob of little-endian
 * doubles: the number of matching rows (-1 - the number of rows ranked, when the phrase boost's
 * rows alone settled it), then the best top_k (rowid, score) pairs, best first
 * (ties: lower rowid); NULL when a list was flagged 2. An optional last blob of ascending u32
 * rowids (spec says so) keeps only those rows: the caller's filters, applied while ranking.

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

/* Per statement: the average row length. */
typedef struct Avg {
  double avgdl;
} Avg;

static void innsiktBm25(const Fts5ExtensionApi *api, Fts5Context *fts, sqlite3_context *ctx, int nVal, sqlite3_value **apVal) {
  int nCol = api->xColumnCount(fts);
  int nPhrase = api->xPhraseCount(fts);
  if (nCol > MAX_COLS || nPhrase > MAX_PHRASES || nVal != nCol + 4 + nPhrase) {
    sqlite3_result_error(ctx, "innsikt_bm25: expects a weight per column, the prior's column, tokens and power, avgdl, and a multiplier per phrase", -1);
    return;
  }
  int lenCol = sqlite3_value_int(apVal[nCol]);
  double lenTokens = sqlite3_value_double(apVal[nCol + 1]);
  double lenPower = sqlite3_value_double(apVal[nCol + 2]);
  double givenAvg = sqlite3_value_double(apVal[nCol + 3]);
  sqlite3_value **mult = apVal + nCol + 4;
  Avg *avg = (Avg *)api->xGetAuxdata(fts, 0);
  if (!avg) {
    sqlite3_int64 nRow = 0, nTok = 0;
    int rc = api->xRowCount(fts, &nRow);
    if (rc == SQLITE_OK) rc = api->xColumnTotalSize(fts, -1, &nTok);
    if (rc != SQLITE_OK) { sqlite3_result_error_code(ctx, rc); return; }
    avg = (Avg *)sqlite3_malloc(sizeof(Avg));
    if (!avg) { sqlite3_result_error_nomem(ctx); return; }
    avg->avgdl = givenAvg > 0 ? givenAvg : nRow > 0 ? (double)nTok / (double)nRow : 1.0;
    if (avg->avgdl <= 0) avg->avgdl = 1.0;
    rc = api->xSetAuxdata(fts, avg, sqlite3_free);
    if (rc != SQLITE_OK) { sqlite3_result_error_code(ctx, rc); return; }
  }
  double w[MAX_COLS];
  double freq[MAX_PHRASES];
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
      if (ic < nCol) freq[i] += w[ic];
      api->xPhraseNext(fts, &iter, &ic, &io);
    }
  }
  if (rc != SQLITE_OK) { sqlite3_result_error_code(ctx, rc); return; }
  int nTok = 0;
  rc = api->xColumnSize(fts, -1, &nTok);
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
    rc = api->xColumnSize(fts, lenCol, &n);
    if (rc != SQLITE_OK) { sqlite3_result_error_code(ctx, rc); return; }
    if (n < 1) n = 1;
    if (n < lenTokens) score *= pow((double)n / lenTokens, lenPower);
  }
  sqlite3_result_double(ctx, -score);
}

typedef struct Buf {
  unsigned char *p;
  sqlite3_int64 n, cap;
} Buf;

static int bufReserve(Buf *b, sqlite3_int64 more) {
  if (b->n + more <= b->cap) return SQLITE_OK;
  sqlite3_int64 cap = b->cap ? b->cap * 2 : 256;
  while (cap < b->n + more) cap *= 2;
  unsigned char *p = (unsigned char *)sqlite3_realloc64(b->p, (sqlite3_uint64)cap);
  if (!p) return SQLITE_NOMEM;
  b->p = p;
  b->cap = cap;
  return SQLITE_OK;
}

static void innsiktPosting(const Fts5ExtensionApi *api, Fts5Context *fts, sqlite3_context *ctx, int nVal, sqlite3_value **apVal) {
  int nCol = api->xColumnCount(fts);
  if (nCol > MAX_COLS || nVal != nCol + 2 || api->xPhraseCount(fts) < 1) {
    sqlite3_result_error(ctx, "innsikt_posting: expects a weight per column, the length column and with_positions, and a query", -1);
    return;
  }
  double w[MAX_COLS];
  for (int i = 0; i < nCol; i++) w[i] = sqlite3_value_double(apVal[i]);
  int lenCol = sqlite3_value_int(apVal[nCol]);
  int withPos = sqlite3_value_int(apVal[nCol + 1]);
  Buf pos = {0, 0, 0};
  unsigned int count = 0;
  double f = 0;
  int rc = SQLITE_OK;
  Fts5PhraseIter iter;
  int ic = -1, io = -1;
  rc = api->xPhraseFirst(fts, 0, &iter, &ic, &io);
  while (rc == SQLITE_OK && ic >= 0) {
    if (ic < nCol) f += w[ic];
    count++;
    if (withPos) {
      rc = bufReserve(&pos, 4);
      if (rc != SQLITE_OK) break;
      unsigned int v = (unsigned int)io;
      memcpy(pos.p + pos.n, &v, 4);
      pos.n += 4;
    }
    api->xPhraseNext(fts, &iter, &ic, &io);
  }
  int nAll = -1, nOne = -1;
  if (rc == SQLITE_OK) rc = api->xColumnSize(fts, -1, &nAll);
  if (rc == SQLITE_OK) {
    if (lenCol >= 0 && lenCol < nCol) rc = api->xColumnSize(fts, lenCol, &nOne);
    else nOne = 0;
  }
  Buf out = {0, 0, 0};
  if (rc == SQLITE_OK) rc = bufReserve(&out, 24 + pos.n);
  if (rc != SQLITE_OK) {
    sqlite3_free(pos.p);
    sqlite3_free(out.p);
    sqlite3_result_error_code(ctx, rc);
    return;
  }
  /* f64 frequency, u32 tokens, u32 tokens of len_col, u32 instances, u32 flags (1: positions follow) */
  unsigned int hdr[4] = {(unsigned int)nAll, (unsigned int)nOne, count, withPos ? 1u : 0u};
  memcpy(out.p, &f, 8);
  memcpy(out.p + 8, hdr, 16);
  if (pos.n) memcpy(out.p + 24, pos.p, (size_t)pos.n);
  out.n = 24 + pos.n;
  sqlite3_free(pos.p);
  sqlite3_result_blob64(ctx, out.p, (sqlite3_uint64)out.n, sqlite3_free);
}

/* A list: header (u32 version, n, npos, flags), then u32 rowid[n], f32 freq[n], u16 all[n],
   u16 body[n], and with positions u16 count[n], u16 pos[npos]. */
#define LIST_VERSION 2u
#define LIST_POSITIONS 1u
#define LIST_SATURATED 2u

typedef struct Pack {
  Buf rowid, freq, all, body, count, pos;
  sqlite3_int64 last;
  unsigned int n, npos, flags;
  int failed;
} Pack;

static int packPut(Buf *b, const void *v, int size) {
  if (bufReserve(b, size) != SQLITE_OK) return SQLITE_NOMEM;
  memcpy(b->p + b->n, v, (size_t)size);
  b->n += size;
  return SQLITE_OK;
}

static unsigned short sat16(sqlite3_uint64 v, unsigned int *flags) {
  if (v > 0xffff) { *flags |= LIST_SATURATED; return 0xffff; }
  return (unsigned short)v;
}

static void packFree(Pack *pk) {
  sqlite3_free(pk->rowid.p);
  sqlite3_free(pk->freq.p);
  sqlite3_free(pk->all.p);
  sqlite3_free(pk->body.p);
  sqlite3_free(pk->count.p);
  sqlite3_free(pk->pos.p);
}

static void packStep(sqlite3_context *ctx, int nArg, sqlite3_value **argv) {
  (void)nArg;
  Pack *pk = (Pack *)sqlite3_aggregate_context(ctx, sizeof(Pack));
  if (!pk || pk->failed) return;
  sqlite3_int64 rowid = sqlite3_value_int64(argv[0]);
  const unsigned char *b = (const unsigned char *)sqlite3_value_blob(argv[1]);
  int n = sqlite3_value_bytes(argv[1]);
  double f;
  unsigned int hdr[4];
  if (!b || n < 24 || (pk->n > 0 && rowid <= pk->last) || rowid < 0) { pk->failed = 1; return; }
  memcpy(&f, b, 8);
  memcpy(hdr, b + 8, 16);
  int withPos = (hdr[3] & 1u) != 0;
  if (n != 24 + (withPos ? 4 * (int)hdr[2] : 0)) { pk->failed = 1; return; }
  if (pk->n == 0) pk->flags = withPos ? LIST_POSITIONS : 0;
  else if (((pk->flags & LIST_POSITIONS) != 0) != withPos) { pk->failed = 1; return; }
  unsigned int r32 = (unsigned int)rowid;
  if (rowid > 0xffffffffLL) pk->flags |= LIST_SATURATED;
  float f32 = (float)f;
  if ((double)f32 != f) pk->flags |= LIST_SATURATED;
  unsigned short a = sat16(hdr[0], &pk->flags), o = sat16(hdr[1], &pk->flags);
  int rc = packPut(&pk->rowid, &r32, 4);
  if (!rc) rc = packPut(&pk->freq, &f32, 4);
  if (!rc) rc = packPut(&pk->all, &a, 2);
  if (!rc) rc = packPut(&pk->body, &o, 2);
  if (!rc && withPos) {
    unsigned short c = sat16(hdr[2], &pk->flags);
    rc = packPut(&pk->count, &c, 2);
    for (unsigned int i = 0; !rc && i < hdr[2]; i++) {
      unsigned int v;
      memcpy(&v, b + 24 + 4 * i, 4);
      unsigned short v16 = sat16(v, &pk->flags);
      rc = packPut(&pk->pos, &v16, 2);
    }
    pk->npos += hdr[2];
  }
  if (rc) { pk->failed = 2; return; }
  pk->n++;
  pk->last = rowid;
}

static void packFinal(sqlite3_context *ctx) {
  Pack *pk = (Pack *)sqlite3_aggregate_context(ctx, 0);
  if (!pk || (!pk->n && !pk->failed)) { if (pk) packFree(pk); sqlite3_result_zeroblob(ctx, 0); return; }
  if (pk->failed) {
    packFree(pk);
    if (pk->failed == 2) sqlite3_result_error_nomem(ctx);
    else sqlite3_result_error(ctx, "innsikt_pack: expects innsikt_posting blobs of one kind, in ascending rowid order", -1);
    return;
  }
  sqlite3_int64 size = 16 + pk->rowid.n + pk->freq.n + pk->all.n + pk->body.n + pk->count.n + pk->pos.n;
  unsigned char *out = (unsigned char *)sqlite3_malloc64((sqlite3_uint64)size);
  if (!out) { packFree(pk); sqlite3_result_error_nomem(ctx); return; }
  unsigned int hdr[4] = {LIST_VERSION, pk->n, pk->npos, pk->flags};
  memcpy(out, hdr, 16);
  sqlite3_int64 at = 16;
  Buf *parts[6] = {&pk->rowid, &pk->freq, &pk->all, &pk->body, &pk->count, &pk->pos};
  for (int i = 0; i < 6; i++) {
    if (parts[i]->n) memcpy(out + at, parts[i]->p, (size_t)parts[i]->n);
    at += parts[i]->n;
  }
  packFree(pk);
  sqlite3_result_blob64(ctx, out, (sqlite3_uint64)size, sqlite3_free);
}

/* ---- innsikt_lists_topk ---- */

typedef struct Seg {
  const unsigned int *rowid;
  const float *freq;
  const unsigned short *all, *body, *count, *pos;
  unsigned int n, npos;
} Seg;

/* SQLITE_OK, SQLITE_CORRUPT (malformed) or SQLITE_RANGE (a value did not fit: use FTS5) */
static int segOpen(Seg *g, sqlite3_value *v, int needPos) {
  memset(g, 0, sizeof(Seg));
  const unsigned char *b = (const unsigned char *)sqlite3_value_blob(v);
  sqlite3_int64 len = sqlite3_value_bytes(v);
  if (!b || len == 0) return SQLITE_OK;
  unsigned int hdr[4];
  if (len < 16) return SQLITE_CORRUPT;
  memcpy(hdr, b, 16);
  if (hdr[0] != LIST_VERSION) return SQLITE_CORRUPT;
  if (hdr[3] & LIST_SATURATED) return SQLITE_RANGE;
  int hasPos = (hdr[3] & LIST_POSITIONS) != 0;
  sqlite3_int64 n = hdr[1], npos = hdr[2];
  if (len != 16 + n * 12 + (hasPos ? n * 2 + npos * 2 : 0)) return SQLITE_CORRUPT;
  if (needPos && !hasPos) return SQLITE_MISUSE;
  /* blobs come 8-byte aligned from SQLite's allocator; the arrays keep 4- and 2-byte alignment */
  g->n = (unsigned int)n;
  g->npos = (unsigned int)npos;
  g->rowid = (const unsigned int *)(b + 16);
  g->freq = (const float *)(b + 16 + 4 * n);
  g->all = (const unsigned short *)(b + 16 + 8 * n);
  g->body = (const unsigned short *)(b + 16 + 10 * n);
  if (hasPos) {
    g->count = (const unsigned short *)(b + 16 + 12 * n);
    g->pos = (const unsigned short *)(b + 16 + 14 * n);
  }
  return SQLITE_OK;
}

/* A cursor over one list (its segments in order). */
typedef struct Cur {
  Seg seg[4];
  int nSeg, si, eof, needPos;
  unsigned int i, posAt;
  sqlite3_int64 rowid;
} Cur;

static void curSettle(Cur *c) {
  while (c->si < c->nSeg && c->i >= c->seg[c->si].n) { c->si++; c->i = 0; c->posAt = 0; }
  if (c->si >= c->nSeg) { c->eof = 1; return; }
  c->rowid = c->seg[c->si].rowid[c->i];
}

static int curOpen(Cur *c, sqlite3_value **seg, int nSeg, int needPos) {
  memset(c, 0, sizeof(Cur));
  if (nSeg > 4) return SQLITE_MISUSE;
  c->nSeg = nSeg;
  c->needPos = needPos;
  sqlite3_int64 last = -1;
  for (int k = 0; k < nSeg; k++) {
    int rc = segOpen(&c->seg[k], seg[k], needPos);
    if (rc) return rc;
    const Seg *g = &c->seg[k];
    if (g->n && (sqlite3_int64)g->rowid[0] <= last) return SQLITE_CORRUPT;
    if (g->n) last = g->rowid[g->n - 1];
  }
  curSettle(c);
  return SQLITE_OK;
}

static inline void curNext(Cur *c) {
  if (c->eof) return;
  if (c->needPos) c->posAt += c->seg[c->si].count[c->i];
  c->i++;
  if (c->i < c->seg[c->si].n) c->rowid = c->seg[c->si].rowid[c->i];
  else curSettle(c);
}

/* The first index in a[lo, n) whose rowid is at least r (n when none): galloping, then a
   binary search, since the caller's r mostly lies close ahead. */
static unsigned int gallop(const unsigned int *a, unsigned int lo, unsigned int n, sqlite3_int64 r) {
  unsigned int step = 1;
  while (lo + step < n && (sqlite3_int64)a[lo + step] < r) { lo += step; step *= 2; }
  unsigned int hi = lo + step < n ? lo + step : n;
  while (lo < hi) {
    unsigned int mid = lo + (hi - lo) / 2;
    if ((sqlite3_int64)a[mid] < r) lo = mid + 1; else hi = mid;
  }
  return lo;
}

/* Advances c to the first posting at or after rowid r; a cursor that keeps positions adds up
   the instances it skipped. */
static void curSeek(Cur *c, sqlite3_int64 r) {
  while (!c->eof && c->rowid < r) {
    const Seg *g = &c->seg[c->si];
    unsigned int to = gallop(g->rowid, c->i, g->n, r);
    if (c->needPos) for (unsigned int j = c->i; j < to; j++) c->posAt += g->count[j];
    c->i = to;
    if (c->i < g->n) c->rowid = g->rowid[c->i];
    else curSettle(c);
  }
}

/* A phrase of several exact forms, found from its words' positions: rows in arrays. */
typedef struct Derived {
  sqlite3_int64 n, cap, at;
  sqlite3_int64 *rowid;
  double *freq;
  unsigned int *all, *body;
} Derived;

static void derivedFree(Derived *d) {
  sqlite3_free(d->rowid);
  sqlite3_free(d->freq);
  sqlite3_free(d->all);
  sqlite3_free(d->body);
  memset(d, 0, sizeof(Derived));
}

static int derivedPush(Derived *d, sqlite3_int64 r, double f, unsigned int all, unsigned int body) {
  if (d->n == d->cap) {
    sqlite3_int64 cap = d->cap ? d->cap * 2 : 1024;
    void *a = sqlite3_realloc64(d->rowid, sizeof(sqlite3_int64) * (sqlite3_uint64)cap);
    if (!a) return SQLITE_NOMEM;
    d->rowid = a;
    a = sqlite3_realloc64(d->freq, sizeof(double) * (sqlite3_uint64)cap);
    if (!a) return SQLITE_NOMEM;
    d->freq = a;
    a = sqlite3_realloc64(d->all, sizeof(unsigned int) * (sqlite3_uint64)cap);
    if (!a) return SQLITE_NOMEM;
    d->all = a;
    a = sqlite3_realloc64(d->body, sizeof(unsigned int) * (sqlite3_uint64)cap);
    if (!a) return SQLITE_NOMEM;
    d->body = a;
    d->cap = cap;
  }
  d->rowid[d->n] = r;
  d->freq[d->n] = f;
  d->all[d->n] = all;
  d->body[d->n] = body;
  d->n++;
  return SQLITE_OK;
}

/* Rows where cursors t[0..nt) (word x of the phrase on t[x], an exact-form list) stand in a
   row: word x at start + x. Walks the word with the fewest rows, the others seek. */
static int derive(Derived *out, Cur *t, int nt, double weight) {
  int rc = SQLITE_OK, d = 0;
  sqlite3_int64 fewest = -1;
  for (int x = 0; x < nt; x++) {
    sqlite3_int64 n = 0;
    for (int k = 0; k < t[x].nSeg; k++) n += t[x].seg[k].n;
    if (fewest < 0 || n < fewest) { fewest = n; d = x; }
  }
  while (!t[d].eof && rc == SQLITE_OK) {
    sqlite3_int64 r = t[d].rowid;
    int x, behind = -1;
    for (x = 0; x < nt; x++) {
      if (x == d) continue;
      curSeek(&t[x], r);
      if (t[x].eof || t[x].rowid != r) { behind = x; break; }
    }
    if (behind >= 0) {
      if (t[behind].eof) break; /* a word's list ended: no more rows hold them all */
      curSeek(&t[d], t[behind].rowid);
      continue;
    }
    const Seg *gd = &t[d].seg[t[d].si];
    const unsigned short *pd = gd->pos + t[d].posAt;
    unsigned int nd = gd->count[t[d].i];
    int hits = 0;
    for (unsigned int a = 0; a < nd; a++) {
      if (pd[a] < (unsigned int)d) continue;
      unsigned int start = pd[a] - (unsigned int)d;
      int all = 1;
      for (x = 0; x < nt && all; x++) {
        if (x == d) continue;
        const Seg *g = &t[x].seg[t[x].si];
        const unsigned short *px = g->pos + t[x].posAt;
        unsigned int nx = g->count[t[x].i], want = start + (unsigned int)x, j;
        for (j = 0; j < nx && px[j] < want; j++) {}
        all = j < nx && px[j] == want;
      }
      hits += all;
    }
    if (hits) rc = derivedPush(out, r, hits * weight, gd->all[t[d].i], gd->body[t[d].i]);
    curNext(&t[d]);
  }
  return rc;
}

typedef struct Hit { double s; sqlite3_int64 r; } Hit;

/* a ranks before b: higher score, then lower rowid */
static int hitBefore(const Hit *a, const Hit *b) { return a->s > b->s || (a->s == b->s && a->r < b->r); }

/* min-heap of the best k: h[0] is the one ranked last */
static void hitPush(Hit *h, int *n, int k, Hit x) {
  if (*n < k) {
    int i = (*n)++;
    while (i > 0) {
      int up = (i - 1) / 2;
      if (!hitBefore(&h[up], &x)) break;
      h[i] = h[up];
      i = up;
    }
    h[i] = x;
    return;
  }
  if (!hitBefore(&x, &h[0])) return;
  int i = 0;
  for (;;) {
    int l = 2 * i + 1, r = l + 1, m = i;
    const Hit *worst = &x;
    if (l < *n && hitBefore(worst, &h[l])) { m = l; worst = &h[l]; }
    if (r < *n && hitBefore(worst, &h[r])) m = r;
    if (m == i) break;
    h[i] = h[m];
    i = m;
  }
  h[i] = x;
}

static int hitCmp(const void *a, const void *b) {
  const Hit *x = (const Hit *)a, *y = (const Hit *)b;
  return hitBefore(x, y) ? -1 : hitBefore(y, x) ? 1 : 0;
}

static void innsiktListsTopk(sqlite3_context *ctx, int nArg, sqlite3_value **argv) {
  const int *spec = (const int *)sqlite3_value_blob(argv[0]);
  int specN = sqlite3_value_bytes(argv[0]) / 4;
  const double *num = (const double *)sqlite3_value_blob(argv[1]);
  int numN = sqlite3_value_bytes(argv[1]) / 8;
  /* spec: nLists, nPhrases, nGroups, topK; per list: segments, keepPos; per phrase: words,
     list...; per group: members, phrase...
     numbers: avgdl, len_tokens, len_power, weight of the exact-form column, multiplier per phrase */
#define SPEC(i) ((i) < specN ? spec[i] : -1)
  if (!spec || !num || specN < 4) { sqlite3_result_error(ctx, "innsikt_lists_topk: bad spec", -1); return; }
  int nLists = spec[0], nPhrases = spec[1], nGroups = spec[2], topK = spec[3];
  if (nLists < 1 || nLists > MAX_PHRASES || nPhrases < 1 || nPhrases > MAX_PHRASES || nGroups < 1 || nGroups > MAX_PHRASES || topK < 1 || numN != 4 + nPhrases) {
    sqlite3_result_error(ctx, "innsikt_lists_topk: bad spec", -1);
    return;
  }
  double avgdl = num[0], lenTokens = num[1], lenPower = num[2], exactWeight = num[3];
  const double *mult = num + 4;
  int listArg[MAX_PHRASES], listSegs[MAX_PHRASES], listPos[MAX_PHRASES];
  int at = 4, arg = 2, rc = SQLITE_OK;
  for (int li = 0; li < nLists; li++) {
    listSegs[li] = SPEC(at);
    listPos[li] = SPEC(at + 1);
    at += 2;
    listArg[li] = arg;
    if (listSegs[li] < 0 || arg + listSegs[li] > nArg) { rc = SQLITE_MISUSE; break; }
    arg += listSegs[li];
  }
  /* each phrase: a cursor of its own on its list, or (several words) rows derived up front */
  Cur *cur = (Cur *)sqlite3_malloc64(sizeof(Cur) * MAX_PHRASES);
  Derived *der = (Derived *)sqlite3_malloc64(sizeof(Derived) * MAX_PHRASES);
  int isDerived[MAX_PHRASES], segsOf[MAX_PHRASES];
  sqlite3_value **argvOf[MAX_PHRASES];
  Hit *heap = 0;
  if (!cur || !der) rc = SQLITE_NOMEM;
  else memset(der, 0, sizeof(Derived) * MAX_PHRASES);
  for (int pi = 0; pi < nPhrases && rc == SQLITE_OK; pi++) {
    int nt = SPEC(at);
    if (nt < 1 || nt > 16) { rc = SQLITE_MISUSE; break; }
    isDerived[pi] = nt > 1;
    if (nt == 1) {
      int li = SPEC(at + 1);
      if (li < 0 || li >= nLists) { rc = SQLITE_MISUSE; break; }
      argvOf[pi] = argv + listArg[li];
      segsOf[pi] = listSegs[li];
      rc = curOpen(&cur[pi], argvOf[pi], segsOf[pi], 0);
    } else {
      Cur t[16];
      for (int x = 0; x < nt && rc == SQLITE_OK; x++) {
        int li = SPEC(at + 1 + x);
        if (li < 0 || li >= nLists || !listPos[li]) { rc = SQLITE_MISUSE; break; }
        rc = curOpen(&t[x], argv + listArg[li], listSegs[li], 1);
      }
      if (rc == SQLITE_OK) rc = derive(&der[pi], t, nt, exactWeight);
    }
    at += 1 + nt;
  }
  int groupStart[MAX_PHRASES], groupLen[MAX_PHRASES], members[MAX_PHRASES * 4], nMembers = 0;
  for (int g = 0; g < nGroups && rc == SQLITE_OK; g++) {
    int nm = SPEC(at);
    if (nm < 1 || nMembers + nm > MAX_PHRASES * 4) { rc = SQLITE_MISUSE; break; }
    groupStart[g] = nMembers;
    groupLen[g] = nm;
    for (int x = 0; x < nm; x++) {
      int pi = SPEC(at + 1 + x);
      if (pi < 0 || pi >= nPhrases) { rc = SQLITE_MISUSE; break; }
      members[nMembers++] = pi;
    }
    at += 1 + nm;
  }
  /* Optional, after the groups: 1 = the next blob after the lists holds the only rowids a
     result may have (u32, ascending): the caller's filters, applied inside the ranking. */
  const unsigned int *allow = 0;
  unsigned int nAllow = 0, allowAt = 0;
  if (rc == SQLITE_OK && SPEC(at) == 1) {
    if (arg >= nArg) rc = SQLITE_MISUSE;
    else {
      allow = (const unsigned int *)sqlite3_value_blob(argv[arg]);
      nAllow = (unsigned int)(sqlite3_value_bytes(argv[arg]) / 4);
      if (!allow) nAllow = 0;
      for (unsigned int i = 1; i < nAllow; i++)
        if (allow[i] <= allow[i - 1]) { rc = SQLITE_CORRUPT; break; }
    }
  }
  int filtered = rc == SQLITE_OK && SPEC(at) == 1;
  int nHeap = 0;
  sqlite3_int64 matched = 0;
  if (rc == SQLITE_OK) {
    heap = (Hit *)sqlite3_malloc64(sizeof(Hit) * (sqlite3_uint64)topK);
    if (!heap) rc = SQLITE_NOMEM;
  }
  /* First, when the query has a phrase of several words (the phrase boost) held by few rows:
     rank only the rows holding it, every list seeking to them. If the best top_k of those all
     score at least what any row without such a phrase could (each other phrase's multiplier
     times K1 + 1, the most f/(f+k) * (K1 + 1) approaches; the prior is at most 1), no other
     row can enter, and the walk below is skipped: exact, and for "stemmesedler forkastet" a
     few thousand rows instead of hundreds of thousands. */
  double freq[MAX_PHRASES];
  sqlite3_int64 derivedRows = 0, driverRows = 0;
  double withoutBound = 0;
  for (int i = 0; i < nPhrases && rc == SQLITE_OK; i++) {
    if (isDerived[i]) derivedRows += der[i].n;
    else if (mult[i] > 0 && !cur[i].eof) withoutBound += mult[i] * (K1 + 1.0); /* a phrase no row holds adds nothing */
  }
  int drives[MAX_PHRASES];
  memset(drives, 0, sizeof(drives));
  if (rc == SQLITE_OK) {
    /* The driver: the group with the fewest postings. A row must hold one of its phrases, so
       its rows are the candidates; every other phrase only seeks to them (no full walk). */
    int driver = 0;
    sqlite3_int64 fewest = -1;
    for (int g = 0; g < nGroups; g++) {
      sqlite3_int64 size = 0;
      for (int x = 0; x < groupLen[g]; x++) {
        int i = members[groupStart[g] + x];
        if (isDerived[i]) size += der[i].n;
        else for (int k = 0; k < cur[i].nSeg; k++) size += cur[i].seg[k].n;
      }
      if (fewest < 0 || size < fewest) { fewest = size; driver = g; }
    }
    driverRows = fewest;
    for (int x = 0; x < groupLen[driver]; x++) drives[members[groupStart[driver] + x]] = 1;
  }
  int phase = derivedRows >= topK && derivedRows * 4 < driverRows ? 1 : 2;
  while (rc == SQLITE_OK) {
    sqlite3_int64 r = -1;
    for (int i = 0; i < nPhrases; i++) {
      if (phase == 1 ? !isDerived[i] : !drives[i]) continue;
      sqlite3_int64 x;
      if (isDerived[i]) { if (der[i].at >= der[i].n) continue; x = der[i].rowid[der[i].at]; }
      else { if (cur[i].eof) continue; x = cur[i].rowid; }
      if (r < 0 || x < r) r = x;
    }
    if (r < 0) {
      if (phase == 2) break;
      if (nHeap == topK && heap[0].s >= withoutBound) break;
      /* not conclusive: rank every row the plain way */
      phase = 2;
      nHeap = 0;
      matched = 0;
      allowAt = 0;
      for (int i = 0; i < nPhrases && rc == SQLITE_OK; i++) {
        if (isDerived[i]) der[i].at = 0;
        else rc = curOpen(&cur[i], argvOf[i], segsOf[i], 0);
      }
      continue;
    }
    int steps = phase == 1 ? 1 : 0; /* in phase 1 the derived phrases drive */
    unsigned int all = 0, body = 0;
    for (int i = 0; i < nPhrases; i++) {
      int drive = steps ? isDerived[i] : drives[i];
      freq[i] = 0;
      if (isDerived[i]) {
        Derived *d = &der[i];
        while (d->at < d->n && d->rowid[d->at] < r) d->at++;
        if (d->at < d->n && d->rowid[d->at] == r) {
          freq[i] = d->freq[d->at];
          all = d->all[d->at];
          body = d->body[d->at];
          if (drive) d->at++;
        }
      } else {
        if (!drive) curSeek(&cur[i], r);
        if (!cur[i].eof && cur[i].rowid == r) {
          const Seg *g = &cur[i].seg[cur[i].si];
          freq[i] = g->freq[cur[i].i];
          all = g->all[cur[i].i];
          body = g->body[cur[i].i];
          if (drive) curNext(&cur[i]);
        }
      }
    }
    int ok = 1;
    for (int g = 0; g < nGroups && ok; g++) {
      int any = 0;
      for (int x = 0; x < groupLen[g] && !any; x++) any = freq[members[groupStart[g] + x]] > 0;
      ok = any;
    }
    if (!ok) continue;
    if (filtered) {
      /* the allowed rowids only move forward within a phase */
      allowAt = gallop(allow, allowAt, nAllow, r);
      if (allowAt >= nAllow || (sqlite3_int64)allow[allowAt] != r) continue;
    }
    double k = K1 * (1.0 - B + B * (double)all / avgdl), score = 0.0;
    for (int i = 0; i < nPhrases; i++) {
      if (freq[i] <= 0 || mult[i] == 0) continue;
      score += mult[i] * ((freq[i] * (K1 + 1.0)) / (freq[i] + k));
    }
    if (score > 0 && lenTokens > 0) {
      int n = body < 1 ? 1 : (int)body;
      if (n < lenTokens) score *= pow((double)n / lenTokens, lenPower);
    }
    if (score <= 0) continue;
    matched++;
    Hit h = {score, r};
    hitPush(heap, &nHeap, topK, h);
  }
  if (der) for (int i = 0; i < MAX_PHRASES; i++) derivedFree(&der[i]);
  sqlite3_free(der);
  sqlite3_free(cur);
  if (rc != SQLITE_OK) {
    sqlite3_free(heap);
    if (rc == SQLITE_MISUSE) sqlite3_result_error(ctx, "innsikt_lists_topk: spec and lists do not agree", -1);
    else if (rc == SQLITE_CORRUPT) sqlite3_result_error(ctx, "innsikt_lists_topk: malformed list", -1);
    else if (rc == SQLITE_RANGE) sqlite3_result_null(ctx); /* a list's values did not fit: rank with FTS5 */
    else sqlite3_result_error_code(ctx, rc);
    return;
  }
  qsort(heap, (size_t)nHeap, sizeof(Hit), hitCmp);
  double *out = (double *)sqlite3_malloc64(sizeof(double) * (sqlite3_uint64)(1 + 2 * nHeap));
  if (!out) { sqlite3_free(heap); sqlite3_result_error_nomem(ctx); return; }
  /* below zero when only the phrase boost's rows were ranked: -1 - their number */
  out[0] = phase == 2 ? (double)matched : -1.0 - (double)matched;
  for (int i = 0; i < nHeap; i++) { out[1 + 2 * i] = (double)heap[i].r; out[2 + 2 * i] = heap[i].s; }
  sqlite3_free(heap);
  sqlite3_result_blob64(ctx, out, sizeof(double) * (sqlite3_uint64)(1 + 2 * nHeap), sqlite3_free);
#undef SPEC
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
  int rc = sqlite3_create_function(db, "innsikt_lists_topk", -1, SQLITE_UTF8 | SQLITE_DIRECTONLY, 0, innsiktListsTopk, 0, 0);
  if (rc != SQLITE_OK) return rc;
  rc = sqlite3_create_function(db, "innsikt_pack", 2, SQLITE_UTF8 | SQLITE_DIRECTONLY, 0, 0, packStep, packFinal);
  if (rc != SQLITE_OK) return rc;
  rc = api->xCreateFunction(api, "innsikt_posting", 0, innsiktPosting, 0);
  if (rc != SQLITE_OK) return rc;
  return api->xCreateFunction(api, "innsikt_bm25", 0, innsiktBm25, 0);
}
