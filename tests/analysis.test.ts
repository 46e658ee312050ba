import { describe, expect, it } from 'vitest';
import { analyze, caseNumberTokens, isStopword, stem, tokenize, tokenizeWithOffsets } from '../indexes/analysis/index.ts';
import { parseQuery } from '../indexes/analysis/query.ts';

describe('Norwegian analysis', () => {
  it('lowercases and keeps æ, ø, å as distinct letters', () => {
    expect(tokenize('Møte i BYDELSUTVALGET på Tøyen')).toEqual(['møte', 'i', 'bydelsutvalget', 'på', 'tøyen']);
    expect(stem('sør')).not.toBe(stem('sor'));
  });

  it('stems inflected forms to the same stem', () => {
    expect(stem('lekeplassen')).toBe(stem('lekeplass'));
    expect(stem('lekeplassene')).toBe(stem('lekeplass'));
    expect(stem('kommunestyret')).toBe(stem('kommunestyre'));
    expect(stem('vedtakene')).toBe(stem('vedtak'));
  });

  it('drops stopwords but keeps domain words', () => {
    expect(isStopword('og')).toBe(true);
    expect(isStopword('sak')).toBe(false);
    expect(isStopword('vedtak')).toBe(false);
    expect(analyze('saken og vedtaket i bydelen').exact).toEqual(['saken', 'vedtaket', 'bydelen']);
  });

  it('keeps exact forms beside the stems', () => {
    const a = analyze('Lekeplassene i Tøyenparken');
    expect(a.exact).toEqual(['lekeplassene', 'tøyenparken']);
    expect(a.stems).toEqual([stem('lekeplassene'), stem('tøyenparken')]);
  });

  it('normalises case numbers however they are written', () => {
    expect(caseNumberTokens('Sak 45/24')).toEqual(['sak45x2024']);
    expect(caseNumberTokens('sak 045/2024 og PS 6/26')).toEqual(['sak45x2024', 'sak6x2026']);
    expect(caseNumberTokens('Arkivsak 24/1234')).toEqual(['ark2024x1234']);
    expect(caseNumberTokens('2026/8')).toEqual(['sak8x2026']);
    expect(caseNumberTokens('08/26 og sak 8/2026')).toEqual(['sak8x2026', 'sak8x2026']);
    expect(caseNumberTokens('1/2 liter')).toEqual([]);
    expect(caseNumberTokens('dato 14.03.2024')).toEqual([]);
    expect(parseQuery('Sak 45/24').caseNumbers).toEqual(['sak45x2024']);
  });

  it('a query of only stopwords still searches for something', () => {
    expect(parseQuery('og i').words.map((t) => t.exact)).toEqual(['og', 'i']);
    expect(parseQuery('budsjett og økonomi').words.map((t) => t.exact)).toEqual(['budsjett', 'økonomi']);
  });

  it('gives offsets into the original text', () => {
    const text = 'Vedtak: Tøyen får lekeplass.';
    for (const t of tokenizeWithOffsets(text)) expect(text.slice(t.start, t.end).toLowerCase()).toBe(t.token);
  });
});
