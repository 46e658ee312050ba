/**
 * Small shared pieces of the benchmarks: statistics, tables, and the results cache.
 *
 * Every section saves what it measured to CACHE_DIR/results/<section>[-<size>].json. The
 * report (docs/benchmarks.md) is rendered from all saved results, so a section that this run
 * skipped (e.g. the 1M-chunk figures, which take long to build) still appears, with the date
 * of the run that measured it.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { CACHE_DIR } from './corpus.ts';

export function quantile(xs: number[], q: number): number {
  if (!xs.length) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  // Nearest rank: the smallest value with at least q of the samples at or below it.
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil(q * s.length) - 1))];
}
export const median = (xs: number[]) => quantile(xs, 0.5);
/** Percentiles of the finite values only (NaN: a run that had nothing to measure). */
export const finite = (xs: number[]) => xs.filter((x) => Number.isFinite(x));

/**
 * Recall of `got` against an exact ranking `exact` (best first, non-empty) at k, with ties: a
 * hit is any of the first min(k, |exact|) results scoring at least the exact k-th score.
 */
export function recallAt(got: { score: number }[], exact: { score: number }[], k: number): number {
  const n = Math.min(k, exact.length);
  return got.slice(0, n).filter((h) => h.score >= exact[n - 1].score - 1e-6).length / n;
}

export function fmt(x: number | null | undefined, digits = 1): string {
  if (x === null || x === undefined || Number.isNaN(x)) return '–';
  return x.toFixed(digits);
}
export const mb = (bytes: number) => bytes / 2 ** 20;

export interface Table {
  title: string;
  header: string[];
  rows: (string | number)[][];
  notes?: string[];
}

export interface SectionResult {
  section: string;
  /** Size label for per-size sections ("100k"), else "". */
  size: string;
  at: string;
  /** Load averages (1, 5, 15 min) when the section started: other work on the machine. */
  load: number[];
  seconds: number;
  tables: Table[];
  notes: string[];
  /** Figures the growth table and the targets read. */
  data: Record<string, number | string | boolean | null>;
}

export function renderTable(t: Table): string {
  const lines = [`| ${t.header.join(' | ')} |`, `|${t.header.map(() => '---').join('|')}|`];
  for (const r of t.rows) lines.push(`| ${r.join(' | ')} |`);
  return lines.join('\n');
}

/** Print a table to the console as it is measured. */
export function printTable(t: Table): void {
  console.log(`\n### ${t.title}\n\n${renderTable(t)}`);
  for (const n of t.notes ?? []) console.log(`\n${n}`);
}

const RESULTS_DIR = () => path.join(CACHE_DIR, 'results');

export function saveResult(r: SectionResult): void {
  fs.mkdirSync(RESULTS_DIR(), { recursive: true });
  const name = r.size ? `${r.section}-${r.size}` : r.section;
  fs.writeFileSync(path.join(RESULTS_DIR(), `${name}.json`), JSON.stringify(r, null, 1));
}

export function loadResults(): SectionResult[] {
  if (!fs.existsSync(RESULTS_DIR())) return [];
  return fs
    .readdirSync(RESULTS_DIR())
    .filter((f) => f.endsWith('.json'))
    .map((f) => JSON.parse(fs.readFileSync(path.join(RESULTS_DIR(), f), 'utf8')) as SectionResult);
}

export function loadAvg(): number[] {
  return os.loadavg().map((x) => Number(x.toFixed(2)));
}

/** Run a section: time it, note the machine's load, print and save its result. */
export async function runSection(
  section: string,
  size: string,
  fn: () => Promise<Omit<SectionResult, 'section' | 'size' | 'at' | 'load' | 'seconds'>>,
): Promise<SectionResult> {
  const load = loadAvg();
  const at = new Date().toISOString();
  console.log(`\n== ${section}${size ? ` ${size}` : ''} (load ${load.join(' ')}) ==`);
  const t0 = performance.now();
  const r = await fn();
  const result: SectionResult = { section, size, at, load, seconds: (performance.now() - t0) / 1000, ...r };
  for (const t of result.tables) printTable(t);
  for (const n of result.notes) console.log(`\n${n}`);
  saveResult(result);
  return result;
}

/** CPU seconds of this process (all threads) and of its finished children, from /proc. */
export function cpuSeconds(): { self: number; children: number } {
  const u = process.cpuUsage();
  let children = 0;
  try {
    // /proc/self/stat fields 16 and 17: cutime and cstime of waited-for children, in ticks.
    const stat = fs.readFileSync('/proc/self/stat', 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    children = (Number(fields[13]) + Number(fields[14])) / 100;
  } catch {
    /* not Linux */
  }
  return { self: (u.user + u.system) / 1e6, children };
}

/** Resident memory of a process from /proc (bytes): current and peak. */
export function rssOf(pid: number): { rss: number; peak: number } | null {
  try {
    const s = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = (k: string) => Number(new RegExp(`^${k}:\\s+(\\d+) kB`, 'm').exec(s)?.[1] ?? NaN) * 1024;
    return { rss: kb('VmRSS'), peak: kb('VmHWM') };
  } catch {
    return null;
  }
}

export function dirBytes(p: string): number {
  if (!fs.existsSync(p)) return 0;
  const st = fs.statSync(p);
  if (!st.isDirectory()) return st.size;
  return fs.readdirSync(p).reduce((a, f) => a + dirBytes(path.join(p, f)), 0);
}
