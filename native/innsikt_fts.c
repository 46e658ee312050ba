/*
 * innsikt_fts: one FTS5 ranking function for the embedded store, loaded as an SQLite extension.
 *
 *   innsikt_bm25(chunks_fts, w_col0, ..., w_colN-1, len_col, len_tokens, len_power,
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

typedef struct Avg { double avgdl; } Avg;

static void innsiktBm25(const Fts5ExtensionApi *api, Fts5Context *fts, sqlite3_context *ctx, int nVal, sqlite3_value **apVal) {
  int nCol = api->xColumnCount(fts);
  int nPhrase = api->xPhraseCount(fts);
  if (nCol > MAX_COLS || nPhrase > MAX_PHRASES || nVal != nCol + 3 + nPhrase) {
    sqlite3_result_error(ctx, "innsikt_bm25: expects a weight per column, the prior's column, tokens and power, and a multiplier per phrase", -1);
    return;
  }
  int lenCol = sqlite3_value_int(apVal[nCol]);
  double lenTokens = sqlite3_value_double(apVal[nCol + 1]);
  double lenPower = sqlite3_value_double(apVal[nCol + 2]);
  Avg *avg = (Avg *)api->xGetAuxdata(fts, 0);
  if (!avg) {
    sqlite3_int64 nRow = 0, nTok = 0;
    int rc = api->xRowCount(fts, &nRow);
    if (rc == SQLITE_OK) rc = api->xColumnTotalSize(fts, -1, &nTok);
    if (rc != SQLITE_OK) { sqlite3_result_error_code(ctx, rc); return; }
    avg = (Avg *)sqlite3_malloc(sizeof(Avg));
    if (!avg) { sqlite3_result_error_nomem(ctx); return; }
    avg->avgdl = nRow > 0 ? (double)nTok / (double)nRow : 1.0;
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
    if (sqlite3_value_double(apVal[nCol + 3 + i]) == 0) continue;
    Fts5PhraseIter iter;
    int ic = -1, io = -1;
    rc = api->xPhraseFirst(fts, i, &iter, &ic, &io);
    while (rc == SQLITE_OK && ic >= 0) {
      if (ic < nCol) freq[i] += w[ic];
      api->xPhraseNext(fts, &iter, &ic, &io);
    }
  }
  int nTok = 0;
  if (rc == SQLITE_OK) rc = api->xColumnSize(fts, -1, &nTok);
  if (rc != SQLITE_OK) { sqlite3_result_error_code(ctx, rc); return; }
  double k = K1 * (1.0 - B + B * (double)nTok / avg->avgdl);
  double score = 0.0;
  for (int i = 0; i < nPhrase; i++) {
    if (freq[i] <= 0) continue;
    double m = sqlite3_value_double(apVal[nCol + 3 + i]);
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
  return api->xCreateFunction(api, "innsikt_bm25", 0, innsiktBm25, 0);
}
