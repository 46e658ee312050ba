/**
 * The protocol parser (ingest/protocol) and protocol chunks, against the gold structure in
 * fixtures/gold: the demo protocols (always) and the real ones in ../shared/corpus (skipped
 * with the reason when that folder is absent).
 */

import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compare, formatTable, type Gold, goldPath, loadGold, sameDecisionText } from '../eval/parser.ts';
import { caseNumberTokens } from '../indexes/analysis/index.ts';
import type { PageText } from '../indexes/types.ts';
import { stripRunningLines } from '../ingest/boilerplate.ts';
import { chunkPages } from '../ingest/chunk.ts';
import { extractFile, shutdownExtractors } from '../ingest/extract/index.ts';
import { parseSilverProtocol, toChunks } from '../ingest/pipeline.ts';
import { protocolChunks } from '../ingest/protocol/chunks.ts';
import { itemOutcome, itemType } from '../ingest/protocol/classify.ts';
import { isProtocolCandidate, normalizeArchiveId, normalizeCaseId, type ParsedProtocol, parseProtocol } from '../ingest/protocol/index.ts';
import { cleanPages } from '../ingest/protocol/text.ts';
import { parseBallots, sentenceBallot, summarize } from '../ingest/protocol/votes.ts';
import { understand } from '../ingest/understand.ts';
import { HAS_CORPUS, NO_CORPUS_REASON, tempDir } from './helpers.ts';

const ROOT = path.resolve(import.meta.dirname, '..');
const ws = (s: string | null | undefined) => (s ?? '').replace(/\s+/g, ' ').trim();
const nows = (s: string) => s.replace(/\s+/g, '');

interface Loaded {
  gold: Gold;
  pages: PageText[];
  kind: string;
  parsed: ParsedProtocol | null;
}

async function load(g: Gold): Promise<Loaded> {
  const file = goldPath(g)!;
  const x = await extractFile(file);
  const kind = understand(x.pages, path.basename(file), x.title).kind;
  return { gold: g, pages: x.pages, kind, parsed: isProtocolCandidate(kind, x.pages) ? parseProtocol(x.pages, { kind }) : null };
}

const ALL_GOLD = loadGold();
const DEMO_GOLD = ALL_GOLD.filter((g) => !g.document.startsWith('corpus:'));
const CORPUS_GOLD = ALL_GOLD.filter((g) => g.document.startsWith('corpus:'));
if (!HAS_CORPUS) console.warn(`[protocol.test] ${NO_CORPUS_REASON} (${CORPUS_GOLD.length} gold documents)`);

afterAll(async () => {
  await shutdownExtractors();
});

// ---------------------------------------------------------------------------------------------

describe('case numbers', () => {
  it('normalise to YYYY/N with the year rule of the search analysis', () => {
    const cases: [string, string][] = [
      ['PS 6/26', '2026/6'],
      ['Sak 045/24', '2024/45'],
      ['sak 14/2026', '2026/14'],
      ['139/12', '2012/139'],
      ['K-112/12', '2012/112'],
      ['Sak 98/99', '1999/98'],
    ];
    for (const [written, norm] of cases) {
      expect(normalizeCaseId(written), written).toBe(norm);
      // One rule in two places must agree: "Sak 45/24" is sak45x2024 in the index.
      const [year, num] = norm.split('/');
      expect(caseNumberTokens(written)).toContain(`sak${num}x${year}`);
    }
    expect(normalizeCaseId('Referatsaker')).toBeNull();
  });

  it('reads archive numbers year first', () => {
    expect(normalizeArchiveId('24/0298')).toBe('2024/298');
    expect(normalizeArchiveId('2012/2960')).toBe('2012/2960');
  });
});

describe('votes, bokmål and nynorsk', () => {
  it('reads counted, unanimous and fallen votes', () => {
    expect(sentenceBallot('Innstillingens punkt 4 ble vedtatt med 12 mot 3 stemmer (H, FrP).')).toMatchObject({
      for: 12,
      against: 3,
      adopted: true,
      unanimous: false,
      subject: 'Innstillingens punkt 4',
    });
    expect(sentenceBallot('Forslaget fra H falt med 4 stemmer (H, V, FrP) mot 11.')).toMatchObject({
      for: 4,
      against: 11,
      adopted: false,
      subject: 'Forslaget fra H',
    });
    expect(sentenceBallot('Som PTN-utvalet (plan, teknikk, næring) - vedteke med 14 mot 10 røyster.')).toMatchObject({ for: 14, against: 10, adopted: true });
    expect(sentenceBallot('Som rådmannen - samrøystes')).toMatchObject({ unanimous: true, adopted: true, for: null });
    expect(sentenceBallot('Tilrådinga vart samrøystes vedteken.')).toMatchObject({ unanimous: true, adopted: true });
    expect(sentenceBallot('Framlegget frå Sp fall med 3 røyster (Sp, KrF) mot 8.')).toMatchObject({ for: 3, against: 8, adopted: false });
    expect(sentenceBallot('Innstillingen ble vedtatt med 20 mot 12 stemmer, 3 stemte blankt.')).toMatchObject({ for: 20, against: 12, blank: 3 });
  });

  it('does not take "et enstemmig formannskap" or a habilitet sentence for a vote', () => {
    expect(sentenceBallot('Frode Lund (SP) ble av et enstemmig formannskap erklært inhabil.')).toBeNull();
    expect(sentenceBallot('Saken ble behandlet i lukket møte.')).toBeNull();
  });

  it('reads roll calls, alternative votes and the casting vote', () => {
    const alt = parseBallots(
      'For forslag 1 stemte 25: Anne Grete Krogstad (AP), Janne K. J. Larsen (FrP).\nFor forslag 2 stemte 10: Randi Haugskott (SP).\nDermed ble forslag 1 vedtatt.',
    );
    expect(alt).toHaveLength(1);
    expect(alt[0]).toMatchObject({ subject: 'forslag 1', for: 25, against: 10, adopted: true });
    expect(alt[0].rollCall).toEqual({ for: ['Anne Grete Krogstad', 'Janne K. J. Larsen'], against: ['Randi Haugskott'] });

    const tie = parseBallots(
      'For forslaget stemte 4: A B (AP), C D (H).\nImot forslaget stemte 4: E F (SP), G H (SP).\nDermed ble forslaget vedtatt, med leders dobbeltstemme.',
    );
    expect(tie[0]).toMatchObject({ for: 4, against: 4, adopted: true, unanimous: false });

    const fell = parseBallots(
      'For forslaget stemte 1: Martin Von Heimburg (SV).\nImot forslaget stemte 9: A B (AP).\nDermed ble tilleggsforslag ikke vedtatt.',
    );
    expect(fell[0]).toMatchObject({ for: 1, against: 9, adopted: false });

    const all = parseBallots('For forslaget (med vedtatt endring) stemte 34: A B (AP), C D (H).\nDermed ble innstillingen vedtatt.');
    expect(all[0]).toMatchObject({ for: 34, against: 0, unanimous: true, adopted: true });
  });

  it('summarises: the first adopted split vote carries the numbers; fallen proposals leave it unanimous', () => {
    const text =
      'Innstillingens punkt 1, 2, 3 og 5 ble enstemmig vedtatt.\nInnstillingens punkt 4 ble vedtatt med 12 mot 3 stemmer (H, FrP).\nForslaget fra H falt med 4 stemmer (H, V, FrP) mot 11.';
    expect(summarize(parseBallots(text), text)).toMatchObject({ for: 12, against: 3, unanimous: false });
    const t2 = 'Innstillingen ble enstemmig vedtatt.\nForslaget fra H falt med 4 stemmer (H, V, FrP) mot 11.';
    expect(summarize(parseBallots(t2), t2)).toMatchObject({ for: null, against: null, unanimous: true });
    expect(summarize([], '')).toBeNull();
  });
});

describe('type and outcome', () => {
  it('classifies items', () => {
    expect(itemType('PS', 'Referatsaker')).toBe('referat');
    expect(itemType('RS', 'Møteprotokoll - kontrollutvalget')).toBe('referat');
    expect(itemType('FO', 'Interpellasjon fra Jostein Trøite (SV) - Økte investeringer')).toBe('interpellasjon');
    expect(itemType('Sak', 'Orientering: NAV Gamle Oslo')).toBe('orientering');
    expect(itemType('Sak', 'Val av meddommarar 2025–2028')).toBe('valg');
    expect(itemType(null, 'Eventuelt')).toBe('annet');
    expect(itemType('PS', 'Søknad om lån - Levanger Fotballklubb')).toBe('politisk sak');
  });

  it('reads the outcome from the decision', () => {
    expect(itemOutcome('Referatsakene tas til orientering.', null)).toBe('tatt til orientering');
    expect(itemOutcome('Orienteringen tas til orientering. Komiteen ber om en ny sak.', null)).toBe('tatt til orientering');
    expect(itemOutcome('1.Delårsrapport 1/26 tas til orientering.\n\n2.Driftsbudsjett for 2026 endres slik:', null)).toBe('vedtatt');
    expect(itemOutcome('Saken sendes tilbake til administrasjonen for innhenting av supplerende saksopplysninger.', null)).toBe('utsatt');
    expect(itemOutcome('Saka vert utsett til neste møte.', null)).toBe('utsatt');
    expect(itemOutcome('Oppstarten av nytt ungdomshus i Vålerenga utsettes til 2026.', null)).toBe('vedtatt');
    expect(itemOutcome(null, null)).toBeNull();
  });
});

// ---------------------------------------------------------------------------------------------
// Hand-made protocols: layouts and language the gold documents do not have.

const NYNORSK = `Møtebok
Utval: Formannskapet
Møtedato: 12.02.2025
Møtestad: Kommunestyresalen
Tid: 09:00 - 14:30
Til stades: Ola Nordmann (Sp), leiar; Kari Vik (Ap), nestleiar; Per Dal (H)
Forfall: Siri Li (KrF)

Sak 12/25 Val av meddommarar 2025–2028
Arkivsaknr.: 25/0044
Handsaming
Per Dal (H) erklærte seg inhabil og gjekk frå under handsaminga.

Framlegg frå Kari Vik (Ap):
Lista vert supplert med to namn.

Avrøysting
Tilrådinga vart samrøystes vedteken.

Vedtak
Formannskapet vel dei meddommarane som står på lista.

Sak 13/25 Breiband i Øvre dal
Handsaming
Framlegget frå Sp fall med 3 røyster (Sp, KrF) mot 8.
Vedtak: Saka vert utsett til neste møte.
`;

describe('a nynorsk møtebok (hand-made)', () => {
  const parsed = parseProtocol([{ num: 1, text: NYNORSK }], { kind: 'møtebok' });
  const [m] = parsed.structure.meetings;

  it('reads the header', () => {
    expect(m).toMatchObject({ body: 'Formannskapet', date: '2025-02-12', startTime: '09:00', endTime: '14:30', place: 'Kommunestyresalen' });
    expect(m.attendees.map((a) => [a.name, a.party, a.role])).toEqual([
      ['Ola Nordmann', 'Sp', 'leiar'],
      ['Kari Vik', 'Ap', 'nestleiar'],
      ['Per Dal', 'H', null],
    ]);
    expect(m.absent).toEqual([{ name: 'Siri Li', party: 'KrF' }]);
  });

  it('reads items, votes, proposals, inhabil and decisions', () => {
    const [a, b] = m.agendaItems;
    expect(a).toMatchObject({
      caseId: 'Sak 12/25',
      caseIdNormalized: '2025/12',
      archiveCaseId: '25/0044',
      archiveCaseIdNormalized: '2025/44',
      type: 'valg',
      outcome: 'vedtatt',
      pages: [1],
    });
    expect(a.decision).toBe('Formannskapet vel dei meddommarane som står på lista.');
    expect(a.votes).toMatchObject({ unanimous: true, for: null, against: null });
    expect(a.proposals).toEqual([{ by: 'Kari Vik', party: 'Ap', onBehalfOf: null, text: 'Lista vert supplert med to namn.', kind: 'forslag' }]);
    expect(a.conflictsOfInterest.map((c) => c.name)).toEqual(['Per Dal']);
    expect(b).toMatchObject({ caseId: 'Sak 13/25', decision: 'Saka vert utsett til neste møte.', outcome: 'utsatt' });
    expect(b.votes).toMatchObject({ for: null, against: null, unanimous: false });
    expect(b.votes!.ballots[0]).toMatchObject({ for: 3, against: 8, adopted: false });
  });
});

describe('pipeline chunks of a protocol', () => {
  it('carry meeting, case and decision, with the case number and title in the heading', () => {
    const pages = [{ num: 1, text: NYNORSK }];
    const chunks = toChunks('doc', pages, parseSilverProtocol({ kind: 'møtebok', pages }));
    const item = chunks.filter((c) => c.caseId === 'Sak 12/25');
    expect(item.length).toBeGreaterThanOrEqual(2);
    for (const c of item) {
      expect(c).toMatchObject({
        meetingBody: 'Formannskapet',
        meetingDate: '2025-02-12',
        caseIdNormalized: '2025/12',
        itemTitle: 'Val av meddommarar 2025–2028',
        meetingIndex: 0,
        itemIndex: 0,
      });
      expect(c.heading).toMatch(/^Sak 12\/25 Val av meddommarar 2025–2028/);
    }
    const decision = item.filter((c) => c.isDecision);
    expect(decision.map((c) => c.text)).toEqual(['Vedtak\nFormannskapet vel dei meddommarane som står på lista.']);
    expect(decision[0].heading).toBe('Sak 12/25 Val av meddommarar 2025–2028 › Vedtak');
    // The header is a chunk of the meeting without a case.
    expect(chunks[0]).toMatchObject({ caseId: null, meetingBody: 'Formannskapet', isDecision: false });
    expect(chunks.map((c) => c.id)).toEqual(chunks.map((_, i) => `doc:${i}`));
  });
});

describe('layouts the parser must not misread', () => {
  it('keeps a saksliste apart from the items that are treated', () => {
    const text = [
      'Saksliste',
      'PS 1/25 Godkjenning av protokoll',
      'PS 2/25 Budsjett 2025',
      '',
      'PS 1/25 Godkjenning av protokoll',
      'Vedtak',
      'Protokollen godkjennes.',
      '',
      'PS 2/25 Budsjett 2025',
      'Behandling',
      'Forslaget ble enstemmig vedtatt.',
      'Vedtak',
      'Budsjettet vedtas.',
    ].join('\n');
    const [m] = parseProtocol([{ num: 1, text }], { kind: 'møteprotokoll' }).structure.meetings;
    expect(m.saksliste?.map((s) => s.caseId)).toEqual(['PS 1/25', 'PS 2/25']);
    expect(m.agendaItems.map((i) => [i.caseId, i.decision])).toEqual([
      ['PS 1/25', 'Protokollen godkjennes.'],
      ['PS 2/25', 'Budsjettet vedtas.'],
    ]);
  });

  it('reads a saksliste that treats nothing as the agenda', () => {
    const text =
      'Innkalling til møte i Eldrerådet\nMøtedato: 03.03.2025\n\nSaksliste\nSak 1/25 Godkjenning av innkalling\nSak 2/25 Budsjett 2025\nSak 3/25 Orientering om dagsenteret';
    const parsed = parseProtocol([{ num: 1, text }], { kind: 'saksliste' });
    const [m] = parsed.structure.meetings;
    expect(m).toMatchObject({ date: '2025-03-03' });
    expect(m.agendaItems.map((i) => [i.caseId, i.title, i.type, i.decision, i.pages])).toEqual([
      ['Sak 1/25', 'Godkjenning av innkalling', 'politisk sak', null, [1]],
      ['Sak 2/25', 'Budsjett 2025', 'politisk sak', null, [1]],
      ['Sak 3/25', 'Orientering om dagsenteret', 'orientering', null, [1]],
    ]);
    expect(parsed.structure.unparsed).toEqual([]);
  });

  it('reads a title printed on the line under the case number', () => {
    const text = 'PS 12/24\nBudsjett 2025\nBehandling\nEnstemmig vedtatt.\nVedtak\nBudsjettet vedtas.';
    const [m] = parseProtocol([{ num: 1, text }], { kind: 'møteprotokoll' }).structure.meetings;
    expect(m.agendaItems.map((i) => [i.caseId, i.title, i.decision])).toEqual([['PS 12/24', 'Budsjett 2025', 'Budsjettet vedtas.']]);
  });

  it('gives an unmarked vedtak in a one-body møtebok to that body', () => {
    const text = [
      'Møtebok',
      'SAKSGANG',
      'Styre/råd/utval Møtedato Sak nr Saksbeh.',
      'Formannskapet 05.02.2025 14/25 OLN',
      '',
      'Arkivsaknr.: 25/0101',
      'Kjøp av tomt til ny barnehage på Moen',
      'Saksomtale: Kommunen har fått tilbod om å kjøpe tomta.',
      'Rådmannen',
      'tilrår:',
      'Kommunen kjøper tomta for kr 2 000 000.',
      'Vedtak:',
      'Som rådmannen - samrøystes',
    ].join('\n');
    const parsed = parseProtocol([{ num: 1, text }], { kind: 'møtebok' });
    expect(parsed.structure.meetings).toHaveLength(1);
    const [item] = parsed.structure.meetings[0].agendaItems;
    expect(parsed.structure.meetings[0]).toMatchObject({ body: 'Formannskapet', date: '2025-02-05' });
    expect(item).toMatchObject({
      caseId: '14/25',
      caseIdNormalized: '2025/14',
      archiveCaseId: '25/0101',
      title: 'Kjøp av tomt til ny barnehage på Moen',
      decision: 'Som rådmannen - samrøystes',
      outcome: 'vedtatt',
    });
    expect(item.proposals).toEqual([expect.objectContaining({ kind: 'innstilling', by: 'Rådmannen', text: 'Kommunen kjøper tomta for kr 2 000 000.' })]);
  });

  it('does not take "Sak 45/24 ble utsatt ..." in running text for an item', () => {
    const text = 'Sak 3/25 Klimaplan\nBehandling\nSak 45/24 ble utsatt til dette møtet, og er nå ferdig utredet.\nVedtak\nKlimaplanen vedtas.';
    const [m] = parseProtocol([{ num: 1, text }], { kind: 'møteprotokoll' }).structure.meetings;
    expect(m.agendaItems.map((i) => i.caseId)).toEqual(['Sak 3/25']);
  });

  it('reports a protocol without item headings as unparsed, and keeps its text searchable', () => {
    const pages = [{ num: 1, text: 'Møteprotokoll\nUtvalg: Eldrerådet\nMøtedato: 01.02.2025\n\nRådet drøftet aktivitetstilbudet.' }];
    const parsed = parseProtocol(pages, { kind: 'møteprotokoll' });
    expect(parsed.structure.meetings[0]).toMatchObject({ body: 'Eldrerådet', date: '2025-02-01', agendaItems: [] });
    expect(parsed.structure.unparsed).toEqual([expect.objectContaining({ pageStart: 1, pageEnd: 1 })]);
    // No agenda items: the ordinary chunker, exactly as before.
    expect(toChunks('d', pages, parsed).map((c) => c.text)).toEqual(chunkPages(stripRunningLines(pages)).map((c) => c.text));
  });

  it('leaves documents that are not protocols to the ordinary chunker', () => {
    expect(isProtocolCandidate('innsiktsrapport', [{ num: 1, text: 'Innsiktsrapport\nSak 45/24 nevnes her.' }])).toBe(false);
    expect(isProtocolCandidate('rapport', [{ num: 1, text: 'Flytting\nOrienteringssak til møte i FMK NIKT tirsdag 10. oktober 2017.' }])).toBe(true);
    expect(parseSilverProtocol({ kind: 'utredning', pages: [{ num: 1, text: 'Utredning' }] })).toBeNull();
  });
});

// ---------------------------------------------------------------------------------------------
// Against the gold

function goldSuite(name: string, golds: Gold[]) {
  const loaded = new Map<string, Loaded>();
  beforeAll(async () => {
    for (const g of golds) loaded.set(g.file, await load(g));
  });

  for (const g of golds) {
    describe(`${name}: ${g.file.replace(/\.json$/, '')}`, () => {
      const get = () => loaded.get(g.file)!;
      const goldItems = g.meetings.flatMap((m) => m.agendaItems);
      const items = () => get().parsed?.structure.meetings.flatMap((m) => m.agendaItems) ?? [];

      it('finds the meetings (body, date) and every agenda item with its case id and first page', () => {
        const parsed = get().parsed;
        expect(parsed, 'read as a protocol').not.toBeNull();
        expect(parsed!.structure.meetings.map((m) => [m.body, m.date])).toEqual(g.meetings.map((m) => [m.body, m.date]));
        expect(items().map((i) => [i.caseId, i.caseIdNormalized, ws(i.title) || null, i.pages[0] ?? null])).toEqual(
          goldItems.map((i) => [i.caseId, i.caseIdNormalized, ws(i.title) || null, i.pages[0] ?? null]),
        );
        if (g.unparsed.length) expect(parsed!.structure.unparsed.map((u) => [u.pageStart, u.pageEnd])).toEqual(g.unparsed.map((u) => [u.pageStart, u.pageEnd]));
      });

      it('counts the votes and reads the outcome', () => {
        expect(items().map((i) => (i.votes ? { for: i.votes.for, against: i.votes.against, unanimous: i.votes.unanimous } : null))).toEqual(
          goldItems.map((i) => i.votes),
        );
        expect(items().map((i) => i.outcome)).toEqual(goldItems.map((i) => i.outcome));
        expect(items().map((i) => i.conflictsOfInterest.map((c) => c.name))).toEqual(goldItems.map((i) => i.conflictsOfInterest));
      });

      it('cuts each decision where the gold starts and ends it', () => {
        items().forEach((p, k) => {
          const want = goldItems[k].decision;
          if (want === null) {
            expect(p.decision, `${p.caseId}: no decision`).toBeNull();
            return;
          }
          expect(p.decision, `${p.caseId}: decision`).not.toBeNull();
          const got = ws(p.decision);
          const exp = ws(want);
          expect(nows(got).slice(0, 40), `${p.caseId}: start`).toBe(nows(exp).slice(0, 40));
          expect(nows(got).slice(-40), `${p.caseId}: end`).toBe(nows(exp).slice(-40));
          expect(sameDecisionText(p.decision, want), `${p.caseId}: whole text`).toBe(true);
          expect(p.spans.decision?.pageStart ?? null, `${p.caseId}: decision page`).toBe(goldItems[k].decisionSpan?.pageStart ?? null);
        });
      });

      it('reads the attendees', () => {
        const got = get().parsed!.structure.meetings.flatMap((m) => m.attendees.map((a) => [a.name, a.party, a.substituteFor]));
        expect(got).toEqual(g.meetings.flatMap((m) => m.attendees.map((a) => [a.name, a.party, a.substituteFor])));
      });

      it('chunks by agenda item: no chunk spans two items, the decision is its own chunk, no text is lost', () => {
        const { parsed, pages } = get();
        if (!parsed || !parsed.structure.meetings.some((m) => m.agendaItems.length)) return;
        const chunks = protocolChunks(parsed);
        // Every non-whitespace character of the pages (running lines out), in order.
        expect(nows(chunks.map((c) => c.text).join(''))).toBe(
          nows(
            cleanPages(pages)
              .map((p) => p.text)
              .join(''),
          ),
        );
        const meetings = parsed.structure.meetings;
        for (const c of chunks) {
          if (c.context.itemIndex === null) continue;
          const item = meetings[c.context.meetingIndex!].agendaItems[c.context.itemIndex];
          // No other item's heading inside the chunk.
          for (const other of meetings.flatMap((m) => m.agendaItems)) {
            if (other === item || !other.caseId || other.caseIdNormalized === item.caseIdNormalized) continue;
            expect(
              c.text.startsWith(`${other.caseId} `) || c.text.includes(`\n${other.caseId} ${other.title ?? ''}`.trim()),
              `${c.heading} holds ${other.caseId}`,
            ).toBe(false);
          }
          expect(c.heading).toContain(item.caseId ?? item.title ?? '');
          expect(c.context).toMatchObject({
            meetingBody: meetings[c.context.meetingIndex!].body,
            meetingDate: meetings[c.context.meetingIndex!].date,
            caseId: item.caseId,
          });
          if (c.pageStart !== null) expect(item.pages).toContain(c.pageStart);
        }
        for (const [mi, m] of meetings.entries()) {
          m.agendaItems.forEach((item, ii) => {
            const own = chunks.filter((c) => c.context.meetingIndex === mi && c.context.itemIndex === ii && c.context.isDecision);
            if (!item.decision) return expect(own).toEqual([]);
            expect(own.length, `${item.caseId}: decision chunks`).toBeGreaterThan(0);
            // The decision chunk holds the decision and nothing of the votes or the next item.
            expect(nows(own.map((c) => c.text).join(''))).toContain(nows(item.decision));
            for (const c of own) expect(c.heading).toMatch(/› Vedtak$/);
          });
        }
      });
    });
  }
}

goldSuite('demo', DEMO_GOLD);

describe.skipIf(!HAS_CORPUS)(`real protocols (../shared/corpus)`, () => {
  goldSuite('corpus', CORPUS_GOLD);

  it('reads Levanger PS 6–13 with 35 votes each, and PS 13/26 as 25 against 10 with Frode Lund inhabil', async () => {
    const g = CORPUS_GOLD.find((x) => x.file.startsWith('no_levanger_kommunestyret'))!;
    const { parsed } = await load(g);
    const items = parsed!.structure.meetings[0].agendaItems;
    expect(items.map((i) => i.caseId)).toEqual(['PS 6/26', 'PS 7/26', 'PS 8/26', 'PS 9/26', 'PS 10/26', 'PS 11/26', 'PS 12/26', 'PS 13/26']);
    for (const i of items.slice(0, 7)) expect(i.votes, i.caseId!).toMatchObject({ for: 35, against: 0, unanimous: true });
    const ps13 = items[7];
    expect(ps13.votes).toMatchObject({ for: 25, against: 10, unanimous: false });
    expect(ps13.votes!.rollCall!.against).toContain('Randi Haugskott');
    expect(ps13.votes!.ballots.map((b) => [b.for, b.against, b.adopted])).toEqual([
      [25, 10, true],
      [4, 31, false],
    ]);
    expect(ps13.proposals[0].text).toMatch(/^1\. Levanger kommune avslår .*\søkonomiske status og utvikling$/s);
    expect(ps13.conflictsOfInterest).toEqual([expect.objectContaining({ name: 'Frode Lund', party: 'SP' })]);
    expect(ps13.proposals.map((p) => [p.kind, p.by, p.party])).toEqual([
      ['innstilling', 'Formannskapet', null],
      ['forslag', 'Randi Haugskott', 'Senterpartiet'],
      ['forslag', 'Håvard Lutdal', 'Høyre'],
    ]);
    expect(parsed!.structure.meetings[0].saksliste?.map((s) => s.caseId)).toContain('FO 4/26');
  });

  it('reads the Bø møtebok as two meetings, the kommunestyre vedtak "14 mot 10 røyster"', async () => {
    const g = CORPUS_GOLD.find((x) => x.file.startsWith('no_bo-kommune'))!;
    const { parsed } = await load(g);
    const [ptn, k] = parsed!.structure.meetings;
    expect(ptn.agendaItems[0]).toMatchObject({ caseId: '139/12', decision: 'Som rådmannen - samrøystes', votes: expect.objectContaining({ unanimous: true }) });
    expect(ptn.agendaItems[0].proposals[0]).toMatchObject({ kind: 'innstilling', by: 'Rådmannen' });
    expect(k.agendaItems[0]).toMatchObject({
      caseId: '112/12',
      outcome: 'vedtatt',
      votes: expect.objectContaining({ for: 14, against: 10, unanimous: false }),
    });
    expect(k.agendaItems[0].decision).toMatch(/^Som PTN-utvalet .* vedteke med 14 mot 10 røyster\./s);
  });
});

describe('parser evaluation', () => {
  it('prints a precision/recall table over the gold files', () => {
    const g = DEMO_GOLD[0];
    const perfect = {
      meetings: g.meetings.map(({ saksliste: _listed, ...m }) => ({
        ...m,
        agendaItems: m.agendaItems.map((i) => ({
          ...i,
          archiveCaseIdNormalized: null,
          treatment: null,
          proposals: [],
          votes: i.votes ? { ...i.votes, text: '', ballots: [] } : null,
          conflictsOfInterest: i.conflictsOfInterest.map((name) => ({ name, party: null, text: '' })),
          type: i.type as 'politisk sak',
          outcome: i.outcome as 'vedtatt' | null,
          spans: { item: { pageStart: i.pages[0] ?? null, pageEnd: null }, ...(i.decisionSpan ? { decision: i.decisionSpan } : {}) },
        })),
      })),
      unparsed: [],
    };
    const r = compare(g, perfect);
    expect(r.misses).toEqual([]);
    const table = formatTable([r]);
    expect(table).toContain('| What | Gold | Found | Correct | Precision | Recall |');
    expect(table).toMatch(/\| Agenda items \(case id \+ first page\) \| \d+ \| \d+ \| \d+ \| 100\.0 % \| 100\.0 % \|/);
    const empty = formatTable([compare(g, { meetings: [], unparsed: [] })]);
    expect(empty).toMatch(/\| Agenda items \(case id \+ first page\) \| \d+ \| 0 \| 0 \| – \| 0\.0 % \|/);
  });
});

describe('innsikt show --json', () => {
  it('prints the meetings in silver', () => {
    const data = tempDir();
    const env = { ...process.env, INNSIKT_DATA_DIR: data };
    const bin = path.join(ROOT, 'bin', 'innsikt.js');
    const run = (...args: string[]) => spawnSync(process.execPath, [bin, ...args], { cwd: ROOT, env, encoding: 'utf8', timeout: 120_000 });
    const ing = run('ingest', path.join(ROOT, 'fixtures/demo/2024-03-14-bydelsutvalget.pdf'), '--json');
    expect(ing.status, ing.stderr).toBe(0);
    const id = JSON.parse(ing.stdout).files[0].documentId;
    const show = run('show', id, '--json');
    expect(show.status, show.stderr).toBe(0);
    const silver = JSON.parse(show.stdout);
    expect(silver.meetings[0]).toMatchObject({ body: 'Bydelsutvalget', date: '2024-03-14' });
    const item = silver.meetings[0].agendaItems[0];
    for (const k of ['caseId', 'caseIdNormalized', 'title', 'decision', 'votes', 'pages']) expect(item).toHaveProperty(k);
    expect(item).toMatchObject({ caseId: 'Sak 18/24', caseIdNormalized: '2024/18', pages: [1, 2] });
    expect(item.votes).toMatchObject({ for: 12, against: 3, unanimous: false });
    expect(silver.unparsed).toEqual([]);
  });
});
