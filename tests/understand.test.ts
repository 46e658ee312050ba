/**
 * Document understanding on real layouts (issue 13): the issuing organisation, titles set over
 * several lines, the kind of a meeting notice, and the metadata that every chunk is found by.
 * The inputs are lines as pdftotext prints them from documents in ../shared/corpus.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SqliteStore } from '../indexes/embedded/sqlite-store.ts';
import { ADMIN_PRINCIPAL } from '../indexes/types.ts';
import { findOrganisation } from '../ingest/organisation.ts';
import { findKind, understand } from '../ingest/understand.ts';
import { indexByPage, rankedRecords, silverDoc } from './helpers.ts';

describe('the issuing organisation', () => {
  it('names the kommune, bydel or fylkeskommune as it calls itself', () => {
    expect(findOrganisation('Valgprotokoll for valgstyret i Bykle kommune, Agder fylke', '')).toEqual({ name: 'Bykle kommune', type: 'kommune' });
    expect(findOrganisation('', 'Kommunestyrevalget 2019\nValgprotokoll for VALGSTYRET i Nord-Odal kommune')).toEqual({
      name: 'Nord-Odal kommune',
      type: 'kommune',
    });
    expect(findOrganisation('', '1 Oslo kommune Bydel Grünerløkka PROTOKOLL 5/14 Protokoll fra møte')).toEqual({ name: 'Bydel Grünerløkka', type: 'bydel' });
    expect(findOrganisation('', 'Bydelsutvalget Gamle Oslo Postadresse: Postboks 9406 Grønland')).toEqual({ name: 'Bydel Gamle Oslo', type: 'bydel' });
    expect(findOrganisation('Valprotokoll for fylkesvalstyret i Vestland fylkeskommune', '')).toEqual({
      name: 'Vestland fylkeskommune',
      type: 'fylkeskommune',
    });
    expect(findOrganisation('Valgprotokoll for stemmestyret', 'Krets:\nEgersund\nKommune:\nEigersund\nFylke:\nRogaland')).toEqual({
      name: 'Eigersund kommune',
      type: 'kommune',
    });
    expect(findOrganisation('Svar på innsyn', 'Nord-Odal kommune\nSentraladministrasjonen')).toEqual({ name: 'Nord-Odal kommune', type: 'kommune' });
  });

  it('takes a national body only where it signs, not where the text is about it', () => {
    expect(findOrganisation('Office for Democratic Institutions and Human Rights', '')?.name).toBe('OSCE/ODIHR');
    expect(
      findOrganisation(
        'Kostnader IKT-drift',
        'Denne saken gjelder drift hos Norsk helsenett (NHN), Helse Nord IKT (HNIKT) og Sykehuspartner og et framtidig estimat',
      ),
    ).toBeNull();
  });

  it('stays unknown rather than guess', () => {
    expect(findOrganisation('Valg og IT-sikkerhet', 'Fra et norskt perspektiv\nPatricia Aas, M.Sc.')).toBeNull();
    expect(findOrganisation('', 'Saken gjelder alle i denne kommune som har stemt')).toBeNull();
  });
});

describe('titles, kinds and bodies of real layouts', () => {
  it('joins a title set over several lines', () => {
    const u = understand(
      [{ num: 1, text: 'Kommunestyrevalget 2019\n\nValgprotokoll for valgstyret i\nBykle kommune, Agder fylke\n\nA Administrative forhold' }],
      '004.pdf',
    );
    expect(u.title).toBe('Valgprotokoll for valgstyret i Bykle kommune, Agder fylke');
    expect(u.organisation?.name).toBe('Bykle kommune');
    expect(u.body).toBe('Valgstyret');
    const nhn = understand(
      [{ num: 1, text: 'UTREDNING\nFlytting av medisinske kvalitetsregistre fra\nHelse Nord IKT til Norsk Helsenett\n30.04.2015' }],
      'x.pdf',
    );
    expect(nhn.title).toBe('Utredning: Flytting av medisinske kvalitetsregistre fra Helse Nord IKT til Norsk Helsenett');
    const fmk = understand(
      [{ num: 1, text: 'Kostnader IKT-drift av nasjonale medisinske\nkvalitetsregistre fordelt per RHF\nSaksbehandler: FMK NIKT' }],
      'x.pdf',
    );
    expect(fmk.title).toBe('Kostnader IKT-drift av nasjonale medisinske kvalitetsregistre fordelt per RHF');
  });

  it('reads a meeting notice as a case list although it lists protocols among its cases', () => {
    const head =
      '1 Oslo kommune Bydel Nordstrand Bydelsadministrasjonen Møteinnkalling 5/09 Møte: Eldrerådet Møtested:\nBydelsadministrasjonen. Ekebergveien 243 Møtetid: Mandag 31. august 2009 kl Sekretariat: SAKSKART\nSak 43/09 Protokoll til godkjenning fra møte Eldrerådet';
    const u = understand([{ num: 1, text: head }], 'notice.pdf');
    expect(u.kind).toBe('saksliste');
    expect(u.body).toBe('Eldrerådet');
    expect(u.date).toBe('2009-08-31');
    expect(u.organisation?.name).toBe('Bydel Nordstrand');
    // "Rapporteket" (a product) is no "rapport"; the orienteringssak is a case paper.
    expect(findKind('Flytting av Rapporteket fra HNIKT til NHN', 'Orienteringssak\nFlytting av Rapporteket', 'x.pdf')).toBe('saksframlegg');
  });
});

describe('organisation and body in every chunk', () => {
  let store: SqliteStore;
  beforeAll(() => {
    store = new SqliteStore(':memory:');
    const texts = ['Valgstyret godkjente opptellingen.', 'Stemmesedler forkastet: 12. Merknader fra stemmestyrene.'];
    const protocol = (id: string, name: string) =>
      silverDoc(id, texts, { title: 'Valgprotokoll for valgstyret', body: 'Valgstyret', organisation: { name, type: 'kommune' } });
    indexByPage(store, [protocol('bykle', 'Bykle kommune'), protocol('kristiansand', 'Kristiansand kommune')]);
  });
  afterAll(() => store.close());

  it('finds each chunk of the named organisation, and only its own', () => {
    const { ranked } = store.bm25Rows('forkastet stemmesedler Bykle', { principal: ADMIN_PRINCIPAL, limit: 10 });
    const hits = rankedRecords(store, ranked);
    // The page that never says "Bykle" ranks first for its own municipality, over its twin.
    const first = hits[0];
    expect(first.documentId).toBe('bykle');
    expect(first.text).not.toContain('Bykle');
    expect(first.organisation).toBe('Bykle kommune');
    expect(hits.some((h) => h.documentId === 'kristiansand')).toBe(true);
  });
});
