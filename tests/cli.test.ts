/** The `innsikt` command as a user runs it: real processes, real files, JSON on stdout. */

import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { tempDir } from './helpers.ts';

const ROOT = path.resolve(import.meta.dirname, '..');
const BIN = path.join(ROOT, 'bin', 'innsikt.js');
const DEMO = path.join(ROOT, 'fixtures', 'demo');

function innsikt(args: string[], env: Record<string, string> = {}) {
  const r = spawnSync(process.execPath, [BIN, ...args], { cwd: ROOT, env: { ...process.env, ...env }, encoding: 'utf8', timeout: 120_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('innsikt command line', () => {
  const data = tempDir();
  const work = tempDir();
  const env = { INNSIKT_DATA_DIR: data };
  const run = (...args: string[]) => innsikt(args, env);
  const changing = path.join(work, 'notat.txt');

  beforeAll(() => {
    fs.writeFileSync(path.join(work, 'broken.pdf'), '%PDF-1.7\nthis is not really a pdf\n');
    fs.writeFileSync(changing, 'Notat om snøbrøyting i Kampen park.\n\nBydelen vil prioritere gangveier.');
  });

  it('has --help on every command', () => {
    for (const cmd of ['ingest', 'search', 'serve', 'status', 'show', 'delete', 'reindex']) {
      const r = run(cmd, '--help');
      expect(r.code, cmd).toBe(0);
      expect(r.stdout, cmd).toMatch(/^Usage: innsikt /);
    }
    expect(run('--help').stdout).toContain('Commands:');
    const bad = run('frobnicate');
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('unknown command');
  });

  it('ingests files, reports each one, and one bad file stops nothing', () => {
    const r = run(
      'ingest',
      path.join(DEMO, '2024-03-14-bydelsutvalget.pdf'),
      path.join(work, 'broken.pdf'),
      path.join(work, 'missing.pdf'),
      changing,
      '--json',
    );
    expect(r.code).toBe(0);
    const { files } = JSON.parse(r.stdout);
    const status = Object.fromEntries(files.map((f: { file: string; status: string }) => [path.basename(f.file), f]));
    expect(status['2024-03-14-bydelsutvalget.pdf']).toMatchObject({ status: 'ok', pages: 5, reason: null });
    expect(status['2024-03-14-bydelsutvalget.pdf'].chunks).toBeGreaterThan(0);
    expect(status['broken.pdf'].status).toBe('failed');
    expect(status['broken.pdf'].reason).toMatch(/^corrupt: /);
    expect(status['missing.pdf']).toMatchObject({ status: 'failed', reason: 'no such file or folder', documentId: null });
    expect(status['notat.txt']).toMatchObject({ status: 'ok', pages: 1 });
    for (const f of files) expect(Object.keys(f).sort()).toEqual(['chunks', 'documentId', 'file', 'pages', 'reason', 'status']);
  });

  it('ingests a copy of an already ingested file once', () => {
    const copy = path.join(work, 'kopi.pdf');
    fs.copyFileSync(path.join(DEMO, '2024-03-14-bydelsutvalget.pdf'), copy);
    const r = JSON.parse(run('ingest', copy, '--json').stdout).files[0];
    expect(r.status).toBe('unchanged');
    expect(r.reason).toContain('same content as 2024-03-14-bydelsutvalget.pdf');
    expect(JSON.parse(run('status', '--json').stdout).documents).toBe(2);
  });

  it('ingests copies given at once as one document, however the workers interleave', () => {
    const own = { INNSIKT_DATA_DIR: tempDir() };
    const copies = ['a', 'b', 'c'].map((n) => path.join(work, `samtidig-${n}.pdf`));
    for (const c of copies) fs.copyFileSync(path.join(DEMO, '2024-06-13-bydelsutvalget.pdf'), c);
    const files = JSON.parse(innsikt(['ingest', ...copies, '--json'], own).stdout).files as { status: string; reason: string | null }[];
    expect(files.map((f) => f.status).sort()).toEqual(['ok', 'unchanged', 'unchanged']);
    for (const f of files.filter((f) => f.status === 'unchanged')) expect(f.reason).toMatch(/^same content as samtidig-[abc]\.pdf/);
    expect(JSON.parse(innsikt(['status', '--json'], own).stdout).documents).toBe(1);
  });

  it('skips unchanged files and replaces changed ones', () => {
    const again = JSON.parse(run('ingest', path.join(DEMO, '2024-03-14-bydelsutvalget.pdf'), '--json').stdout);
    expect(again.files[0].status).toBe('unchanged');
    fs.writeFileSync(changing, 'Notat om strøsand på Vålerenga.\n\nNy tekst.');
    const changed = JSON.parse(run('ingest', changing, '--json').stdout);
    expect(changed.files[0].status).toBe('ok');
    expect(JSON.parse(run('search', 'snøbrøyting', '--json', '--mode', 'bm25').stdout).results).toEqual([]);
    expect(JSON.parse(run('search', 'strøsand', '--json').stdout).results[0].source).toBe('notat.txt');
  });

  it('searches with exactly one JSON object on stdout', () => {
    const r = run('search', 'Tøyenparken lekeplass', '--json', '--limit', '3');
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(Object.keys(out).sort()).toEqual(['mode', 'query', 'results', 'tookMs', 'total', 'totalRelation']);
    expect(out.mode).toBe('hybrid');
    expect(out.results.length).toBeGreaterThan(0);
    expect(out.results.length).toBeLessThanOrEqual(3);
    const hit = out.results[0];
    expect(hit.source).toBe('2024-03-14-bydelsutvalget.pdf');
    expect(hit.pageStart).toBeGreaterThanOrEqual(1);
    expect(hit.pageEnd).toBeGreaterThanOrEqual(hit.pageStart);
    for (const k of ['documentId', 'chunkId', 'title', 'source', 'pageStart', 'pageEnd', 'score', 'snippet']) expect(hit).toHaveProperty(k);
    for (const mode of ['bm25', 'vector']) expect(JSON.parse(run('search', 'lekeplass', '--json', '--mode', mode).stdout).mode).toBe(mode);
    expect(run('search', 'x', '--mode', 'fuzzy').code).toBe(2);
    expect(JSON.parse(run('search', 'lekeplass', '--json', '--year', '2019').stdout).results).toEqual([]);
    expect(JSON.parse(run('search', 'lekeplass', '--json', '--year', '2024', '--body', 'Bydelsutvalget').stdout).results.length).toBeGreaterThan(0);
    const bad = run('search', 'x', '--from', '14.03.2024');
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('from must be a date like 2024-03-14');
  });

  it('reports status, shows silver, deletes', () => {
    const status = JSON.parse(run('status', '--json').stdout);
    expect(status.documents).toBe(2);
    expect(status.chunks).toBeGreaterThan(2);
    expect(status.indexBytes).toBeGreaterThan(0);
    expect(status.embedder.id).toMatch(/^local-hash/);
    // Two documents: no word is common, so there are no common-word lists to report.
    expect(status.commonLists).toBe(null);
    const id = JSON.parse(run('search', 'strøsand', '--json').stdout).results[0].documentId;
    const silver = JSON.parse(run('show', id, '--json').stdout);
    expect(silver.pages[0].text).toContain('strøsand');
    expect(run('delete', id).code).toBe(0);
    expect(run('delete', id).code).toBe(1);
    expect(JSON.parse(run('status', '--json').stdout).documents).toBe(1);
  });

  it('refuses a changed embedder until reindex, and reindex rebuilds from silver only', () => {
    const other = { ...env, INNSIKT_LOCAL_DIMENSIONS: '1024' };
    const refused = innsikt(['search', 'lekeplass', '--json'], other);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('innsikt reindex');
    // Reindex must not need the original files: move the demo copy's bronze away.
    fs.rmSync(path.join(data, 'bronze'), { recursive: true, force: true });
    const re = innsikt(['reindex', '--json'], other);
    expect(re.code).toBe(0);
    expect(JSON.parse(re.stdout)).toMatchObject({ documents: 1, failed: [] });
    const after = JSON.parse(innsikt(['search', 'Tøyenparken lekeplass', '--json'], other).stdout);
    expect(after.results[0].source).toBe('2024-03-14-bydelsutvalget.pdf');
    expect(JSON.parse(innsikt(['status', '--json'], other).stdout).embedder).toEqual({ id: expect.stringContaining('1024'), dimensions: 1024 });
  });
});

describe.runIf(process.platform === 'linux')('ingestion runs at a lower CPU priority (INNSIKT_INGEST_NICE)', () => {
  /** nice of every thread of a process, from /proc. */
  const SCRIPT = `
    import fs from 'node:fs';
    import { Worker } from 'node:worker_threads';
    import { lowerPriority } from ${JSON.stringify(path.join(ROOT, 'ingest', 'priority.ts'))};
    const nices = () => fs.readdirSync('/proc/self/task').map((t) => {
      const st = fs.readFileSync('/proc/self/task/' + t + '/stat', 'utf8');
      return Number(st.slice(st.lastIndexOf(')') + 2).split(' ')[16]);
    });
    const before = nices();
    lowerPriority(Number(process.env.NICE));
    const w = new Worker('setTimeout(() => {}, 300)', { eval: true });
    await new Promise((r) => w.once('online', r));
    console.log(JSON.stringify({ before, after: nices() }));
    await w.terminate();
  `;
  const run = (nice: string) => {
    const file = path.join(tempDir(), 'nice.mts');
    fs.writeFileSync(file, SCRIPT);
    const r = spawnSync(process.execPath, [path.join(ROOT, 'bin', 'run-ts.js'), file], { cwd: ROOT, env: { ...process.env, NICE: nice }, encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    return JSON.parse(r.stdout) as { before: number[]; after: number[] };
  };

  it('lowers every thread, and a worker started after it inherits the priority', () => {
    const { before, after } = run('7');
    const base = before[0]; // 0, unless the tests themselves run at a lower priority
    expect(before.every((n) => n === base)).toBe(true);
    expect(after.length).toBeGreaterThan(before.length); // the worker's threads are there
    expect(after.every((n) => n === Math.max(base, 7))).toBe(true);
  });

  it('0 keeps the normal priority', () => {
    const { before, after } = run('0');
    expect(after.every((n) => n === before[0])).toBe(true);
  });

  it('rejects a value outside 0-19 with a clear error', () => {
    const r = innsikt(['ingest', DEMO], { INNSIKT_DATA_DIR: tempDir(), INNSIKT_INGEST_NICE: '25' });
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain('INNSIKT_INGEST_NICE must be a whole number from 0');
  });
});

describe('innsikt serve follows innsikt reindex', () => {
  it('after the index file is replaced, the running server answers from the new one: a delete written there takes effect', async () => {
    const { spawn } = await import('node:child_process');
    const net = await import('node:net');
    const data = tempDir();
    const work = tempDir();
    const env = { INNSIKT_DATA_DIR: data, INNSIKT_REFRESH_MS: '60000', INNSIKT_MAX_STALE_MS: '60000' };
    fs.writeFileSync(path.join(work, 'a.txt'), 'Notat om snøscooterløype langs Alna.');
    fs.writeFileSync(path.join(work, 'b.txt'), 'Notat om hundeluftepark i Klosterenga.');
    expect(innsikt(['ingest', work, '--json'], env).code).toBe(0);
    const port = await new Promise<number>((resolve) => {
      const s = net.createServer().listen(0, '127.0.0.1', () => {
        const p = (s.address() as import('node:net').AddressInfo).port;
        s.close(() => resolve(p));
      });
    });
    const proc = spawn(process.execPath, [BIN, 'serve', '--port', String(port), '--host', '127.0.0.1'], { cwd: ROOT, env: { ...process.env, ...env } });
    let log = '';
    proc.stdout.on('data', (d) => (log += d));
    proc.stderr.on('data', (d) => (log += d));
    try {
      const base = `http://127.0.0.1:${port}`;
      const ids = async (q: string) => {
        const r = await fetch(`${base}/api/v1/search?q=${encodeURIComponent(q)}`);
        expect(r.status).toBe(200);
        return ((await r.json()) as { results: { source: string }[] }).results.map((h) => h.source);
      };
      for (let i = 0; ; i++) {
        try {
          if ((await fetch(`${base}/healthz`)).status === 200) break;
        } catch {
          /* not listening yet */
        }
        if (i > 300) throw new Error(`the server did not start: ${log}`);
        await new Promise((r) => setTimeout(r, 50));
      }
      expect(await ids('hundeluftepark')).toEqual(['b.txt']); // and now cached
      expect(innsikt(['reindex', '--json'], env).code).toBe(0);
      const id = JSON.parse(innsikt(['search', 'hundeluftepark', '--json'], env).stdout).results[0].documentId;
      expect(innsikt(['delete', id], env).code).toBe(0);
      // Within a check interval (1 s) and the time to open the new file.
      let left: string[] = ['b.txt'];
      for (let i = 0; i < 60 && left.length; i++) {
        await new Promise((r) => setTimeout(r, 100));
        left = await ids('hundeluftepark');
      }
      expect(left, log).toEqual([]);
      expect(await ids('snøscooterløype')).toEqual(['a.txt']);
      expect(log).toContain('the index file was replaced');
    } finally {
      proc.kill('SIGTERM');
      await new Promise((r) => proc.once('exit', r));
    }
  }, 120_000);
});
