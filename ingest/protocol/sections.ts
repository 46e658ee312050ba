/**
 * Inside an agenda item: its sections (innstilling, behandling, votering, vedtak), the proposals
 * made in the meeting, the vote statements and the declarations of disqualification (inhabil).
 *
 * A section heading is a short line of its own ("Vedtak", "VEDTAK", "Vedtak:", "Komiteens
 * innstilling", "Tilråding:"), or a label with its text after the colon ("Vedtak: Saken tas til
 * orientering."). A decision ends at the next heading, at a closing line ("Møtet ble hevet",
 * "Rett utskrift", "Vedlegg:") or at a signature (a name, then "leder" / "protokollfører").
 */
import { OWNER_LINE } from './case-id.ts';
import { collapse, type Line } from './text.ts';
import { VOTE_START } from './votes.ts';

export type SectionKind = 'innstilling' | 'treatment' | 'votes' | 'decision' | 'other' | 'closing';

export interface Section {
  kind: SectionKind;
  /** The heading line, and where the content starts (line, and column for "Vedtak: text"). */
  line: number;
  from: number;
  col: number;
  /** End of the content (exclusive). */
  to: number;
  title: string;
  /** "PTN-139/12" on the line before the heading: the case (of a saksgang) the section is for. */
  owner: string | null;
  /** "Rådmannen" on the line before "tilrår:". */
  label: string | null;
}

const GENITIVE = String.raw`[\p{L}][\p{L}\- ]{0,60}?(?:s|ets|ens)`;
const INNSTILLING = new RegExp(
  String.raw`^(?:innstilling|tilråding|tilrådning|forslag til vedtak|framlegg til vedtak|forslag til innstilling|tilrår|rår til|${GENITIVE}\s+(?:innstilling|tilråding|forslag til vedtak|framlegg til vedtak|forslag til innstilling)|(?:rådmannen|kommunedirektøren|bydelsdirektøren|kommunedirektør|rådmann|administrasjonen)\s+(?:tilrår|rår til|foreslår))$`,
  'iu',
);
const TREATMENT = /^(?:behandling|handsaming|møtebehandling|behandling i møtet|handsaming i møtet)$/iu;
const VOTES = /^(?:votering|avstemning|avstemming|avrøysting|røysting|stemmegivning)$/iu;
const DECISION = new RegExp(
  String.raw`^(?:vedtak|endelig vedtak|endeleg vedtak|vedtak i saken|${GENITIVE}\s+(?:vedtak|endelige vedtak|endelege vedtak))$`,
  'iu',
);
const OTHER =
  /^(?:saksopplysninger|saksopplysningar|saksframstilling|saksutredning|saksomtale|sammendrag|samandrag|bakgrunn|vurdering|tiltak|hva saken omhandler|kva saka gjeld|økonomiske konsekvenser|protokolltilførsel|protokollmerknad|merknad|merknader|orientering|uttalelse|vedlegg|dokumenter i saken)$/iu;
const CLOSING =
  /^(?:møtet (?:ble|vart) hevet|møtet (?:ble|vart) heva|møtet hevet|møtet slutt|rett utskrift|vedlegg\s*:|protokollen (?:ble )?godkjent|neste møte|underskrifter\s*:)/iu;
const SIGNATURE_ROLE =
  /^(?:leder|nestleder|møteleder|møteleiar|leiar|protokollfører|sekretær|sekretariatsleder|utvalgssekretær|møtesekretær|ordfører|varaordfører|formannskapssekretær|utvalsleiar)$/iu;
/** A label whose text follows on the same line: "Vedtak: Saken tas til orientering." */
const INLINE = /^(vedtak|innstilling|tilråding|forslag til vedtak|behandling|handsaming|votering|avstemning|avrøysting)\s*:\s*(\S.*)$/iu;

/** The kind of a heading line, or null when the line is text. */
export function headingKind(t: string): SectionKind | null {
  const s = collapse(t).replace(/\s*:$/, '');
  if (!s || s.split(' ').length > 9) return null;
  // A heading starts with a capital; "behandling" alone is the end of a wrapped line. The one
  // exception is "tilrår:" under "Rådmannen" (møtebok), read with the line above it.
  if (!/^\p{Lu}/u.test(s) && !/^(?:tilrår|rår til)\b/iu.test(s)) return null;
  if (DECISION.test(s)) return 'decision';
  if (VOTES.test(s)) return 'votes';
  if (TREATMENT.test(s)) return 'treatment';
  if (INNSTILLING.test(s)) return 'innstilling';
  if (OTHER.test(s)) return 'other';
  return null;
}

export function isClosing(lines: Line[], i: number, end: number): boolean {
  const t = lines[i].t;
  if (CLOSING.test(t)) return true;
  // A signature: a short name line and a role line under it ("Kari Nordvik" / "leder").
  if (/^\p{Lu}[\p{L}-]+(?:\s+\p{Lu}[\p{L}-]+){1,3}$/u.test(t) && i + 1 < end && SIGNATURE_ROLE.test(lines[i + 1].t)) return true;
  return false;
}

/** Proposal starts: "Forslag fra H v/Camilla Berge (H):", "Randi Haugskott (Senterpartiet) fremmet følgende forslag:". */
export const PROPOSAL_START = new RegExp(
  [
    String.raw`^(?:Forslag|Framlegg|Tilleggsforslag|Endringsforslag|Alternativt forslag|Fellesforslag)\s+(?:fra|frå)\s+(?<from>.+?)\s*:$`,
    String.raw`^(?<by2>.+?)\s+(?:fremmet|fremma|fremmer|sette fram|satte fram|la fram|legger fram)\s+(?:følgende|fylgjande|slikt|dette)?\s*(?:forslag|framlegg|tilleggsforslag|endringsforslag|alternativt forslag|fellesforslag)(?:\s+på vegne av\s+(?<behalf2>.+?))?\s*:$`,
    String.raw`^(?:Forslag|Framlegg)\s+(?:fremmet\s+|fremma\s+|sett fram\s+)?i møte(?:t)?\s*:?$`,
  ].join('|'),
  'u',
);

const PROCEDURE = /^(?:dette ble satt opp mot|dette vart sett opp mot|\d\))\s*:?$/iu;

export interface ItemLayout {
  sections: Section[];
  /** Lines [from, to) of vote statements, in order. */
  voteRuns: [number, number][];
  /** Proposals: the start line, the text lines [from, to). */
  proposals: { line: number; from: number; to: number; head: string }[];
  /** Where the item's structured content ends (closing or signature), <= end. */
  contentEnd: number;
}

export function layoutItem(lines: Line[], from: number, end: number): ItemLayout {
  // Where the item's own content ends: a closing line or a signature.
  // "Vedlegg:" closes an item only after its decision: a case paper lists its attachments first.
  let contentEnd = end;
  let decided = false;
  for (let i = from; i < end; i++) {
    const t = lines[i].t;
    if (!t) continue;
    if (headingKind(t) === 'decision' || (INLINE.exec(t) && headingKind(INLINE.exec(t)![1]) === 'decision')) decided = true;
    if (isClosing(lines, i, end) && (decided || !/^vedlegg/i.test(t))) {
      contentEnd = i;
      break;
    }
  }

  const sections: Section[] = [];
  const structural: boolean[] = new Array(contentEnd - from).fill(false);
  for (let i = from; i < contentEnd; i++) {
    const t = lines[i].t;
    if (!t) continue;
    const inline = INLINE.exec(t);
    const kind = headingKind(t) ?? (inline ? headingKind(inline[1]) : null);
    if (!kind) continue;
    const prev = prevContent(lines, i, from);
    const owner = prev >= 0 && OWNER_LINE.test(lines[prev].t) ? lines[prev].t : null;
    // "Rådmannen" / "tilrår:" on two lines; "Formannskapet 25.03.26" / "INNSTILLING": whose it is.
    let label: string | null = null;
    if (prev >= 0 && /^(?:tilrår|rår til)/i.test(t) && /^\p{Lu}\p{L}+$/u.test(lines[prev].t)) label = lines[prev].t;
    const bodyDate = prev >= 0 && kind === 'innstilling' ? /^(\p{Lu}[\p{L}\- ]{2,60}?)\s+\d{1,2}\.\d{1,2}\.\d{2,4}$/u.exec(lines[prev].t) : null;
    if (bodyDate) label = bodyDate[1];
    sections.push({
      kind,
      line: i,
      from: inline ? i : i + 1,
      col: inline ? lines[i].raw.indexOf(inline[2]) : 0,
      to: contentEnd,
      title: inline ? inline[1] : t.replace(/\s*:$/, ''),
      owner,
      label,
    });
    structural[i - from] = true;
    if (owner) structural[prev - from] = true;
  }
  for (let k = 0; k < sections.length; k++) {
    const next = sections[k + 1];
    if (next) sections[k].to = next.owner || next.label ? prevContent(lines, next.line, from) : next.line;
  }

  // Vote runs: from a vote statement line through its continuation lines, to a blank line or a
  // structural line. Inside a "Votering" section every line is vote text.
  const voteRuns: [number, number][] = [];
  const inVotes = (i: number) => sections.some((s) => s.kind === 'votes' && i >= s.from && i < s.to);
  for (let i = from; i < contentEnd; i++) {
    const t = lines[i].t;
    if (!t || structural[i - from]) continue;
    if (inVotes(i) || VOTE_START.test(t)) {
      let j = i + 1;
      while (j < contentEnd && lines[j].t && !structural[j - from] && !headingKind(lines[j].t) && !PROPOSAL_START.test(lines[j].t)) j++;
      const last = voteRuns[voteRuns.length - 1];
      if (last && last[1] === i) last[1] = j;
      else voteRuns.push([i, j]);
      i = j - 1;
    }
  }
  const inVoteRun = (i: number) => voteRuns.some(([a, b]) => i >= a && i < b);

  // Proposals: text after the start line up to a vote run, a heading, another proposal,
  // "Dette ble satt opp mot:", a lone "2)" or the end of the content.
  const proposals: ItemLayout['proposals'] = [];
  for (let i = from; i < contentEnd; i++) {
    const t = lines[i].t;
    if (!t || !PROPOSAL_START.test(t) || inVoteRun(i)) continue;
    let j = i + 1;
    while (j < contentEnd) {
      const u = lines[j].t;
      if (u && (inVoteRun(j) || structural[j - from] || headingKind(u) || PROPOSAL_START.test(u) || PROCEDURE.test(u) || OWNER_LINE.test(u))) break;
      j++;
    }
    proposals.push({ line: i, from: i + 1, to: j, head: t });
    i = j - 1;
  }

  return { sections, voteRuns, proposals, contentEnd };
}

function prevContent(lines: Line[], i: number, floor: number): number {
  let j = i - 1;
  while (j >= floor && !lines[j].t) j--;
  return j >= floor ? j : -1;
}

/** Section content [from, to) cut at the first vote run or proposal inside it (for innstilling). */
export function cutAtVotesAndProposals(layout: ItemLayout, from: number, to: number, lines?: Line[]): number {
  let end = to;
  // "Dette ble satt opp mot:" and the "1)" / "2)" that number competing proposals are procedure.
  if (lines) for (let i = from; i < end; i++) if (PROCEDURE.test(lines[i].t)) end = i;
  for (const [a] of layout.voteRuns) if (a >= from && a < end) end = a;
  for (const p of layout.proposals) if (p.line >= from && p.line < end) end = p.line;
  return end;
}
