/**
 * The meeting header: body (utvalg), date, time, place, who was present (til stede), who sent
 * apologies (forfall) and who attended for whom (møtte for). Read from the lines before the
 * first agenda item.
 *
 * Two layouts are read:
 * - labelled lines: "Utvalg: Bydelsutvalget", "Møtedato: 14.03.2024", "Tid: 18:00–20:30",
 *   "Til stede: Kari Nordvik (Ap), leder; Ingrid Moe (SV); ..." (a list that may wrap);
 * - a participant table: "Navn  Funksjon  Parti  Møtte for" and one row per person, columns
 *   separated by runs of spaces (Levanger, ACOS/Elements exports).
 */

import type { Attendee, Meeting } from '../../indexes/protocol-types.ts';
import { findBody, findDate, MONTHS, ymd } from '../understand.ts';
import { cells, collapse, type Line } from './text.ts';

/** The meeting fields a header gives. */
export type Header = Pick<Meeting, 'body' | 'date' | 'startTime' | 'endTime' | 'place' | 'attendees' | 'absent'>;

/** "14.03.2024" | "14. mars 2024" -> "2024-03-14"; null otherwise. */
export function isoDate(text: string): string | null {
  let m = /\b(\d{1,2})\.\s?(\d{1,2})\.\s?(\d{4})\b/.exec(text);
  if (m) return ymd(+m[3], +m[2], +m[1]);
  m = /\b(\d{1,2})\.?\s+(januar|februar|mars|april|mai|juni|juli|august|september|oktober|november|desember)\s+(\d{4})\b/i.exec(text);
  if (m) return ymd(+m[3], MONTHS[m[2].toLowerCase()], +m[1]);
  m = /\b(\d{4})-(\d{2})-(\d{2})\b/.exec(text);
  if (m) return ymd(+m[1], +m[2], +m[3]);
  return null;
}

/** "Kommunestyrets" -> "Kommunestyret", "Hovedutvalg plan næring og miljøs" -> "... miljø". */
export function bodyFromGenitive(s: string): string {
  const t = collapse(s);
  return t.endsWith('s') && !t.endsWith('ss') ? t.slice(0, -1) : t;
}

const LABEL = {
  body: /^(?:utvalg|utval|organ|styre\/råd\/utval|råd\/utval)\s*:\s*(.+)$/i,
  date: /^(?:møtedato|dato|møtedag)\s*:\s*(.+)$/i,
  time: /^(?:tid|tidspunkt|møtetid|klokkeslett|kl\.?)\s*:\s*(.+)$/i,
  place: /^(?:sted|møtested|møtestad|stad|møterom)\s*:\s*(.+)$/i,
  present: /^(?:til stede|tilstede|møtende medlemmer|møtande medlemer|til stades)\s*:?\s*(.*)$/i,
  absent: /^(?:forfall|fråvær|fravær|ikke møtt|ikkje møtt|meldt forfall)\s*:?\s*(.*)$/i,
  substitutes: /^(?:møtte for|møtande varamedlemer|møtende varamedlemmer|varamedlemmer)\s*:?\s*(.*)$/i,
};
/** A labelled line of any other kind ends a wrapped list. */
const ANY_LABEL = /^[\p{L}][\p{L} ./-]{1,40}:\s/u;
const STOP =
  /^(?:fra administrasjonen|frå administrasjonen|fra adm|andre til stede|protokollfører|orienteringer|merknader|protokollen er godkjent|saksliste|sakliste|innkalling|møtet ble|møtet vart|åpen halvtime|open halvtime)/i;

const TIME = /(\d{1,2})[:.](\d{2})/g;

function times(s: string): [string | null, string | null] {
  const t = [...s.matchAll(TIME)].map((m) => `${m[1].padStart(2, '0')}:${m[2]}`);
  return [t[0] ?? null, t[1] ?? null];
}

/** "Kari Nordvik (Ap), leder" -> {name, party, role}. */
export function parsePerson(raw: string): { name: string; party: string | null; role: string | null } | null {
  const s = collapse(raw).replace(/[.;]$/, '');
  if (!s) return null;
  const m = /^(?<name>[^(,]+?)\s*(?:\((?<party>[^)]+)\))?\s*(?:,\s*(?<role>.+))?$/u.exec(s);
  if (!m?.groups) return null;
  const name = m.groups.name.trim();
  if (!/\p{Lu}/u.test(name) || /^(ingen|ingen forfall|ingen meldte forfall)$/i.test(name)) return null;
  return { name, party: m.groups.party?.trim() ?? null, role: m.groups.role?.trim() || null };
}

function splitList(s: string): string[] {
  // "a; b; c" is the usual form; a list of one person may also be comma-free.
  return s
    .split(/;/)
    .map((x) => x.trim())
    .filter(Boolean);
}

const TABLE_HEAD = /^(?:navn|namn)\s+(?:funksjon|rolle|verv)\b/i;

/**
 * Reads the header lines [from, to). `fallbackHead` is the text used when no labelled body or
 * date is found (understand's rules); pass '' to have none.
 */
export function parseHeader(lines: Line[], from: number, to: number, fallbackHead: string): Header {
  const h: Header = { body: null, date: null, startTime: null, endTime: null, place: null, attendees: [], absent: [] };
  const substitutes: { name: string; party: string | null; forName: string }[] = [];

  // Gather a labelled list that may wrap over following lines, until a blank line or a label.
  const gather = (i: number, first: string): [string, number] => {
    let text = first;
    let j = i + 1;
    while (j < to && lines[j].t && !ANY_LABEL.test(lines[j].t) && !STOP.test(lines[j].t) && !TABLE_HEAD.test(lines[j].t)) {
      text += ' ' + lines[j].t;
      j++;
    }
    return [text, j];
  };

  for (let i = from; i < to; i++) {
    const t = lines[i].t;
    if (!t) continue;
    let m: RegExpExecArray | null;
    if (!h.body && (m = LABEL.body.exec(t))) {
      h.body = findBody(`Utvalg: ${m[1]}`) ?? collapse(m[1]);
      continue;
    }
    if (!h.date && (m = LABEL.date.exec(t))) {
      h.date = isoDate(m[1]);
      continue;
    }
    if (!h.startTime && (m = LABEL.time.exec(t))) {
      [h.startTime, h.endTime] = times(m[1]);
      continue;
    }
    if (!h.place && (m = LABEL.place.exec(t))) {
      h.place = collapse(m[1]);
      continue;
    }
    if ((m = LABEL.present.exec(t)) && /^(til|møt|tils)/i.test(t)) {
      if (m[1]) {
        const [list, j] = gather(i, m[1]);
        for (const part of splitList(list)) {
          const p = parsePerson(part);
          if (p) h.attendees.push({ name: p.name, role: p.role, party: p.party, substituteFor: null });
        }
        i = j - 1;
      } else {
        i = readTable(lines, i + 1, to, (row) => h.attendees.push(row)) - 1;
      }
      continue;
    }
    if ((m = LABEL.absent.exec(t))) {
      if (m[1]) {
        const [list, j] = gather(i, m[1]);
        for (const part of splitList(list)) {
          const p = parsePerson(part);
          if (p) h.absent.push({ name: p.name, party: p.party });
        }
        i = j - 1;
      } else {
        i = readTable(lines, i + 1, to, (row) => h.absent.push({ name: row.name, party: row.party })) - 1;
      }
      continue;
    }
    if ((m = LABEL.substitutes.exec(t)) && m[1]) {
      const [list, j] = gather(i, m[1]);
      for (const part of splitList(list)) {
        // "Hanne Rød (R) for Tarjei Aune (R)"
        const sm = /^(.+?)\s+for\s+(.+)$/u.exec(part);
        if (!sm) continue;
        const who = parsePerson(sm[1]);
        const forWhom = parsePerson(sm[2]);
        if (who && forWhom) substitutes.push({ name: who.name, party: who.party, forName: forWhom.name });
      }
      i = j - 1;
    }
  }

  for (const s of substitutes) {
    const present = h.attendees.find((a) => a.name === s.name);
    if (present) present.substituteFor = s.forName;
    else h.attendees.push({ name: s.name, role: 'varamedlem', party: s.party, substituteFor: s.forName });
  }

  if (!h.body && fallbackHead) h.body = findBody(fallbackHead);
  if (!h.date && fallbackHead) h.date = findDate(fallbackHead);
  return h;
}

/**
 * A participant table after "Til stede:": an optional head row "Navn Funksjon Parti Møtte for",
 * then rows until a blank line after at least one row, or a labelled/stop line. Returns the
 * index after the table.
 */
function readTable(lines: Line[], i: number, to: number, push: (a: Attendee) => void): number {
  let columns: string[] | null = null;
  let rows = 0;
  for (; i < to; i++) {
    const l = lines[i];
    if (!l.t) {
      if (rows > 0 || columns) break;
      continue;
    }
    if (TABLE_HEAD.test(l.t)) {
      columns = cells(l.raw).map((c) => c.toLowerCase());
      continue;
    }
    if (STOP.test(l.t) || ANY_LABEL.test(l.t)) break;
    const c = cells(l.raw);
    if (c.length < 2) {
      if (rows > 0) break;
      continue;
    }
    const col = (name: RegExp, fallback: number) => {
      const k = columns ? columns.findIndex((x) => name.test(x)) : -1;
      return c[k >= 0 ? k : fallback] ?? null;
    };
    const name = c[0];
    const role = col(/funksjon|rolle|verv/, 1);
    const party = col(/parti/, 2);
    const substituteFor = columns && columns.some((x) => /møtte for|møtt for/.test(x)) ? col(/møtte for|møtt for/, 3) : null;
    push({
      name,
      role,
      party: party && party !== role ? party : null,
      substituteFor: substituteFor && substituteFor !== party ? substituteFor : null,
    });
    rows++;
  }
  return i;
}
