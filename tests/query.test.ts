/** What a query means (indexes/analysis/query.ts) and what it finds in a real store. */

import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stem } from '../indexes/analysis/index.ts';
import { DEFAULT_ANALYSIS, editDistance, highlightStems, parseQuery } from '../indexes/analysis/query.ts';
import { SqliteStore } from '../indexes/embedded/sqlite-store.ts';
import { LocalHashEmbedder } from '../indexes/embeddings/local.ts';
import { search } from '../indexes/search.ts';
import { ADMIN_PRINCIPAL, PUBLIC_PRINCIPAL } from '../indexes/types.ts';
import { indexByPage, silverDoc, tempDir } from './helpers.ts';

describe('query syntax', () => {
  it('reads phrases, exclusions and words', () => {
    const q = parseQuery('"møte i valgstyret" -budsjett lekeplass -"sak om park"');
    expect(q.phrases).toEqual([['møte', 'valgstyret']]);
    expect(q.words.map((w) => w.exact)).toEqual(['lekeplass']);
    expect(q.excluded).toHaveLength(2);
    expect(q.excluded).toContainEqual([{ kind: 'phrase', tokens: ['sak', 'park'] }]);
    expect(q.excluded).toContainEqual([
      { kind: 'exact', token: 'budsjett' },
      { kind: 'stem', token: stem('budsjett') },
    ]);
  });

  it('reads a hyphen after a quote as part of the word, and drops question phrasing', () => {
    const q = parseQuery('Hva heter "Special Edition"-utgaven av spillet?');
    expect(q.excluded).toEqual([]);
    expect(q.phrases).toEqual([['special', 'edition']]);
    expect(q.words.map((w) => w.exact)).toEqual(['utgaven', 'spillet']);
    expect(parseQuery('Hva menes med "sockenmål"?').words).toEqual([]);
    // A query of nothing but phrasing still searches for it.
    expect(parseQuery('hva skjedde').words.map((w) => w.exact)).toEqual(['skjedde']);
  });

  it('expands abbreviations both ways and nynorsk variants', () => {
    const bu = parseQuery('BU').words[0];
    expect(bu.alternatives).toContainEqual({ kind: 'stem', token: stem('bydelsutvalget') });
    const full = parseQuery('bydelsutvalget').words[0];
    expect(full.alternatives).toContainEqual({ kind: 'exact', token: 'bu' });
    // Nynorsk forms are stemmed as their bokmål form (nynorsk.json): one stem, in index and query.
    expect(parseQuery('vedteke').words[0].stem).toBe(stem('vedtatt'));
    expect(stem('kommunestyrevalet')).toBe(stem('kommunestyrevalget'));
    expect(stem('førehandsrøyster')).toBe(stem('forhåndsstemmer'));
    expect(stem('valstyret')).toBe(stem('valgstyret'));
    expect(stem('valuta')).not.toBe(stem('valguta'));
    expect(parseQuery('vedteke').words[0].alternatives).toContainEqual({ kind: 'exact', token: 'vedtok' });
    expect(parseQuery('samrøystes').words[0].stem).toBe(stem('enstemmig'));
    expect(parseQuery('vedteke', { ...DEFAULT_ANALYSIS, synonyms: false }).words[0].alternatives.map((a) => a.kind)).toEqual(['exact', 'stem']);
  });

  it('measures edit distance with transpositions', () => {
    expect(editDistance('lekeplass', 'lekeplsas', 2)).toBe(1);
    expect(editDistance('budsjett', 'budsjet', 2)).toBe(1);
    expect(editDistance('sykehjem', 'bydelen', 1)).toBe(2);
  });

  it('highlights variants and phrase words but not excluded words', () => {
    const stems = highlightStems('vedteke "Tøyen park" -budsjett');
    expect(stems.has(stem('vedtatt'))).toBe(true);
    expect(stems.has(stem('tøyen'))).toBe(true);
    expect(stems.has(stem('budsjett'))).toBe(false);
  });
});

describe('query features in the embedded store', () => {
  let store: SqliteStore;
  const docs: Record<string, string> = {
    bu: 'Bydelsutvalget vedtok ny lekeplass i Tøyenparken.',
    valg: 'Protokoll fra møte i valgstyret om forhåndsstemmer.',
    budsjett: 'Budsjett for lekeplass og parkdrift.',
    innstilling: 'Innstillingen ble vedtatt med 9 mot 4 stemmer.',
    levekar: 'Levekår i bydelen: store utfordringer for barnefamilier.',
    sak: 'Sak 8/26 Kampen park – rehabilitering.',
    arkiv: 'Arkivsak 24/1377 gjelder hjemmetjenesten.',
    hemmelig: 'Notat om forhåndsstemmeopptelling i valgstyret.',
  };
  beforeAll(() => {
    store = new SqliteStore(path.join(tempDir(), 'index.sqlite'));
    indexByPage(
      store,
      Object.entries(docs).map(([id, text], i) =>
        silverDoc(id, [text], { title: `Dokument nummer ${i + 1}`, body: null, access: id === 'hemmelig' ? 'internal' : 'public' }),
      ),
    );
  });
  afterAll(() => store.close());

  const find = (q: string, principal = ADMIN_PRINCIPAL, analysis = DEFAULT_ANALYSIS) => {
    const { ranked } = store.bm25Rows(q, { principal, limit: 20, analysis });
    return [
      ...store
        .chunksByRowid(
          ranked.map((r) => r.rowid),
          ADMIN_PRINCIPAL,
        )
        .values(),
    ].map((c) => c.documentId);
  };

  it('finds "bydelsutvalget" for "BU" only with synonyms on', () => {
    expect(find('BU')).toEqual(['bu']);
    expect(find('BU', ADMIN_PRINCIPAL, { ...DEFAULT_ANALYSIS, synonyms: false })).toEqual([]);
  });

  it('finds bokmål text for nynorsk words', () => {
    expect(find('vedteke')).toContain('innstilling');
    expect(find('tilråding')).toEqual(['innstilling']);
    expect(find('røyster')).toEqual(['innstilling']);
  });

  it('decompounds words the index does not hold whole', () => {
    expect(find('valgstyremøte')).toContain('valg');
    expect(find('levekårsutfordringer')).toEqual(['levekar']);
    expect(find('levekårsutfordringer', ADMIN_PRINCIPAL, { ...DEFAULT_ANALYSIS, decompound: false })).toEqual([]);
  });

  it('tolerates a typo in a long word, never in a short one', () => {
    expect(find('lekeplsas')).toEqual(expect.arrayContaining(['bu', 'budsjett']));
    expect(find('lekeplsas', ADMIN_PRINCIPAL, { ...DEFAULT_ANALYSIS, typos: false })).toEqual([]);
    expect(find('prak')).toEqual([]);
  });

  it('requires quoted phrases and honours exclusions', async () => {
    expect(find('"møte i valgstyret"')).toEqual(['valg']);
    expect(find('"møte i valgstyret" lekeplass')).toEqual(['valg']);
    // A phrase that occurs nowhere: the search ranks its words instead of returning nothing.
    expect(find('"valgstyret møte"')).toEqual([]);
    const relaxed = await search(store, new LocalHashEmbedder({ dimensions: 8 }), { query: '"valgstyret møte"', mode: 'bm25', principal: ADMIN_PRINCIPAL });
    expect(relaxed.results[0]?.documentId).toBe('valg');
    expect(find('lekeplass -budsjett')).toEqual(['bu']);
    expect(find('lekeplass -"parkdrift"')).toEqual(['bu']);
  });

  it('finds a case number however it is typed', () => {
    for (const q of ['PS 8/26', 'sak 8/2026', '2026/8', '08/26']) expect(find(q), q).toEqual(['sak']);
    expect(find('24/1377')).toEqual(['arkiv']);
    expect(find('2024/1377')).toEqual(['arkiv']);
  });

  it('expansions never reach a document the caller may not read', () => {
    expect(find('valgstyremøte', PUBLIC_PRINCIPAL)).not.toContain('hemmelig');
    expect(find('forhåndsstemmeopptelling', PUBLIC_PRINCIPAL)).toEqual([]);
    expect(find('forhandsstemmeopptelling', PUBLIC_PRINCIPAL)).toEqual([]);
  });
});
