/**
 * What the browser tests share: the server as a child process (`innsikt serve --demo` over a
 * temporary data directory, on a free loopback port) and headless Debian Chromium through
 * playwright-core. Never downloads a browser: without /usr/bin/chromium the suites skip.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { type Browser, type BrowserContext, type BrowserContextOptions, chromium, type Page } from 'playwright-core';
import { tempDir } from './helpers.ts';

export const CHROMIUM = '/usr/bin/chromium';
export const HAS_CHROMIUM = fs.existsSync(CHROMIUM);
export const ROOT = path.resolve(import.meta.dirname, '..');
export const ARTIFACTS = path.join(ROOT, 'tests/artifacts');
/** Results in the results region (one <li class="treff"> per document). */
export const RESULT_ITEMS = '#resultater ol.treffliste > li.treff';

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}

export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
  });
}

export interface DemoServer {
  base: string;
  dataDir: string;
  log(): string;
  stop(): Promise<void>;
}

/** Start `innsikt serve --demo` and wait until /healthz answers 200. */
export async function startDemoServer(env: Record<string, string> = {}, prefix = 'innsikt-browser-'): Promise<DemoServer> {
  fs.mkdirSync(ARTIFACTS, { recursive: true });
  const dataDir = tempDir(prefix);
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  let log = '';
  const server: ChildProcess = spawn(process.execPath, ['bin/innsikt.js', 'serve', '--demo', '--port', String(port)], {
    cwd: ROOT,
    env: { ...process.env, INNSIKT_DATA_DIR: dataDir, INNSIKT_HOST: '127.0.0.1', PORT: String(port), INNSIKT_TOKENS: '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  server.stdout!.on('data', (d) => (log += d));
  server.stderr!.on('data', (d) => (log += d));
  const stop = async () => {
    if (server.exitCode == null && server.signalCode == null) {
      const exited = new Promise<void>((resolve) => server.once('exit', () => resolve()));
      server.kill('SIGTERM');
      const timer = setTimeout(() => server.kill('SIGKILL'), 5_000);
      await exited;
      clearTimeout(timer);
    }
    fs.rmSync(dataDir, { recursive: true, force: true });
  };
  const deadline = Date.now() + 60_000;
  let last = '';
  for (;;) {
    if (server.exitCode != null) throw new Error(`server exited with code ${server.exitCode}:\n${log}`);
    try {
      const res = await fetch(`${base}/healthz`);
      if (res.status === 200) break;
      last = `status ${res.status}`;
    } catch (err) {
      last = (err as Error).message;
    }
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`${base}/healthz not healthy after 60 s (${last}):\n${log}`);
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  return { base, dataDir, log: () => log, stop };
}

/** A console error the test asked for: the browser's line for this status on this path (a 404 of a deleted document). */
export interface ExpectedError {
  status: number;
  path: RegExp;
}

/** Page errors and console errors of every page a suite opens (favicon requests aside), checked after each test. */
export class PageProblems {
  private found: string[] = [];

  watch(page: Page, label: string, expected: ExpectedError[] = []): Page {
    page.on('pageerror', (err) => this.found.push(`[${label}] pageerror: ${err.message}`));
    page.on('console', (msg) => {
      if (msg.type() !== 'error') return;
      const text = msg.text();
      const url = msg.location()?.url ?? '';
      if (/favicon/i.test(text) || /favicon/i.test(url)) return;
      if (expected.some((e) => text.includes(`status of ${e.status}`) && e.path.test(new URL(url, 'http://x').pathname))) return;
      this.found.push(`[${label}] console.error: ${text} (${url})`);
    });
    return page;
  }

  /** A new context (desktop size, Norwegian) and a watched page in it. */
  async newPage(
    browser: Browser,
    label: string,
    opts: { context?: BrowserContextOptions; expected?: ExpectedError[] } = {},
  ): Promise<{ context: BrowserContext; page: Page }> {
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, locale: 'nb-NO', ...opts.context });
    return { context, page: this.watch(await context.newPage(), label, opts.expected) };
  }

  /** What was found since the last call. */
  take(): string[] {
    const found = this.found;
    this.found = [];
    return found;
  }
}
