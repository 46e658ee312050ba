/**
 * Where agenda items start: item headings ("PS 6/26 Referatsaker", "Sak 18/24 Sykehjemsplasser
 * ..."), treatment lines of a saksprotokoll ("Ungdomsrådets behandling av sak 14/2026 i møte den
 * 20.05.2026:") and "Eventuelt". Lines that list items (the saksliste) are told apart from
 * items that are treated: a listed line is followed by another listed line, a treated one by
 * its text.
 */

import type { ListedItem } from '../../indexes/protocol-types.ts';
import { ITEM_HEADING, normalizeCaseId, TREATMENT_HEADING } from './case-id.ts';
import { headingKind } from './sections.ts';
import { cells, collapse, type Line } from './text.ts';

export interface ItemStart {
  /** First line of the heading, and the line after it (title continuation included). */
  line: number;
  after: number;
  caseId: string | null;
  caseIdNormalized: string | null;
  prefix: string | null;
  title: string | null;
  /** From a treatment line ("Kommunestyrets behandling av sak 6/2026 i møte den 25.03.2026:"). */
  body?: string;
  date?: string;
}

const EVENTUELT = /^(?:eventuelt|eventuelle saker|eventuelt\s*\/\s*orienteringer)\s*:?$/i;

interface Candidate {
  line: number;
  after: number;
  caseId: string | null;
  prefix: string | null;
  title: string;
  kind: 'heading' | 'treatment' | 'eventuelt';
  body?: string;
  date?: string;
}

/** "Sak 18/24 Sykehjemsplasser og ..." is a heading; "Sak 45/24 ble utsatt, fordi ..." is a sentence. */
function headingAt(lines: Line[], i: number): Candidate | null {
  const l = lines[i];
  const m = ITEM_HEADING.exec(l.t);
  if (!m?.groups) return null;
  const rest = m.groups.rest;
  const restTrim = collapse(rest);
  if (rest && !/^\s/.test(rest)) return null; // "PS 6/26a"
  if (restTrim && !/^[\p{Lu}\p{N}«"“(–-]/u.test(restTrim)) return null;
  const words = l.t.split(' ').length;
  if (words > 25 || (words > 12 && /[.!?]$/.test(l.t) && /\s(?:ble|er|var|vart|som|og)\s/.test(restTrim))) return null;
  // A wrapped title continues on a lower-case line (or an indented table cell).
  let after = i + 1;
  // In a table row ("PS 6/26     Referatsaker     X") the last cell may be the "Lukket" column.
  const row = cells(rest);
  if (row.length >= 2 && /^(?:x|lukket|ja|nei)$/i.test(row[row.length - 1])) row.pop();
  let title = collapse(row.join(' '));
  if (!title) {
    // "PS 12/24" alone, the title on the next line.
    const n = lines[after];
    if (
      n?.t &&
      n.pi === l.pi &&
      n.t.length <= 120 &&
      !ITEM_HEADING.test(n.t) &&
      !TREATMENT_HEADING.test(n.t) &&
      !headingKind(n.t) &&
      !/^[\p{L} ./-]{2,30}:/u.test(n.t)
    ) {
      title = n.t;
      after++;
    }
  }
  while (after < lines.length && continuation(lines, after, lines[after - 1].raw)) {
    title = `${title} ${lines[after].t}`;
    after++;
  }
  return {
    line: i,
    after,
    caseId: collapse(m.groups.id),
    prefix: m.groups.prefix,
    title: collapse(title).replace(/\s*:$/, ''),
    kind: 'heading',
  };
}

function continuation(lines: Line[], j: number, headRaw: string): boolean {
  const n = lines[j];
  if (!n?.t || n.pi !== lines[j - 1].pi) return false;
  if (ITEM_HEADING.test(n.t) || TREATMENT_HEADING.test(n.t) || headingKind(n.t)) return false;
  if (n.t.length > 80) return false;
  const head = collapse(headRaw);
  const indented = /^\s{8,}/.test(n.raw) && /\s{3,}/.test(headRaw.trim());
  if (indented || (/^[\p{Ll}\p{N}(]/u.test(n.t) && head.length >= 40)) return true;
  // "... nærbad ved" / "Vaterland og Jordal", "(uttalelse fra" / "Eldrerådet)": the heading stops
  // mid-phrase, so the short line under it is the rest of the title.
  const open = (head.match(/\(/g) ?? []).length > (head.match(/\)/g) ?? []).length;
  const dangling = /\s(?:ved|fra|frå|og|for|til|i|av|med|på|om|mot|under|etter|samt|eller|[-–])$/iu.test(head);
  return head.length >= 40 && (open || dangling) && n.t.length <= 60 && !/^[\p{L} ./-]{2,30}:/u.test(n.t) && !/^arkivsak/i.test(n.t);
}

function treatmentAt(lines: Line[], i: number): Candidate | null {
  const m = TREATMENT_HEADING.exec(lines[i].t);
  if (!m?.groups) return null;
  return {
    line: i,
    after: i + 1,
    caseId: collapse(m.groups.id),
    prefix: null,
    title: '',
    kind: 'treatment',
    body: m.groups.body,
    date: m.groups.date,
  };
}

const nextContent = (lines: Line[], i: number): number => {
  while (i < lines.length && !lines[i].t) i++;
  return i;
};

export interface FoundItems {
  starts: ItemStart[];
  saksliste: (ListedItem & { line: number })[];
}

export function findItems(lines: Line[]): FoundItems {
  const cands: Candidate[] = [];
  for (let i = 0; i < lines.length; i++) {
    const t = lines[i].t;
    if (!t) continue;
    const c =
      headingAt(lines, i) ??
      treatmentAt(lines, i) ??
      (EVENTUELT.test(t) ? { line: i, after: i + 1, caseId: null, prefix: null, title: 'Eventuelt', kind: 'eventuelt' as const } : null);
    if (c) {
      cands.push(c);
      i = c.after - 1;
    }
  }

  // The saksliste: a heading followed directly by another heading (no text between) is a list
  // entry, and so is a heading whose case is headed again further down (where it is treated).
  const listed = new Set<Candidate>();
  for (let k = 0; k < cands.length; k++) {
    const c = cands[k];
    if (c.kind !== 'heading') continue;
    const follower = cands[k + 1];
    const nx = nextContent(lines, c.after);
    const norm = normalizeCaseId(c.caseId);
    const again = cands
      .slice(k + 1)
      .some((d) => d.kind === 'heading' && normalizeCaseId(d.caseId) === norm && d.caseId?.toLowerCase() === c.caseId?.toLowerCase());
    if ((follower && follower.line === nx && follower.kind === 'heading') || again) listed.add(c);
  }
  // The last line of a list that nothing follows (a saksliste on its own) has no text of its own.
  for (let k = 1; k < cands.length; k++) {
    const c = cands[k];
    const prev = cands[k - 1];
    if (listed.has(c) || c.kind !== 'heading' || !listed.has(prev) || nextContent(lines, prev.after) !== c.line) continue;
    const nx = nextContent(lines, c.after);
    if (nx >= lines.length || (cands[k + 1]?.line === nx && cands[k + 1].kind === 'heading')) listed.add(c);
  }

  const saksliste = cands
    .filter((c) => listed.has(c))
    .map((c) => ({ caseId: c.caseId!, caseIdNormalized: normalizeCaseId(c.caseId), title: c.title, page: lines[c.line].page, line: c.line }));

  // Treated items. A treatment line right after the heading of the same case belongs to it.
  const starts: ItemStart[] = [];
  for (const c of cands) {
    if (listed.has(c)) continue;
    const prev = starts[starts.length - 1];
    if (c.kind === 'treatment' && prev && normalizeCaseId(prev.caseId) === normalizeCaseId(c.caseId) && nextContent(lines, prev.after) === c.line) {
      prev.body = c.body;
      prev.date = c.date;
      prev.after = c.after;
      continue;
    }
    if (c.kind === 'eventuelt' && starts.length === 0) continue;
    starts.push({
      line: c.line,
      after: c.after,
      caseId: c.caseId,
      caseIdNormalized: normalizeCaseId(c.caseId),
      prefix: c.prefix,
      title: c.title || null,
      body: c.body,
      date: c.date,
    });
  }
  return { starts, saksliste };
}
