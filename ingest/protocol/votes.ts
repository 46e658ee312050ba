/**
 * Votes (votering, avstemning; nynorsk avrøysting) from the sentences that record them.
 *
 * Forms read (bokmål and nynorsk):
 * - "Enstemmig vedtatt." / "Innstillingen ble enstemmig vedtatt." / "Som rådmannen - samrøystes"
 * - "Innstillingens punkt 4 ble vedtatt med 12 mot 3 stemmer (H, FrP)." / "vedteke med 14 mot 10 røyster"
 * - "Forslaget fra H falt med 4 stemmer (H, V, FrP) mot 11."
 * - roll calls: "For forslaget stemte 35: Anne Grete Krogstad (AP), ..." / "Imot forslaget stemte
 *   31: ..." / "For forslag 1 stemte 25: ..." "For forslag 2 stemte 10: ..." and the closing
 *   "Dermed ble forslag 1 vedtatt." ("..., med leders dobbeltstemme.")
 * - blanks: "2 stemte blankt", "2 blanke stemmer".
 *
 * The summary rule (Votes in types.ts): for/against come from the ballot that carried the decision.
 */

import type { Ballot, Votes } from '../../indexes/protocol-types.ts';
import { collapse } from './text.ts';

/** A line that starts a vote statement. Used to find vote text outside a "Votering" section. */
export const VOTE_START = new RegExp(
  [
    String.raw`^(?:For|Imot|Mot)\s+[^:]{0,80}?\bstemte\s+\d+`,
    String.raw`^Dermed\s+(?:ble|vart)\b`,
    String.raw`^(?:Enstemmig|Einstemmig|Samrøystes|Samstemmig)\b`,
    String.raw`^(?:Innstillingen|Innstillingens|Innstillinga|Tilrådinga|Tilrådingen|Forslaget|Forslagene|Framlegget|Framlegga|Tilleggsforslaget|Endringsforslaget|Uttalelsen|Uttalen|Det ble votert|Det vart røysta|Det ble stemt|Vedtaket|Saken)\b.*\b(?:vedtatt|vedteke|vedteken|falt|fall|enstemmig|samrøystes|stemmer|stemme|røyster|satt opp mot|votert|forkastet)\b`,
  ].join('|'),
  'u',
);

const UNANIMOUS = /\b(?:enstemmig|einstemmig|samrøystes|samstemmig|enstemmige)\b/iu;
/** "enstemmig formannskap", "enstemmig utvalg": an adjective about a body, not a vote. */
const UNANIMOUS_BODY = /\b(?:enstemmig|einstemmig|samrøystes)\s+(?:formannskap|utvalg|utval|komité|komite|styre|råd|kommunestyre)\w*/iu;
const ADOPTED_WORD = /\b(?:vedtatt|vedteke|vedteken|vedtok|godkjent|godkjend|bifalt|tiltrådt|tilrådd|tilrådde)\b/iu;
const NOT_ADOPTED = /\b(?:ikke|ikkje)\s+(?:\S+\s+)?(?:vedtatt|vedteke|vedteken|godkjent)\b|\bfalt\b|\bfall\b|\bforkastet\b|\bforkasta\b/iu;
const COUNTED_ADOPTED = /\b(?:vedtatt|vedteke|vedteken|vedtok|godkjent|bifalt|tiltrådt|tilrådd)\s+med\s+(\d+)\s+mot\s+(\d+)/iu;
const COUNTED_FELL = /\b(?:falt|fall)\s+med\s+(\d+)\s+(?:stemmer|stemme|røyster|røyst)?\s*(?:\([^)]*\))?\s*mot\s+(\d+)/iu;
const COUNTED_ANY = /\b(\d+)\s+mot\s+(\d+)\s+(?:stemmer|stemme|røyster|røyst)\b/iu;
const BLANK = /\b(\d+)\s+(?:stemte\s+blankt|blanke(?:\s+stemmer|\s+stemmesedler|\s+røyster)?|blank(?:e)?\s+stemme(?:r)?)\b/iu;
const HABIL = /\b(?:inhabil|habil|habilitet)\w*/iu;

/** "For forslaget stemte 35:", "Imot forslaget stemte 31:", "For forslag 2 stemte 10:". */
const ROLL = /\b(For|Imot|Mot)\s+((?:det\s+)?[\p{L}\p{N} .\-()]{1,60}?)\s+stemte\s+(\d+)\s*:?\s*/gu;
const THEREBY = /\bDermed\s+(?:ble|vart)\s+(.+?)\s+(ikke\s+|ikkje\s+)?(?:vedtatt|vedteke|vedteken|godkjent)(?:,\s*([^.]*))?\./iu;

/** "Anne Grete Krogstad (AP), Astrid Vordal (AP)." -> ["Anne Grete Krogstad", "Astrid Vordal"] */
export function rollCallNames(list: string): string[] {
  return collapse(list)
    .replace(/\.\s*$/, '')
    .split(/,\s*(?![^()]*\))/)
    .map((n) => n.replace(/\s*\([^)]*\)\s*$/, '').trim())
    .filter((n) => /\p{Lu}/u.test(n));
}

interface Roll {
  side: 'for' | 'against';
  subject: string;
  count: number;
  names: string[];
  start: number;
  end: number;
}

/** Roll-call groups, each closed by "Dermed ble ... vedtatt." (or by the next non-roll text). */
function rollCalls(text: string): { ballots: Ballot[]; spans: [number, number][] } {
  const rolls: Roll[] = [];
  const matches = [...text.matchAll(ROLL)];
  for (let k = 0; k < matches.length; k++) {
    const m = matches[k];
    const start = m.index!;
    const listStart = start + m[0].length;
    const next = k + 1 < matches.length ? matches[k + 1].index! : text.length;
    const thereby = /\bDermed\s+(?:ble|vart)\b/iu.exec(text.slice(listStart, next));
    const listEnd = thereby ? listStart + thereby.index : next;
    rolls.push({
      side: m[1].toLowerCase() === 'for' ? 'for' : 'against',
      subject: collapse(m[2]),
      count: parseInt(m[3], 10),
      names: rollCallNames(text.slice(listStart, listEnd)),
      start,
      end: listEnd,
    });
  }
  const ballots: Ballot[] = [];
  const spans: [number, number][] = [];
  let i = 0;
  while (i < rolls.length) {
    // A group: consecutive rolls with only whitespace between them.
    const group = [rolls[i]];
    while (i + 1 < rolls.length && !text.slice(rolls[i].end, rolls[i + 1].start).trim()) group.push(rolls[++i]);
    i++;
    const last = group[group.length - 1];
    let end = last.end;
    const after = text.slice(end);
    const th = THEREBY.exec(after);
    let adoptedSubject: string | null = null;
    let adopted: boolean | null = null;
    let note: string | null = null;
    if (th && !after.slice(0, th.index).trim()) {
      adoptedSubject = collapse(th[1]);
      adopted = !th[2];
      note = th[3] ?? null;
      end += th.index + th[0].length;
    }
    const fors = group.filter((r) => r.side === 'for');
    const againsts = group.filter((r) => r.side === 'against');
    let b: Ballot;
    const distinct = new Set(fors.map((r) => r.subject.toLowerCase()));
    if (fors.length >= 2 && againsts.length === 0 && distinct.size === fors.length) {
      // Alternative vote: "For forslag 1 stemte 25", "For forslag 2 stemte 10".
      const win =
        (adoptedSubject && fors.find((r) => r.subject.toLowerCase() === adoptedSubject!.toLowerCase())) || [...fors].sort((a, b2) => b2.count - a.count)[0];
      const others = fors.filter((r) => r !== win);
      b = {
        subject: win.subject,
        for: win.count,
        against: others.reduce((n, r) => n + r.count, 0),
        unanimous: false,
        adopted: adopted === false ? false : true,
        text: collapse(text.slice(group[0].start, end)),
        rollCall: { for: win.names, against: others.flatMap((r) => r.names) },
      };
    } else {
      const f = fors.reduce((n, r) => n + r.count, 0);
      const a = againsts.reduce((n, r) => n + r.count, 0);
      const ad = adopted ?? (f > a ? true : f < a ? false : null);
      b = {
        subject: (fors[0] ?? againsts[0]).subject,
        for: f,
        against: a,
        unanimous: ad === true && a === 0 && f > 0,
        adopted: ad,
        text: collapse(text.slice(group[0].start, end)),
        rollCall: { for: fors.flatMap((r) => r.names), against: againsts.flatMap((r) => r.names) },
      };
    }
    if (note) b.note = collapse(note);
    ballots.push(b);
    spans.push([group[0].start, end]);
  }
  return { ballots, spans };
}

/** Sentences, not cut inside parentheses or after initials/abbreviations. */
function sentences(text: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let from = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === '(') depth++;
    else if (c === ')') depth = Math.max(0, depth - 1);
    else if ((c === '.' || c === '!' || c === '?' || c === '\n') && depth === 0) {
      const before = text.slice(Math.max(0, i - 6), i);
      if (c === '.' && /(?:\b\p{Lu}|\bnr|\bjf|\bjfr|\bkl|\bca|\bpkt|\bmill|\bkr|\bst)$/u.test(before)) continue;
      if (c === '\n' && !/[.!?:]\s*$/.test(text.slice(from, i)) && i + 1 < text.length && text[i + 1] !== '\n') continue;
      out.push(text.slice(from, i + 1));
      from = i + 1;
    }
  }
  out.push(text.slice(from));
  return out.map(collapse).filter(Boolean);
}

function subjectOf(s: string): string | null {
  const m = /^(.{2,80}?)\s+(?:ble|vart|blei|falt|fall)\b/iu.exec(s);
  return m ? m[1].trim() : null;
}

/** One sentence -> a ballot, or null when it records no vote. */
export function sentenceBallot(s: string): Ballot | null {
  if (HABIL.test(s)) return null;
  let m: RegExpExecArray | null;
  const blank = BLANK.exec(s);
  const withBlank = (b: Ballot): Ballot => (blank ? { ...b, blank: parseInt(blank[1], 10) } : b);
  if ((m = COUNTED_FELL.exec(s))) {
    return withBlank({ subject: subjectOf(s), for: +m[1], against: +m[2], unanimous: false, adopted: false, text: s });
  }
  if ((m = COUNTED_ADOPTED.exec(s))) {
    const f = +m[1];
    const a = +m[2];
    return withBlank({ subject: subjectOf(s), for: f, against: a, unanimous: a === 0, adopted: !NOT_ADOPTED.test(s), text: s });
  }
  if ((m = COUNTED_ANY.exec(s))) {
    const adopted = NOT_ADOPTED.test(s) ? false : ADOPTED_WORD.test(s) ? true : null;
    return withBlank({ subject: subjectOf(s), for: +m[1], against: +m[2], unanimous: false, adopted, text: s });
  }
  if (UNANIMOUS.test(s) && !UNANIMOUS_BODY.test(s)) {
    const short = s.split(/\s+/).length <= 10;
    if (ADOPTED_WORD.test(s) || short || /[-–]\s*(?:samrøystes|enstemmig)\b/iu.test(s)) {
      return withBlank({ subject: subjectOf(s), for: null, against: null, unanimous: true, adopted: NOT_ADOPTED.test(s) ? false : true, text: s });
    }
  }
  return null;
}

/** All ballots in a vote text, in order. */
export function parseBallots(text: string): Ballot[] {
  const { ballots: rolls, spans } = rollCalls(text);
  const found: { at: number; b: Ballot }[] = rolls.map((b, k) => ({ at: spans[k][0], b }));
  // The rest of the text, sentence by sentence (roll-call spans blanked out, offsets kept).
  let rest = text;
  for (const [a, e] of spans) rest = rest.slice(0, a) + ' '.repeat(e - a) + rest.slice(e);
  let cursor = 0;
  for (const s of sentences(rest)) {
    const at = rest.indexOf(s.split(' ')[0], cursor);
    if (at >= 0) cursor = at;
    const b = sentenceBallot(s);
    if (b) found.push({ at: Math.max(0, at), b });
  }
  return found.sort((x, y) => x.at - y.at).map((f) => f.b);
}

/** The item summary from its ballots (see Votes in types.ts); null when there are none. */
export function summarize(ballots: Ballot[], text: string): Votes | null {
  if (ballots.length === 0) return null;
  const adopted = ballots.filter((b) => b.adopted === true);
  const counted = adopted.filter((b) => b.for !== null);
  const main = counted.find((b) => (b.against ?? 0) > 0) ?? counted[0] ?? null;
  const unanimous = adopted.length > 0 && adopted.every((b) => b.unanimous);
  const v: Votes = {
    for: main?.for ?? null,
    against: main?.against ?? null,
    unanimous,
    text,
    ballots,
  };
  const blank = main?.blank ?? ballots.find((b) => b.blank !== undefined)?.blank;
  if (blank !== undefined) v.blank = blank;
  if (main?.rollCall) v.rollCall = main.rollCall;
  return v;
}
