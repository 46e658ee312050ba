/**
 * Summaries of V8 CPU profiles (node --cpu-prof): self time per thread, by area of the code and
 * by function, so a benchmark that misses its target can say where the time goes.
 */
import fs from 'node:fs';
import path from 'node:path';
import { fmt, type Table } from './report.ts';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
}
interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples: number[];
}

/** Which part of the system a function belongs to, by its file. */
function area(url: string, fn: string): string {
  if (fn === '(garbage collector)') return 'garbage collection';
  if (fn === '(idle)') return 'idle (waiting)';
  if (fn === '(program)' || (!url && fn === '(root)')) return 'V8/native (program)';
  if (/pdfjs-dist|pdf-parse|pdf-worker/.test(url)) return 'PDF parsing (pdf.js)';
  if (/indexes\/analysis|stemmers/.test(url)) return 'analysis (tokenise, stem)';
  if (/indexes\/embeddings/.test(url)) return 'embedding (local hash)';
  if (/sqlite-store|better-sqlite3/.test(url)) return 'SQLite (FTS5, writes)';
  if (/ingest\/chunk|ingest\/boilerplate/.test(url)) return 'chunking';
  if (/ingest\/understand/.test(url)) return 'understanding (title, date, utvalg)';
  if (/ingest\/extract/.test(url)) return 'extraction glue (clean, quality)';
  if (/ingest\/data-dir|node:fs/.test(url)) return 'files (bronze, silver)';
  if (/tsx|esbuild|node:internal\/modules/.test(url)) return 'module loading (tsx)';
  if (!url) return `native: ${fn || '(anonymous)'}`;
  return path.basename(url);
}

export function summariseProfiles(dir: string, wallSeconds: number): Table[] {
  const files = fs
    .readdirSync(dir)
    .filter((f) => f.endsWith('.cpuprofile'))
    .sort();
  const tables: Table[] = [];
  const byArea = new Map<string, number[]>();
  const threads: string[] = [];
  const topFns = new Map<string, number>();
  files.forEach((f, ti) => {
    const p = JSON.parse(fs.readFileSync(path.join(dir, f), 'utf8')) as CpuProfile;
    const total = (p.endTime - p.startTime) / 1e6;
    const hits = p.nodes.reduce((a, n) => a + (n.hitCount ?? 0), 0) || 1;
    // Thread id is the 4th dot-separated field of CPU.<date>.<time>.<pid>.<tid>.<seq>.cpuprofile.
    const tid = f.split('.')[4];
    threads.push(tid === '0' ? 'main' : `worker ${tid}`);
    for (const n of p.nodes) {
      const secs = ((n.hitCount ?? 0) / hits) * total;
      if (!secs) continue;
      const a = area(n.callFrame.url, n.callFrame.functionName);
      if (!byArea.has(a)) byArea.set(a, new Array(files.length).fill(0));
      byArea.get(a)![ti] += secs;
      if (a !== 'idle (waiting)') {
        const key = `${n.callFrame.functionName || '(anonymous)'} (${path.basename(n.callFrame.url) || 'native'}) [${tid === '0' ? 'main' : 'worker'}]`;
        topFns.set(key, (topFns.get(key) ?? 0) + secs);
      }
    }
  });
  const rows = [...byArea.entries()]
    .sort((a, b) => b[1].reduce((x, y) => x + y, 0) - a[1].reduce((x, y) => x + y, 0))
    .filter(([, v]) => v.reduce((x, y) => x + y, 0) >= 0.05)
    .map(([a, v]) => [a, ...v.map((s) => fmt(s, 2))]);
  tables.push({
    title: `Ingestion profile: seconds per thread by area (one end-to-end run under --cpu-prof, ${fmt(wallSeconds, 1)} s wall incl. start-up)`,
    header: ['area', ...threads],
    rows,
    notes: ['Profiling slows the run down; compare the areas with each other, not with the table above.'],
  });
  tables.push({
    title: 'Ingestion profile: top functions by self time (all threads)',
    header: ['function (file) [thread]', 'self s'],
    rows: [...topFns.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, 15)
      .map(([k, s]) => [k.replace(/\|/g, '\\|'), fmt(s, 2)]),
  });
  return tables;
}
