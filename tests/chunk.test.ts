import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { PageText } from '../indexes/types.ts';
import { chunkPages, countWords, type DraftChunk, detectHeading, embeddingText, HEADING_SEPARATOR } from '../ingest/chunk.ts';

const CORPUS = path.resolve(process.cwd(), '../shared/corpus');
const LEVANGER = path.join(CORPUS, 'text/no_levanger_kommunestyret_moteprotokoll_2026-03-25_EXCERPT_PS6-PS13.txt');
const hasCorpus = existsSync(LEVANGER);
if (!hasCorpus) console.warn(`[chunk.test] skipping real-document tests: ${CORPUS} is missing (the shared test corpus is not part of a fresh clone)`);

const stripWs = (s: string) => s.replace(/\s+/g, '');
const words = (c: DraftChunk) => countWords(c.text);

/** The property that matters most: every non-whitespace character survives, in order. */
function expectNoTextLost(pages: PageText[], chunks: DraftChunk[]) {
  expect(stripWs(chunks.map((c) => c.text).join(''))).toBe(stripWs(pages.map((p) => p.text).join('')));
}

/** Fake pages: on form feeds if the text has them, else every `per` lines. */
function fakePages(text: string, per = 60): PageText[] {
  const parts = text.includes('\f') ? text.split('\f') : [];
  if (parts.length === 0) {
    const lines = text.split('\n');
    for (let i = 0; i < lines.length; i += per) parts.push(lines.slice(i, i + per).join('\n'));
  }
  return parts.map((t, i) => ({ num: i + 1, text: t }));
}

// A deterministic pseudo-random generator, so the synthetic documents are the same every run.
function rng(seed: number) {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s ^ (s >>> 15), 0x2c1b3c6d) + 0x6d2b79f5) >>> 0;
    return s / 2 ** 32;
  };
}
const VOCAB =
  'bydelen barnehage skole levekår budsjett tiltak innbyggere ungdom eldre helse bolig park drift vedlikehold kostnader tilskudd plan område trafikk sikkerhet frivillighet kultur idrett'.split(
    ' ',
  );
function sentence(r: () => number, tag: string, n = 8 + Math.floor(r() * 10)): string {
  const w = Array.from({ length: n }, (_, i) => (i === 2 ? tag : VOCAB[Math.floor(r() * VOCAB.length)]));
  return w[0][0].toUpperCase() + w.join(' ').slice(1) + '.';
}
function paragraph(r: () => number, tag: string, targetWords: number): string {
  const out: string[] = [];
  let n = 0;
  while (n < targetWords) {
    const s = sentence(r, tag);
    out.push(s);
    n += countWords(s);
  }
  // Wrap at ~90 characters like extracted PDF text.
  const lines: string[] = [];
  let line = '';
  for (const w of out.join(' ').split(' ')) {
    if (line && line.length + w.length + 1 > 90) {
      lines.push(line);
      line = w;
    } else line = line ? `${line} ${w}` : w;
  }
  lines.push(line);
  return lines.join('\n');
}

/** A protocol with a saksliste and `items` agenda items; item i's body words carry the tag `s{i}x`. */
function syntheticProtocol(items: number, seed = 1): { text: string; headings: string[] } {
  const r = rng(seed);
  const headings = Array.from(
    { length: items },
    (_, i) => `Sak ${i + 1}/24 ${['Budsjett 2025', 'Levekår i bydelen', 'Parkdrift og vedlikehold', 'Frivillighetsmidler'][i % 4]}`,
  );
  const parts: string[] = ['MØTEPROTOKOLL', 'Bydelsutvalget\nMøtedato: 12.03.2024', 'Saksliste', headings.join('\n')];
  for (let i = 0; i < items; i++) {
    const tag = `s${i + 1}x`;
    parts.push(headings[i]);
    parts.push(paragraph(r, tag, 40 + Math.floor(r() * 80)));
    parts.push('Behandling');
    // Item 3 is long: several paragraphs, more than one chunk.
    const paras = i === 2 ? 8 : 1 + Math.floor(r() * 2);
    for (let k = 0; k < paras; k++) parts.push(paragraph(r, tag, 60 + Math.floor(r() * 120)));
    parts.push('Votering');
    parts.push(`Innstillingen ble enstemmig vedtatt ${tag}.`);
    parts.push('VEDTAK');
    parts.push(paragraph(r, tag, 20 + Math.floor(r() * 40)));
  }
  return { text: parts.join('\n\n'), headings };
}

/** A long report: numbered chapters and sections, long paragraphs, one with no sentence ends. */
function syntheticReport(seed = 7): string {
  const r = rng(seed);
  const parts: string[] = ['Innsiktsrapport: Levekår i Gamle Oslo', 'Sammendrag', paragraph(r, 'sammendragx', 150)];
  for (let ch = 1; ch <= 4; ch++) {
    parts.push(`${ch} ${['Innledning', 'Metode', 'Funn', 'Anbefalinger'][ch - 1]}`);
    parts.push(paragraph(r, `k${ch}x`, 80));
    for (let sec = 1; sec <= 3; sec++) {
      parts.push(`${ch}.${sec} ${['Bakgrunn', 'Datagrunnlag', 'Analyse'][sec - 1]} for ${['innledningen', 'metoden', 'funnene', 'anbefalingene'][ch - 1]}`);
      const n = 2 + Math.floor(r() * 3);
      for (let k = 0; k < n; k++) parts.push(paragraph(r, `k${ch}s${sec}x`, 60 + Math.floor(r() * 150)));
    }
  }
  parts.push('5 Vedlegg');
  parts.push(paragraph(r, 'langx', 1300)); // one paragraph far above maxWords
  parts.push(Array.from({ length: 700 }, (_, i) => VOCAB[i % VOCAB.length]).join(' ')); // no sentences at all
  return parts.join('\n\n');
}

describe('detectHeading', () => {
  it('recognises Norwegian protocol and report headings', () => {
    for (const h of [
      'Sak 45/24 Budsjett 2025',
      'PS 6/26 Referatsaker',
      'Saksnr. 139/12',
      'Sak nr. 12/2024 Reguleringsplan for Grønland',
      '1.2 Metode',
      '3 Funn',
      'Vedtak',
      'Vedtak:',
      'Innstilling',
      'Behandling',
      'Votering',
      'Sammendrag',
      'Kommunedirektørens forslag til vedtak:',
      '## Funn og anbefalinger',
      'VEDTAK',
      'INNSTILLING FRA FORMANNSKAPET',
    ]) {
      expect(detectHeading(h), h).toBe(true);
    }
  });

  it('takes a short title-like line as a heading only when text follows', () => {
    expect(detectHeading('Budsjett for parkdrift', 'Bydelsutvalget behandlet budsjettet for parkdrift i mars.')).toBe(true);
    expect(detectHeading('Budsjett for parkdrift')).toBe(false);
    expect(detectHeading('Budsjett for parkdrift', 'Vedtak')).toBe(false);
  });

  it('does not take sentences, list items, table rows or labels for headings', () => {
    for (const t of [
      'Referatsakene tas til orientering.',
      '1. Levanger kommune avslår søknad om ansvarlig lån til Levanger Fotballklubb.',
      'Kommunestyrets behandling av sak 6/2026 i møte den 25.03.2026:',
      'Sak 45/24 ble utsatt fordi saksdokumentene kom for sent til at utvalget rakk å lese dem.',
      'behandling',
      'AP',
    ]) {
      expect(detectHeading(t, 'Neste linje med tekst.'), t).toBe(false);
    }
    expect(detectHeading('Anita Ravlo Sand                ordfører        SP', 'Nina Bakken Bye')).toBe(false);
    expect(detectHeading('Som nytt medlem til kontrollutvalget velges: Julianne Hjelmstad', 'Som ny representant')).toBe(false);
  });
});

describe('chunkPages: protocols', () => {
  const { text, headings } = syntheticProtocol(8);
  const pages = fakePages(text, 25);
  const chunks = chunkPages(pages);

  it('never lets one agenda item share a chunk with the next item', () => {
    const agendaLine = /^Sak \d+\/24 /gm;
    let sawItems = 0;
    for (const c of chunks) {
      const starts = [...c.text.matchAll(agendaLine)];
      const tags = new Set([...c.text.matchAll(/\bs(\d+)x\b/g)].map((m) => m[1]));
      if (tags.size === 0) continue; // the front matter with the saksliste
      sawItems++;
      expect(tags.size, `chunk ${c.ord} mixes items ${[...tags]}`).toBe(1);
      const item = Number([...tags][0]);
      // The chunk belongs to that item: its heading names it, and if an item heading is in the
      // text, it is this item's and at the very start.
      expect(c.heading?.startsWith(headings[item - 1])).toBe(true);
      expect(starts.length).toBeLessThanOrEqual(1);
      if (starts.length === 1) expect(starts[0].index).toBe(0);
    }
    expect(sawItems).toBeGreaterThanOrEqual(8);
    // Every item heading opens a chunk.
    for (const h of headings)
      expect(
        chunks.some((c) => c.text.startsWith(h)),
        h,
      ).toBe(true);
  });

  it('keeps the saksliste together instead of cutting it at every listed item', () => {
    const front = chunks[0];
    expect(front.heading).toBe('MØTEPROTOKOLL'); // the heading in force where the chunk starts
    for (const h of headings) expect(front.text).toContain(h);
  });

  it('carries the agenda item into the heading and adds the sub-heading a chunk starts at', () => {
    const item3 = chunks.filter((c) => c.heading?.startsWith(headings[2]));
    expect(item3.length).toBeGreaterThan(1);
    expect(item3[0].heading).toBe(headings[2]);
    for (const c of item3.slice(1)) expect(c.heading).toMatch(new RegExp(`^${headings[2]}${HEADING_SEPARATOR}(Behandling|Votering|VEDTAK)$`));
  });

  it('loses no text and is deterministic', () => {
    expectNoTextLost(pages, chunks);
    expect(chunkPages(pages)).toEqual(chunks);
    expect(chunks.map((c) => c.ord)).toEqual(chunks.map((_, i) => i));
  });
});

describe('chunkPages: long reports', () => {
  const text = syntheticReport();
  const pages = fakePages(text, 40);
  const opts = { targetWords: 400, maxWords: 500, minWords: 300 };
  const chunks = chunkPages(pages, opts);

  it('keeps word counts within bounds', () => {
    const counts = chunks.map(words);
    expect(Math.max(...counts)).toBeLessThanOrEqual(opts.maxWords);
    // Small chunks only where a chapter ends (the next chunk opens a new chapter) or at the end.
    const chapter = /^\d \p{Lu}/u;
    chunks.forEach((c, i) => {
      const next = chunks[i + 1];
      if (words(c) < opts.minWords / 2) expect(!next || chapter.test(next.text), `chunk ${i} has ${words(c)} words`).toBe(true);
    });
    const mean = counts.reduce((a, b) => a + b, 0) / counts.length;
    expect(mean).toBeGreaterThan(250);
  });

  it('cuts a paragraph longer than maxWords at sentence ends, and one without sentences at words', () => {
    // Non-paged, so that no page end cuts a sentence.
    const chunks = chunkPages([{ num: null, text }], opts);
    const long = chunks.filter((c) => c.text.includes('langx'));
    expect(long.length).toBeGreaterThanOrEqual(3);
    for (const c of long.slice(0, -1)) expect(c.text.trimEnd()).toMatch(/\.$/);
    const noSentences = chunks.filter((c) => /bydelen barnehage skole levekår budsjett/.test(c.text));
    expect(noSentences.length).toBeGreaterThanOrEqual(2);
    for (const c of noSentences) expect(words(c)).toBeLessThanOrEqual(opts.maxWords);
  });

  it('opens a new chunk at every top-level section and names sub-sections in the heading', () => {
    for (const h of ['1 Innledning', '2 Metode', '3 Funn', '4 Anbefalinger', '5 Vedlegg']) {
      expect(
        chunks.some((c) => c.text.startsWith(h) && c.heading === h),
        h,
      ).toBe(true);
    }
    expect(chunks.some((c) => c.heading?.startsWith('3 Funn' + HEADING_SEPARATOR + '3.'))).toBe(true);
  });

  it('honours other sizes', () => {
    const small = chunkPages(pages, { targetWords: 80, maxWords: 120, minWords: 40 });
    for (const c of small) expect(words(c)).toBeLessThanOrEqual(120);
    expectNoTextLost(pages, small);
  });

  it('loses no text', () => expectNoTextLost(pages, chunks));
});

describe('chunkPages: pages', () => {
  it('records page spans and where each later page starts', () => {
    const { text } = syntheticProtocol(6, 3);
    const pages = fakePages(text, 17);
    const chunks = chunkPages(pages);
    let spanning = 0;
    for (const c of chunks) {
      expect(c.pageStart).not.toBeNull();
      expect(c.pageEnd!).toBeGreaterThanOrEqual(c.pageStart!);
      // The chunk's first characters are on pageStart.
      expect(stripWs(pages[c.pageStart! - 1].text)).toContain(stripWs(c.text.slice(0, 60)));
      const expectedBreaks = c.pageEnd! - c.pageStart!;
      expect(c.pageBreaks.map((b) => b.page)).toEqual(Array.from({ length: expectedBreaks }, (_, i) => c.pageStart! + i + 1));
      for (const b of c.pageBreaks) {
        const pageStartText = pages[b.page - 1].text.trim().slice(0, 40);
        expect(c.text.slice(b.offset).startsWith(pageStartText), `chunk ${c.ord}, page ${b.page}`).toBe(true);
      }
      if (c.pageBreaks.length > 0) spanning++;
    }
    expect(spanning).toBeGreaterThan(0);
  });

  it('skips empty pages, also inside a chunk', () => {
    const pages: PageText[] = [
      { num: 1, text: 'Sak 1/24 Budsjett\n\nBydelsutvalget drøftet budsjettet.' },
      { num: 2, text: '   \n\f ' },
      { num: 3, text: 'Budsjettet ble vedtatt.' },
    ];
    const [c, ...rest] = chunkPages(pages);
    expect(rest).toEqual([]);
    expect(c.pageStart).toBe(1);
    expect(c.pageEnd).toBe(3);
    expect(c.pageBreaks).toEqual([{ offset: c.text.indexOf('Budsjettet ble'), page: 3 }]);
    expect(
      chunkPages([
        { num: 1, text: '' },
        { num: 2, text: ' \n\n ' },
      ]),
    ).toEqual([]);
    expect(chunkPages([])).toEqual([]);
  });

  it('gives null pages and no page breaks for non-paged text', () => {
    const chunks = chunkPages([{ num: null, text: syntheticReport(3) }]);
    expect(chunks.length).toBeGreaterThan(3);
    for (const c of chunks) {
      expect(c.pageStart).toBeNull();
      expect(c.pageEnd).toBeNull();
      expect(c.pageBreaks).toEqual([]);
    }
  });

  it('handles Windows line ends and markdown headings', () => {
    const md = '# Rapport\r\n\r\nInnledende tekst om bydelen.\r\n\r\n## Funn\r\n\r\nFunn nummer en.\r\n\r\n### Detaljer\r\n\r\nMer tekst.';
    const chunks = chunkPages([{ num: null, text: md }], { minWords: 2, targetWords: 4, maxWords: 6 });
    expect(chunks.map((c) => c.heading)).toEqual(['Rapport', 'Funn', 'Funn' + HEADING_SEPARATOR + 'Detaljer']);
    expectNoTextLost([{ num: null, text: md }], chunks);
  });
});

describe('embeddingText', () => {
  it('puts title, heading and text on their own lines, leaving out what is missing', () => {
    expect(embeddingText('Møteprotokoll', { heading: 'Sak 1/24 Budsjett', text: 'Tekst.' })).toBe('Møteprotokoll\nSak 1/24 Budsjett\nTekst.');
    expect(embeddingText('Møteprotokoll', { heading: null, text: 'Tekst.' })).toBe('Møteprotokoll\nTekst.');
  });
});

describe.skipIf(!hasCorpus)('chunkPages on real protocols (../shared/corpus)', () => {
  const read = (f: string) => readFileSync(path.join(CORPUS, 'text', f), 'utf8');

  it('loses no text on the Levanger kommunestyre protocol, at any size', () => {
    const pages = fakePages(readFileSync(LEVANGER, 'utf8'));
    for (const opts of [{}, { targetWords: 100, maxWords: 150, minWords: 60 }, { targetWords: 20, maxWords: 30, minWords: 10 }]) {
      const chunks = chunkPages(pages, opts);
      expectNoTextLost(pages, chunks);
      const max = opts.maxWords ?? 500;
      for (const c of chunks) expect(words(c)).toBeLessThanOrEqual(max);
    }
  });

  it('gives every agenda item (PS n/26) its own chunks', () => {
    const pages = fakePages(readFileSync(LEVANGER, 'utf8'));
    const chunks = chunkPages(pages);
    for (let n = 6; n <= 13; n++) {
      const h = new RegExp(`^PS ${n}/26 `);
      const own = chunks.filter((c) => h.test(c.text));
      expect(own.length, `PS ${n}/26`).toBe(1);
      expect(own[0].heading).toMatch(h);
    }
    // The saksliste stays in the front matter.
    expect(chunks[0].text).toContain('PS 13/26    Søknad om lån - Levanger Fotballklubb');
    // The decision of the last item is in a chunk whose heading names that item.
    const vedtak = chunks.filter((c) => c.text.includes('Levanger kommune avslår søknad om ansvarlig lån'));
    for (const c of vedtak) expect(c.heading).toMatch(/^PS 13\/26 /);
  });

  it('loses no text on the short saksprotokoller and the NorQuAD passages', () => {
    for (const f of ['no_levanger_ungdomsradet_saksprotokoll_sak-14-2026.txt', 'no_steinkjer_hovedutvalg-plan-naering-miljo_saksprotokoll_sak-30-2026.txt']) {
      const pages: PageText[] = [{ num: null, text: read(f) }];
      expectNoTextLost(pages, chunkPages(pages));
    }
    const passages = path.join(CORPUS, 'eval/norquad/norquad_test_passages.jsonl');
    if (!existsSync(passages)) return;
    const texts = readFileSync(passages, 'utf8')
      .trim()
      .split('\n')
      .map((l) => (JSON.parse(l) as { text: string }).text);
    for (const t of texts) {
      const pages: PageText[] = [{ num: null, text: t }];
      const chunks = chunkPages(pages, { targetWords: 60, maxWords: 90, minWords: 30 });
      expectNoTextLost(pages, chunks);
      for (const c of chunks) expect(words(c)).toBeLessThanOrEqual(90);
    }
  });
});
