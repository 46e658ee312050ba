/**
 * From extracted pages to the document-level facts of SILVER: title, kind, body (utvalg),
 * date and case numbers. Heuristics over the first pages and the file name; everything found
 * here is re-derivable from bronze, so improving a rule only needs `innsikt reindex`.
 *
 * Glossary: utvalg = political body; møtedato = meeting date; saksnummer = case number.
 */
import type { DocumentKind, Organisation, PageText } from '../indexes/types.ts';
import { findOrganisation } from './organisation.ts';

/** Norwegian month names -> 1-12. */
export const MONTHS: Record<string, number> = {
  januar: 1,
  februar: 2,
  mars: 3,
  april: 4,
  mai: 5,
  juni: 6,
  juli: 7,
  august: 8,
  september: 9,
  oktober: 10,
  november: 11,
  desember: 12,
};

/** Kind keywords, most specific first. Matched against the title, then page 1, then the file name. */
const KIND_RULES: [RegExp, DocumentKind][] = [
  [/saksprotokoll/i, 'saksprotokoll'],
  [/m[øo]teprotokoll|valgprotokoll|valprotokoll|\bprotokoll\b|\breferat\b/i, 'møteprotokoll'],
  [/m[øo]tebok/i, 'møtebok'],
  [/saksliste|sakliste|innkalling/i, 'saksliste'],
  [/saksframlegg|saksfremlegg|orienteringssak/i, 'saksframlegg'],
  [/innsiktsrapport|innsikt|kartlegging|brukerundersøkelse|spørreundersøkelse/i, 'innsiktsrapport'],
  [/utredning|evaluering|levekårsundersøkelse|planbeskrivelse|risikovurdering|notat/i, 'utredning'],
  [/\brapport(?:en|er|ene)?\b|\breport\b|\bveileder\b/i, 'rapport'],
  [/\bbrev\b|svar på innsyn/i, 'brev'],
  [/forskrift|lovtidend|reguleringsbestemmelser/i, 'forskrift'],
];

/** A labelled body ("Utvalg: Bydelsutvalget") wins over any body merely named near the top. */
const LABELLED_BODY = /^\s*(?:utvalg|utval|organ|styre\/råd\/utval|møte i)\s*[:-]\s*(.{3,80})$/im;
/** A meeting header run together on one line: "Møte: Eldrerådet Møtested: …". */
const INLINE_BODY = /\bM[øo]te\s*:\s*([\p{L}][\p{L}\s,-]{2,79}?)\s+(?:M[øo]tested|M[øo]tetid|Sted|Tid|Dato)\s*:/u;
/** Otherwise the body named EARLIEST on the first pages. */
const BODY_PATTERNS: RegExp[] = [
  /\b(bydelsutvalget(?: i bydel [\p{L} ]+)?)\b/iu,
  /\b([\p{L}-]+(?:-,? [\p{L}-]+)*(?: og [\p{L}-]+)?komiteen)\b/iu,
  /\b((?:eldre|ungdoms|fylkesval|fylkesvalg|valg|val|stemme)(?:rådet|styret|styre))\b/iu,
  /\b(rådet for personer med funksjonsnedsettelse)\b/iu,
  /\b(kommunestyret|formannskapet|bystyret|byrådet|fylkestinget|bydelsadministrasjonen)\b/iu,
  /\b(utval(?:get)? for [\p{L} ,]+?)(?:\s{2,}|\t|\d|$)/imu,
];

const GENERIC_LINES = /^(oslo kommune|bydel gamle oslo|side \d+( av \d+)?|\d+|møteprotokoll|protokoll)$/i;

function firstLines(pages: PageText[], max = 40): string[] {
  const text = pages
    .slice(0, 2)
    .map((p) => p.text)
    .join('\n');
  return text
    .split('\n')
    .map((l) => l.replace(/\s+/g, ' ').trim())
    .filter(Boolean)
    .slice(0, max);
}

/** Year, month, day -> "YYYY-MM-DD"; null when out of range (a misread number, not a date). */
export function ymd(y: number, m: number, d: number): string | null {
  if (y < 1900 || y > 2100 || m < 1 || m > 12 || d < 1 || d > 31) return null;
  return `${y}-${String(m).padStart(2, '0')}-${String(d).padStart(2, '0')}`;
}

export function findDate(text: string): string | null {
  const labelled = text.match(/(?:møtedato|dato|møtetid|date)\s*[:.]?\s*(\d{1,2})\.\s?(\d{1,2})\.\s?(\d{4})/i);
  if (labelled) return ymd(+labelled[3], +labelled[2], +labelled[1]);
  const numeric = text.match(/\b(\d{1,2})\.(\d{1,2})\.(\d{4})\b/);
  if (numeric) return ymd(+numeric[3], +numeric[2], +numeric[1]);
  const named = text.match(/\b(\d{1,2})\.\s*(januar|februar|mars|april|mai|juni|juli|august|september|oktober|november|desember)\s+(\d{4})\b/i);
  if (named) return ymd(+named[3], MONTHS[named[2].toLowerCase()], +named[1]);
  const iso = text.match(/\b(\d{4})-(\d{2})-(\d{2})\b/);
  if (iso) return ymd(+iso[1], +iso[2], +iso[3]);
  return null;
}

export function findBody(text: string): string | null {
  const tidy = (name: string) => {
    // "Miljø-, samferdsels- og byutviklingskomiteen (MSB)": the abbreviation is not part of the name.
    const n = name
      .replace(/\s+/g, ' ')
      .trim()
      .replace(/[.,;:]$/, '')
      .replace(/\s*\([\p{Lu}]{2,8}\)$/u, '');
    return n.length >= 3 ? n.charAt(0).toUpperCase() + n.slice(1) : null;
  };
  const labelled = text.match(LABELLED_BODY) ?? text.match(INLINE_BODY);
  if (labelled) return tidy(labelled[1]);
  let best: { index: number; name: string } | null = null;
  for (const re of BODY_PATTERNS) {
    const m = re.exec(text);
    if (m && (!best || m.index < best.index)) best = { index: m.index, name: m[1] };
  }
  return best ? tidy(best.name) : null;
}

export function findKind(title: string, firstPage: string, fileName: string): DocumentKind {
  // A line of page 1 that starts with a kind word ("Møteprotokoll", "Innsiktsrapport 2024:1")
  // says what the document is more surely than words in its title or body.
  const lines = firstPage
    .slice(0, 3000)
    .split('\n')
    .map((l) => l.trim());
  for (const line of lines) {
    if (line.split(/\s+/).length > 4) continue;
    for (const [re, kind] of KIND_RULES) {
      const m = re.exec(line);
      if (m && m.index === 0) return kind;
    }
  }
  // Otherwise the kind word that comes first: a notice opens with "Møteinnkalling" and then
  // lists "Protokoll fra forrige møte" among its cases; a protocol opens with "Protokoll".
  // The letterhead first (a transcript puts it all on one line: "Oslo kommune Bydel Nordstrand
  // Møteinnkalling 5/09 Møte: …"), then the title, then the top of page 1, then the file name.
  for (const hay of [firstPage.slice(0, 200), title, firstPage.slice(0, 1500), fileName.replace(/[-_]/g, ' ')]) {
    let first: { index: number; kind: DocumentKind } | null = null;
    for (const [re, kind] of KIND_RULES) {
      const m = re.exec(hay);
      if (m && (!first || m.index < first.index)) first = { index: m.index, kind };
    }
    if (first) return first.kind;
  }
  return 'annet';
}

/** "Sak 45/24", "PS 6/26", "139/12", "Arkivsak 24/1234" as written, deduplicated. */
export function findCaseNumbers(text: string, max = 100): string[] {
  const out = new Set<string>();
  const re = /\b(?:(?:sak|ps|rs|os|saksnr\.?|arkivsak(?:nr\.?)?|arkivsaknr\.?)\s*)?(\d{1,5}\/\d{2,4})\b/gi;
  for (const m of text.matchAll(re)) {
    out.add(m[0].replace(/\s+/g, ' ').trim());
    if (out.size >= max) break;
  }
  return [...out];
}

export function titleFromFileName(fileName: string): string {
  const base = fileName
    .replace(/\.[^.]+$/, '')
    .replace(/[_-]+/g, ' ')
    .trim();
  return base.charAt(0).toUpperCase() + base.slice(1);
}

export function findTitle(pages: PageText[], fileName: string, extractedTitle?: string): string {
  if (extractedTitle && extractedTitle.trim().length >= 3) return extractedTitle.trim().slice(0, 200);
  const lines = firstLines(pages);
  const keyword = /m[øo]teprotokoll|m[øo]tebok|saksprotokoll|protokoll|rapport|utredning|evaluering|undersøkelse|saksframlegg|veileder|forskrift|plan/i;
  const candidate = (l: string) => l.length >= 6 && l.length <= 160 && !GENERIC_LINES.test(l) && /\p{L}{3}/u.test(l);
  const at = lines.findIndex((l) => candidate(l) && keyword.test(l) && l.split(' ').length <= 18);
  const first = at >= 0 ? at : lines.findIndex((l) => candidate(l) && l.split(' ').length >= 2 && l.split(' ').length <= 18);
  return first >= 0 ? continued(lines, first) : titleFromFileName(fileName);
}

/** A line that cannot end a title: it ends on a preposition, a conjunction, a dash or a comma. */
const DANGLING = /(?:\s(?:i|for|av|om|til|med|og|på|fra|ved|frå|etter|mot)|[-–,])$/i;

/**
 * A title set over several lines ("Valgprotokoll for valgstyret i" / "Bykle kommune, Agder
 * fylke"): while the title ends on a word that needs what follows, the next line belongs to it.
 */
function continued(lines: string[], at: number): string {
  // A bare kind word ("UTREDNING", "Rapport") heads the title below it.
  if (BARE_KIND.test(lines[at]) && at + 1 < lines.length) {
    const rest = continued(lines, at + 1);
    const kind = lines[at].charAt(0).toUpperCase() + lines[at].slice(1).toLowerCase();
    return `${kind}: ${rest}`.slice(0, 200);
  }
  let title = lines[at];
  for (let i = at + 1; i < lines.length && title.length < 160; i++) {
    const next = lines[i];
    if (GENERIC_LINES.test(next) || /[.:]$/.test(title)) break;
    // Ends on a word that needs what follows, or the next line goes on in lower case.
    if (!DANGLING.test(title) && !(/^\p{Ll}/u.test(next) && next.length <= 80 && !/[.!?]$/.test(title))) break;
    title = `${title} ${next}`.replace(/\s+/g, ' ');
  }
  return title.slice(0, 200);
}

/** A line that is only a kind word: the title is what follows it. */
const BARE_KIND = /^(utredning|rapport|notat|evaluering|innsiktsrapport|saksframlegg|veileder)$/i;

export interface Understood {
  title: string;
  organisation: Organisation | null;
  kind: DocumentKind;
  body: string | null;
  date: string | null;
  caseNumbers: string[];
}

export function understand(pages: PageText[], fileName: string, extractedTitle?: string): Understood {
  const title = findTitle(pages, fileName, extractedTitle);
  const head = pages
    .slice(0, 2)
    .map((p) => p.text)
    .join('\n')
    .slice(0, 6000);
  const all = pages.map((p) => p.text).join('\n');
  // No date found stays null: a guessed 1 January would look like a fact.
  const date = findDate(head);
  return {
    title,
    organisation: findOrganisation(title, head),
    kind: findKind(title, head, fileName),
    body: findBody(head),
    date,
    caseNumbers: findCaseNumbers(all),
  };
}
