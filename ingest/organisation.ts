/**
 * Which organisation issued a document: a kommune, an Oslo bydel, a fylkeskommune, a ministry,
 * a directorate or another national body, with its proper name ("Bykle kommune", "Bydel
 * Grünerløkka", "Vestland fylkeskommune"). Read from the title and the first lines of the
 * first pages; nothing found stays null, never a guess.
 *
 * Rules, the first that finds something wins:
 * 1. An Oslo bydel named as such ("Bydel Grünerløkka", "Bydelsutvalget Gamle Oslo"): the
 *    district, not "Oslo kommune" above it in the letterhead.
 * 2. A board of a municipality or county ("valgstyret i Bykle kommune", "fylkesvalstyret i
 *    Vestland"): that municipality or county.
 * 3. A national body from ingest/organisations.json, named in the first lines.
 * 4. A letterhead line "<Name> kommune" / "<Name> fylkeskommune" (also "Aarhus Kommune").
 */
import type { Organisation, OrganisationType } from '../indexes/types.ts';
import data from './organisations.json' with { type: 'json' };

const escapeRe = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
/** A word in any letter case ("valgstyret", "Valgstyret", "VALGSTYRET") without the i flag, which would let \p{Lu} match any letter. */
const anyCase = (word: string) =>
  [...word].map((ch) => (ch.toLowerCase() !== ch.toUpperCase() ? `[${ch.toLowerCase()}${ch.toUpperCase()}]` : escapeRe(ch))).join('');
/** A proper name: one to three capitalised words ("Bykle", "Nord-Odal", "Møre og Romsdal" is a county, not a kommune). */
const NAME = "\\p{Lu}[\\p{L}'-]+(?:[ -]\\p{Lu}[\\p{L}'-]+){0,2}";
const BYDEL_NAMES = data.osloBydeler.map(escapeRe).join('|');
const BYDEL = new RegExp(`\\b(?:bydel|bydelsutvalg(?:et)?(?: i bydel)?)\\s+(${BYDEL_NAMES})(?![\\p{L}])`, 'iu');
const BYDEL_AFTER = new RegExp(`\\b(${BYDEL_NAMES}) bydel(?:sutvalg)?\\b`, 'u');
const BOARDS = ['valgstyret', 'valstyret', 'stemmestyret', 'kommunestyret', 'formannskapet', 'bystyret', 'heradsstyret'].map(anyCase).join('|');
const BOARD_OF = new RegExp(`(?<![\\p{L}])(?:${BOARDS})\\s+i\\s+(${NAME})\\s+(kommune|herad)\\b`, 'u');
const COUNTY_BOARD = new RegExp(
  `(?<![\\p{L}])(?:${anyCase('fylkesvalgstyret')}|${anyCase('fylkesvalstyret')}|${anyCase('fylkestinget')})\\s+i\\s+(${NAME})\\b`,
  'u',
);
/** A form's label and the name on the same or the next line ("Kommune:\nEigersund"). */
const LABELLED_MUNICIPALITY = new RegExp(`^(?:Kommune|Kommunenavn)\\s*:\\s*\\n?\\s*(${NAME})\\s*$`, 'mu');
/** A letterhead: a line that starts with "<Name> kommune" / "<Name> fylkeskommune". Not "i Oslo kommune" inside a sentence. */
const LETTERHEAD = new RegExp(`^\\s*(?:\\d+\\s+)?(${NAME})\\s+(kommune|herad|Kommune|fylkeskommune)\\b`, 'mu');
/** "Fastsatt av Kommunal- og moderniseringsdepartementet": who issued a regulation. */
const ISSUED_BY = /\b(?:fastsatt|utgitt|utarbeidet|publisert)\s+av\s+/i;
const NATIONAL = data.national.map((o) => ({ ...o, re: new RegExp(`(?<![\\p{L}])(?:${o.forms.map(escapeRe).join('|')})(?![\\p{L}])`, 'u') }));

/** Words that look like a name before "kommune" but are not one ("Oslo kommune" is; "Denne kommune" is not). */
const NOT_NAMES = /^(denne|den|vår|hver|hele|annen|egen|samme|en|ein|i|og|for|til|fra|av|om|sin|din|deres)$/i;

function isName(name: string): boolean {
  return name.trim().length >= 2 && !NOT_NAMES.test(name.trim().split(/\s+/)[0]);
}

/**
 * A national body named as the author: on a line of its own (a letterhead, at most six words
 * around it) or after "fastsatt av". A name inside a sentence ("flytting fra Helse Nord IKT
 * til Norsk Helsenett") says what the document is about, not who wrote it.
 */
function nationalBody(lines: string[]): Organisation | null {
  for (const line of lines) {
    for (const o of NATIONAL) {
      const m = o.re.exec(line);
      if (!m) continue;
      const before = line.slice(0, m.index);
      const words = line.split(/\s+/).length - m[0].split(/\s+/).length;
      if (words <= 6 || ISSUED_BY.test(before.slice(-30))) return { name: o.name, type: o.type as OrganisationType };
    }
  }
  return null;
}

export function findOrganisation(title: string, head: string): Organisation | null {
  const text = `${title}\n${head}`.slice(0, 4000);
  const bydel = BYDEL.exec(text) ?? BYDEL_AFTER.exec(text);
  if (bydel) {
    const canonical = data.osloBydeler.find((b) => b.toLowerCase() === bydel[1].toLowerCase()) ?? bydel[1];
    return { name: `Bydel ${canonical}`, type: 'bydel' };
  }
  const board = BOARD_OF.exec(text);
  if (board && isName(board[1])) return { name: `${board[1]} ${board[2]}`, type: 'kommune' };
  const county = COUNTY_BOARD.exec(text);
  if (county && isName(county[1])) return { name: `${county[1]} fylkeskommune`, type: 'fylkeskommune' };
  const labelled = LABELLED_MUNICIPALITY.exec(text);
  if (labelled && isName(labelled[1])) return { name: `${labelled[1]} kommune`, type: 'kommune' };
  const lines = text.split('\n').slice(0, 40);
  const national = nationalBody(lines);
  if (national) return national;
  const letterhead = LETTERHEAD.exec(lines.join('\n'));
  if (letterhead && isName(letterhead[1])) {
    const county = letterhead[2] === 'fylkeskommune';
    return { name: `${letterhead[1]} ${letterhead[2]}`, type: county ? 'fylkeskommune' : 'kommune' };
  }
  return null;
}
