/**
 * How well the protocol parser (ingest/protocol) reads the documents with gold structure in
 * fixtures/gold/*.json: precision and recall of meetings, agenda items, votes, decisions,
 * outcomes, disqualifications and attendees, as a markdown table.
 *
 *   node bin/run-ts.js eval/parser.ts        # prints the table and what went wrong
 *   import { parserEval } from './eval/parser.ts'; console.log(await parserEval());
 *
 * Each document runs through the same steps as ingestion: extract (ingest/extract), understand,
 * `isProtocolCandidate`, `parseProtocol`. Real-corpus documents ("corpus:..." in the gold) are
 * skipped, and said so, when ../shared/corpus is absent.
 *
 * Gold format (one file per document):
 *   { document: "fixtures/demo/x.pdf" | "corpus:pdfs/x.pdf", derivedFrom, kind, notes?,
 *     meetings: [{ body, date, startTime, endTime, place, attendees, absent, saksliste?,
 *       agendaItems: [{ caseId, caseIdNormalized, archiveCaseId, title, type, pages,
 *         decision, decisionSpan: {pageStart, pageEnd} | null, votes: {for, against, unanimous} | null,
 *         outcome, conflictsOfInterest: [name] }] }],
 *     unparsed: [{pageStart, pageEnd}] }
 * Demo gold is derived from fixtures/source/*.md (items from "## Sak", the decision from
 * "### Vedtak" or the committee's final "### Komiteens innstilling", votes from "### Votering"),
 * with pages located in the PDF's text layer; real-corpus gold was read by hand.
 *
 * What counts as correct:
 * - meeting: body and date equal (meetings matched in order);
 * - agenda item: same key (normalised case number, else the title) and the same first page;
 * - title: equal after collapsing whitespace (items matched by key);
 * - votes: for, against and unanimous equal (items matched by key);
 * - decision: the same text up to whitespace (see sameDecisionText), and the same first page;
 * - outcome: equal; conflicts of interest and attendees: the same names.
 * Precision = correct / found by the parser, recall = correct / in the gold.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { extractFile, shutdownExtractors } from '../ingest/extract/index.ts';
import { type AgendaItem, isProtocolCandidate, type Meeting, type ProtocolStructure, parseProtocol } from '../ingest/protocol/index.ts';
import { understand } from '../ingest/understand.ts';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const GOLD_DIR = path.join(ROOT, 'fixtures', 'gold');
export const CORPUS_DIR = path.resolve(ROOT, '../shared/corpus');

export interface GoldItem {
  caseId: string | null;
  caseIdNormalized: string | null;
  archiveCaseId: string | null;
  title: string | null;
  type: string;
  pages: number[];
  decision: string | null;
  decisionSpan: { pageStart: number | null; pageEnd: number | null } | null;
  votes: { for: number | null; against: number | null; unanimous: boolean } | null;
  outcome: string | null;
  conflictsOfInterest: string[];
}

export interface GoldMeeting {
  body: string | null;
  date: string | null;
  startTime: string | null;
  endTime: string | null;
  place: string | null;
  attendees: { name: string; role: string | null; party: string | null; substituteFor: string | null }[];
  absent: { name: string; party: string | null }[];
  saksliste?: string[];
  agendaItems: GoldItem[];
}

export interface Gold {
  file: string;
  document: string;
  derivedFrom: string;
  kind: string;
  notes?: string;
  meetings: GoldMeeting[];
  unparsed: { pageStart: number | null; pageEnd: number | null }[];
}

export function loadGold(dir = GOLD_DIR): Gold[] {
  return fs
    .readdirSync(dir)
    .filter((f) => f.endsWith('.json'))
    .sort()
    .map((f) => ({ file: f, ...(JSON.parse(fs.readFileSync(path.join(dir, f), 'utf8')) as Omit<Gold, 'file'>) }));
}

/** The file a gold document names, or null when it is in the absent real corpus. */
export function goldPath(g: Gold): string | null {
  if (g.document.startsWith('corpus:')) {
    const p = path.join(CORPUS_DIR, g.document.slice('corpus:'.length));
    return fs.existsSync(p) ? p : null;
  }
  return path.join(ROOT, g.document);
}

/** The structure the pipeline would put into silver for this file (empty when not a protocol). */
export async function parseFile(file: string): Promise<ProtocolStructure> {
  const x = await extractFile(file);
  const facts = understand(x.pages, path.basename(file), x.title);
  if (!isProtocolCandidate(facts.kind, x.pages)) return { meetings: [], unparsed: [] };
  return parseProtocol(x.pages, { kind: facts.kind }).structure;
}

export const normalizeText = (s: string | null | undefined): string | null => (s == null ? null : s.replace(/\s+/g, ' ').trim());

/**
 * Decision texts are equal when their non-whitespace characters are: a PDF line may wrap after a
 * dash ("kl. 10–" / "21"), which collapsing alone would turn into "10– 21".
 */
export const sameDecisionText = (a: string | null, b: string | null): boolean => a !== null && b !== null && a.replace(/\s+/g, '') === b.replace(/\s+/g, '');

const itemKey = (i: { caseIdNormalized: string | null; title: string | null }) => i.caseIdNormalized ?? `title:${(normalizeText(i.title) ?? '').toLowerCase()}`;

export const METRICS = ['meetings', 'agendaItems', 'titles', 'votes', 'decisions', 'outcome', 'conflictsOfInterest', 'attendees'] as const;
export type Metric = (typeof METRICS)[number];

export interface Count {
  gold: number;
  found: number;
  correct: number;
}

export interface DocResult {
  gold: Gold;
  skipped: string | null;
  counts: Record<Metric, Count>;
  /** One line per miss, for the report. */
  misses: string[];
}

const zero = (): Record<Metric, Count> => Object.fromEntries(METRICS.map((m) => [m, { gold: 0, found: 0, correct: 0 }])) as Record<Metric, Count>;

/** Compare one parsed structure with its gold. */
export function compare(gold: Gold, got: ProtocolStructure): DocResult {
  const c = zero();
  const misses: string[] = [];
  const doc = gold.file.replace(/\.json$/, '');

  // Meetings, in order.
  c.meetings.gold = gold.meetings.length;
  c.meetings.found = got.meetings.length;
  gold.meetings.forEach((gm, k) => {
    const pm = got.meetings[k];
    if (pm && pm.body === gm.body && pm.date === gm.date) c.meetings.correct++;
    else misses.push(`${doc}: meeting ${k + 1}: expected ${gm.body} ${gm.date}, got ${pm ? `${pm.body} ${pm.date}` : 'none'}`);
  });

  // Attendees: names (with party where the gold has one) over all meetings.
  const att = (ms: (Meeting | GoldMeeting)[]) => new Set(ms.flatMap((m) => m.attendees.map((a) => `${a.name}|${a.party ?? ''}|${a.substituteFor ?? ''}`)));
  const ga = att(gold.meetings);
  const pa = att(got.meetings);
  c.attendees.gold = ga.size;
  c.attendees.found = pa.size;
  for (const a of pa) if (ga.has(a)) c.attendees.correct++;
  const missingAtt = [...ga].filter((a) => !pa.has(a));
  const extraAtt = [...pa].filter((a) => !ga.has(a));
  if (missingAtt.length || extraAtt.length) misses.push(`${doc}: attendees: missing [${missingAtt.join('; ')}], extra [${extraAtt.join('; ')}]`);

  const gItems = gold.meetings.flatMap((m) => m.agendaItems);
  const pItems = got.meetings.flatMap((m) => m.agendaItems);
  const pByKey = new Map<string, AgendaItem>();
  for (const p of pItems) if (!pByKey.has(itemKey(p))) pByKey.set(itemKey(p), p);
  const gKeys = new Set(gItems.map(itemKey));
  for (const p of pItems) if (!gKeys.has(itemKey(p))) misses.push(`${doc}: item not in gold: ${p.caseId ?? p.title}`);

  c.agendaItems.gold = gItems.length;
  c.agendaItems.found = pItems.length;
  c.titles.gold = gItems.filter((g) => g.title).length;
  c.titles.found = pItems.filter((p) => p.title).length;
  c.votes.gold = gItems.filter((g) => g.votes).length;
  c.votes.found = pItems.filter((p) => p.votes).length;
  c.decisions.gold = gItems.filter((g) => g.decision).length;
  c.decisions.found = pItems.filter((p) => p.decision).length;
  c.outcome.gold = gItems.filter((g) => g.outcome).length;
  c.outcome.found = pItems.filter((p) => p.outcome).length;
  c.conflictsOfInterest.gold = gItems.reduce((n, g) => n + g.conflictsOfInterest.length, 0);
  c.conflictsOfInterest.found = pItems.reduce((n, p) => n + p.conflictsOfInterest.length, 0);

  for (const g of gItems) {
    const label = `${doc}: ${g.caseId ?? g.title}`;
    const p = pByKey.get(itemKey(g));
    if (!p) {
      misses.push(`${label}: item not found`);
      continue;
    }
    const gp = g.pages[0] ?? null;
    const pp = p.pages[0] ?? null;
    if (gp === pp) c.agendaItems.correct++;
    else misses.push(`${label}: first page ${pp}, expected ${gp}`);

    if (g.title && p.title && normalizeText(g.title) === normalizeText(p.title)) c.titles.correct++;
    else if (g.title || p.title) misses.push(`${label}: title «${p.title}», expected «${g.title}»`);

    if (g.votes && p.votes) {
      if (g.votes.for === p.votes.for && g.votes.against === p.votes.against && g.votes.unanimous === p.votes.unanimous) c.votes.correct++;
      else
        misses.push(
          `${label}: votes ${p.votes.for}-${p.votes.against} unanimous=${p.votes.unanimous}, expected ${g.votes.for}-${g.votes.against} unanimous=${g.votes.unanimous}`,
        );
    } else if (g.votes || p.votes) misses.push(`${label}: votes ${p.votes ? 'found' : 'missing'}, gold has ${g.votes ? 'votes' : 'none'}`);

    if (g.decision && p.decision) {
      const sameText = sameDecisionText(g.decision, p.decision);
      const samePage = (g.decisionSpan?.pageStart ?? null) === (p.spans.decision?.pageStart ?? null);
      if (sameText && samePage) c.decisions.correct++;
      else
        misses.push(
          `${label}: decision ${sameText ? `on page ${p.spans.decision?.pageStart}, expected ${g.decisionSpan?.pageStart}` : `text differs: got «${clip(p.decision)}», expected «${clip(g.decision)}»`}`,
        );
    } else if (g.decision || p.decision)
      misses.push(`${label}: decision ${p.decision ? `found («${clip(p.decision)}»)` : 'missing'}, gold has ${g.decision ? 'one' : 'none'}`);

    if (g.outcome && p.outcome && g.outcome === p.outcome) c.outcome.correct++;
    else if (g.outcome || p.outcome) misses.push(`${label}: outcome ${p.outcome}, expected ${g.outcome}`);

    const pc = new Set(p.conflictsOfInterest.map((x) => x.name));
    for (const name of g.conflictsOfInterest) if (pc.has(name)) c.conflictsOfInterest.correct++;
    const gc = new Set(g.conflictsOfInterest);
    if (g.conflictsOfInterest.some((n) => !pc.has(n)) || [...pc].some((n) => !gc.has(n))) {
      misses.push(`${label}: inhabil [${[...pc].join(', ')}], expected [${g.conflictsOfInterest.join(', ')}]`);
    }
  }
  return { gold, skipped: null, counts: c, misses };
}

function clip(s: string, n = 90): string {
  const t = normalizeText(s) ?? '';
  return t.length > n ? `${t.slice(0, n / 2)} … ${t.slice(-n / 2)}` : t;
}

/** Run the parser over every gold document. */
export async function evaluateParser(gold = loadGold()): Promise<DocResult[]> {
  const out: DocResult[] = [];
  for (const g of gold) {
    const file = goldPath(g);
    if (!file) {
      out.push({ gold: g, skipped: `${g.document}: ../shared/corpus not found at ${CORPUS_DIR}`, counts: zero(), misses: [] });
      continue;
    }
    out.push(compare(g, await parseFile(file)));
  }
  return out;
}

const LABELS: Record<Metric, string> = {
  meetings: 'Meetings (body + date)',
  agendaItems: 'Agenda items (case id + first page)',
  titles: 'Item titles',
  votes: 'Votes (for, against, unanimous)',
  decisions: 'Decisions (text + first page)',
  outcome: 'Outcome',
  conflictsOfInterest: 'Inhabil (names)',
  attendees: 'Attendees (name, party, møtte for)',
};

const pct = (n: number, d: number) => (d === 0 ? '–' : `${((100 * n) / d).toFixed(1)} %`);

export function formatTable(results: DocResult[]): string {
  const total = zero();
  for (const r of results) for (const m of METRICS) for (const k of ['gold', 'found', 'correct'] as const) total[m][k] += r.counts[m][k];
  const ran = results.filter((r) => !r.skipped);
  const lines = [
    `Protocol parser against fixtures/gold (${ran.length} of ${results.length} documents${ran.length < results.length ? `; ${results.length - ran.length} skipped` : ''})`,
    '',
    '| What | Gold | Found | Correct | Precision | Recall |',
    '|---|---:|---:|---:|---:|---:|',
    ...METRICS.map(
      (m) =>
        `| ${LABELS[m]} | ${total[m].gold} | ${total[m].found} | ${total[m].correct} | ${pct(total[m].correct, total[m].found)} | ${pct(total[m].correct, total[m].gold)} |`,
    ),
  ];
  const misses = results.flatMap((r) => r.misses);
  const skipped = results.filter((r) => r.skipped).map((r) => r.skipped!);
  if (misses.length) lines.push('', 'Misses:', '', ...misses.map((m) => `- ${m}`));
  if (skipped.length) lines.push('', 'Skipped:', '', ...skipped.map((s) => `- ${s}`));
  return lines.join('\n');
}

/** The precision/recall table (markdown) of the parser over all gold files. */
export async function parserEval(): Promise<string> {
  return formatTable(await evaluateParser());
}

/**
 * Started as a script? bin/run-ts.js removes the script from process.argv before importing it,
 * so a module imported by another run-ts script cannot tell from argv alone; the command line of
 * the process still names the script that was started.
 */
function startedAsScript(): boolean {
  const self = fileURLToPath(import.meta.url);
  const entry = process.argv[1] ? path.resolve(process.argv[1]) : '';
  if (entry === self) return true;
  if (path.basename(entry) !== 'run-ts.js') return false;
  let cmdline = '';
  try {
    cmdline = fs.readFileSync('/proc/self/cmdline', 'utf8').split('\0').join(' ');
  } catch {
    try {
      cmdline = execFileSync('ps', ['-o', 'args=', '-p', String(process.pid)], { encoding: 'utf8' });
    } catch {
      return false;
    }
  }
  return cmdline.split(/\s+/).some((arg) => arg && path.resolve(arg) === self);
}

if (startedAsScript()) {
  try {
    console.log(await parserEval());
  } finally {
    await shutdownExtractors();
  }
}
