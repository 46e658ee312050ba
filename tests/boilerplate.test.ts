import { describe, expect, it } from 'vitest';
import { stripRunningLines } from '../ingest/boilerplate.ts';

const page = (num: number, body: string, total = 4) => ({
  num,
  text: `Oslo kommune – Bydel Gamle Oslo\nBydelsutvalget · 14.03.2024\n${body}\nSide ${num} av ${total}`,
});

describe('running headers and footers', () => {
  it('removes lines repeated at the page edges and page numbers, keeps the body', () => {
    const pages = [page(1, 'Sak 18/24 Sykehjemsplasser'), page(2, 'Vedtak: enstemmig.'), page(3, 'Sak 19/24 Budsjett'), page(4, 'Møtet hevet.')];
    const out = stripRunningLines(pages);
    expect(out.map((p) => p.text)).toEqual(['Sak 18/24 Sykehjemsplasser', 'Vedtak: enstemmig.', 'Sak 19/24 Budsjett', 'Møtet hevet.']);
    expect(out.map((p) => p.num)).toEqual([1, 2, 3, 4]);
  });

  it('keeps a line that repeats in the body rather than at the edges', () => {
    const body = 'a\nb\nc\nVedtak: enstemmig.\nd\ne\nf';
    const out = stripRunningLines([1, 2, 3, 4].map((n) => ({ num: n, text: body })));
    expect(out[0].text).toContain('Vedtak: enstemmig.');
  });

  it('with fewer than 3 pages removes only page-number lines', () => {
    const out = stripRunningLines([page(1, 'Tekst', 2), page(2, 'Mer', 2)]);
    expect(out[0].text).toBe('Oslo kommune – Bydel Gamle Oslo\nBydelsutvalget · 14.03.2024\nTekst');
  });

  it('leaves unpaged text alone', () => {
    const pages = [{ num: null, text: 'Side 1 av 2\nTekst' }];
    expect(stripRunningLines(pages)).toEqual(pages);
  });
});
