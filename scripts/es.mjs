#!/usr/bin/env node
// A real Elasticsearch development node without Docker, for the Elasticsearch backend and its
// tests: `npm run es:start`, `npm run es:stop`, `node scripts/es.mjs status`.
//
//   start   fetch the distribution with Maven (once), unpack it (once), write its configuration,
//           start it in the background and wait until it is healthy. Prints exactly one line to
//           stdout, the URL (`ELASTICSEARCH_URL="$(npm run --silent es:start)"`); everything else
//           goes to stderr. Idempotent: a node of ours that already answers is left alone.
//   stop    SIGTERM the node from its pid file, SIGKILL after 60 s. Idempotent.
//   status  the node's cluster health as JSON (exit 1 when nothing answers).
//
// Environment: ES_PORT (9200), ES_VERSION (DEFAULT_VERSION), ES_HEAP (both -Xms and -Xmx, e.g. 1g;
// default -Xms512m -Xmx1g), ES_JAVA_HOME (a JDK 21+; default the newest under /usr/lib/jvm).
// Everything lives in <repo>/.cache/elasticsearch/ (git-ignored); the zip stays in Maven's ~/.m2.
// Node 20 built-ins only: this runs before and apart from the TypeScript toolchain.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { portTaken, quote, readPidFile, runCommand, sleep } from './local-service.mjs';

// Downloads go through Maven, and the runnable Elasticsearch on Maven Central is this
// "integ-test-zip": the server with only the modules Elastic's own REST tests need
// (transport-netty4, x-pack-core, x-pack-security, apm; no analysis-common, painless or reindex).
// Measured on 9.2.8: index, bulk, match, highlight, dense_vector + knn and the built-in
// analyzers (standard, simple, whitespace, keyword; filters lowercase, stop, shingle) work; the
// `norwegian` analyzer and the stemmer, snowball, synonym, asciifolding, keyword_repeat and
// pattern_replace filters do not exist here ("failed to find global filter under [stemmer]").
// GET / answers 405 (no rest-root module): readiness and version come from health and _nodes.
//
// 9.2.8: the newest that resolves on Maven Central from here (checked 2026-12-07 with
// `mvn dependency:get -Dartifact=org.elasticsearch.distribution.integ-test-zip:elasticsearch:<v>:zip`:
// 9.2.0 and 9.2.8 resolve; 9.2.1, 9.2.3, 9.2.5, 9.2.9-9.2.12, 9.3.0 and 9.4.0 do not). It must
// stay major 9: the @elastic/elasticsearch client (9.4) only talks to servers of its own major.
const DEFAULT_VERSION = '9.2.8';
const ARTIFACT = 'org.elasticsearch.distribution.integ-test-zip:elasticsearch';
const CLUSTER = 'innsikt-dev';
const ES_USER = 'elasticsearch';
const MIN_JAVA = 21; // Elasticsearch 9 refuses older JVMs (and the zip bundles no JDK).
const START_TIMEOUT_MS = 120_000; // a start takes ~14 s here (2 busy cores); slow CI machines get slack.
const STOP_TIMEOUT_MS = 60_000;

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
// ES_CACHE_DIR moves it (CI puts it in /var/tmp: a checkout under a private home cannot be
// entered by the `elasticsearch` user the node runs as when started by root).
const cache = process.env.ES_CACHE_DIR ? path.resolve(process.env.ES_CACHE_DIR) : path.join(root, '.cache', 'elasticsearch');
const dirs = {
  dist: path.join(cache, 'dist'),
  download: path.join(cache, 'download'),
  data: path.join(cache, 'data'),
  logs: path.join(cache, 'logs'),
  tmp: path.join(cache, 'tmp'),
  run: path.join(cache, 'run'),
};
const pidFile = path.join(dirs.run, 'es.pid');

function log(msg) {
  console.error(`[es] ${msg}`);
}

function fail(msg) {
  console.error(`[es] ${msg}`);
  process.exit(1);
}

function env(name, fallback, pattern, example) {
  const value = process.env[name] || fallback;
  if (!pattern.test(value)) fail(`${name}=${value} is not valid (expected e.g. ${example})`);
  return value;
}

const version = env('ES_VERSION', DEFAULT_VERSION, /^\d+\.\d+\.\d+$/, DEFAULT_VERSION);
const port = Number(env('ES_PORT', '9200', /^\d{2,5}$/, '9200'));
const heap = process.env.ES_HEAP ? env('ES_HEAP', '', /^\d+[kmgKMG]?$/, '1g') : null;
const url = `http://127.0.0.1:${port}`;
const home = path.join(dirs.dist, version, `elasticsearch-${version}`);

// ---------------------------------------------------------------------------------------------
// Small helpers

/** Runs a command to completion; on failure exits with the exact command line and its output. */
function run(cmd, args, options = {}) {
  const res = runCommand(cmd, args, options);
  if (res.error) fail(res.error);
  return res.stdout;
}

function which(cmd) {
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
    const file = path.join(dir, cmd);
    try {
      fs.accessSync(file, fs.constants.X_OK);
      return file;
    } catch {}
  }
  return null;
}

/** GET on the node; null when nothing answers (refused, reset, timeout). */
async function get(pathAndQuery, timeoutMs = 5000) {
  try {
    const res = await fetch(url + pathAndQuery, { signal: AbortSignal.timeout(timeoutMs) });
    const text = await res.text();
    let json = null;
    try {
      json = JSON.parse(text);
    } catch {}
    return { status: res.status, json, text };
  } catch {
    return null;
  }
}

// ---------------------------------------------------------------------------------------------
// The running node: its pid file, and whether that pid is still our Elasticsearch

function readPid() {
  return readPidFile(pidFile);
}

/** The process's arguments, or null when there is no such process. */
function commandLine(pid) {
  try {
    return fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
  } catch {
    if (fs.existsSync('/proc/self')) return null; // Linux: no such process
    const res = spawnSync('ps', ['-o', 'command=', '-p', String(pid)], { encoding: 'utf8' });
    return res.status === 0 ? res.stdout.trim().split(/\s+/) : null;
  }
}

function alive(pid) {
  try {
    process.kill(pid, 0);
  } catch (err) {
    // EPERM: it exists but belongs to someone else (we are not root and it is not ours).
    if (err.code !== 'EPERM') return false;
  }
  // A container whose init does not reap leaves the daemonized node a zombie after it exits:
  // kill(0) still succeeds, but it is gone.
  try {
    return fs.readFileSync(`/proc/${pid}/stat`, 'utf8').replace(/^.*\) /, '')[0] !== 'Z';
  } catch {
    return !fs.existsSync('/proc/self');
  }
}

/**
 * The home of the Elasticsearch started from this cache with that pid, or null. A pid file
 * outlives a SIGKILL or a reboot, and the pid may since belong to another process: only a Java
 * process whose es.path.home lies in our cache counts.
 */
function ourNodeHome(pid) {
  if (!pid || !alive(pid)) return null;
  const arg = (commandLine(pid) ?? []).find((a) => a.startsWith('-Des.path.home='));
  const esHome = arg?.slice('-Des.path.home='.length);
  return esHome?.startsWith(dirs.dist + path.sep) ? esHome : null;
}

/** Whether the node answering on our port is the process with that pid. */
async function answersAs(pid) {
  const res = await get('/_nodes/_local/process');
  const node = res?.json?.nodes && Object.values(res.json.nodes)[0];
  return node?.process?.id === pid;
}

async function describePort() {
  const res = await get('/_nodes/_local');
  const node = res?.json?.nodes && Object.values(res.json.nodes)[0];
  if (node) return `Elasticsearch ${node.version} (cluster "${res.json.cluster_name}", node "${node.name}")`;
  return res ? `a server answering HTTP ${res.status}` : 'a process that does not answer HTTP';
}

function tail(file, lines = 30) {
  try {
    // Cut long lines: the node logs its JVM arguments as one line of ~5000 characters.
    return fs
      .readFileSync(file, 'utf8')
      .trimEnd()
      .split('\n')
      .slice(-lines)
      .map((l) => (l.length > 400 ? `${l.slice(0, 400)} …` : l))
      .join('\n');
  } catch {
    return `(no ${file})`;
  }
}

function logTails() {
  return [
    `--- ${path.join(dirs.logs, 'start.log')}`,
    tail(path.join(dirs.logs, 'start.log'), 20),
    `--- ${path.join(dirs.logs, `${CLUSTER}.log`)}`,
    tail(path.join(dirs.logs, `${CLUSTER}.log`), 40),
  ].join('\n');
}

// ---------------------------------------------------------------------------------------------
// Java, the distribution, the configuration

function javaMajor(javaHome) {
  try {
    const release = fs.readFileSync(path.join(javaHome, 'release'), 'utf8');
    const v = /^JAVA_VERSION="([^"]+)"/m.exec(release)?.[1];
    if (!v) return null;
    const [first, second] = v.split(/[.+_-]/).map(Number);
    return first === 1 ? second : first; // "1.8.0_412" is Java 8
  } catch {
    return null;
  }
}

function chooseJava() {
  const explicit = process.env.ES_JAVA_HOME;
  if (explicit) {
    if (!fs.existsSync(path.join(explicit, 'bin', 'java'))) fail(`ES_JAVA_HOME=${explicit} has no bin/java`);
    const major = javaMajor(explicit);
    // Without a release file we cannot tell; Elasticsearch's own version check will say.
    if (major !== null && major < MIN_JAVA) fail(`ES_JAVA_HOME=${explicit} is Java ${major}; Elasticsearch ${version} needs Java ${MIN_JAVA} or newer`);
    return { javaHome: explicit, major };
  }
  const jvmDir = '/usr/lib/jvm';
  let found = [];
  try {
    found = fs
      .readdirSync(jvmDir)
      .map((name) => path.join(jvmDir, name))
      .filter((dir) => fs.existsSync(path.join(dir, 'bin', 'java')))
      .map((dir) => ({ javaHome: fs.realpathSync(dir), major: javaMajor(dir) }))
      .filter((jdk) => jdk.major !== null);
  } catch {}
  const usable = found.filter((jdk) => jdk.major >= MIN_JAVA).sort((a, b) => b.major - a.major);
  if (usable.length) return usable[0];
  const seen = [...new Set(found.map((jdk) => `Java ${jdk.major}`))].join(', ') || 'none';
  fail(
    `Elasticsearch ${version} needs Java ${MIN_JAVA} or newer (it bundles none here); ` +
      `found under ${jvmDir}: ${seen}. Install one (e.g. \`apt-get install openjdk-21-jdk-headless\`, ` +
      `or Temurin 21/25 from https://adoptium.net) or set ES_JAVA_HOME to its folder.`,
  );
}

/** Fetches the zip with Maven (cached in ~/.m2) and unpacks it to dist/<version>/. */
function ensureDistribution(javaHome) {
  if (fs.existsSync(path.join(home, 'bin', 'elasticsearch'))) return;
  const mvn = which('mvn');
  if (!mvn) fail('Maven (mvn) is needed to fetch Elasticsearch: install it (e.g. `apt-get install maven`)');
  fs.mkdirSync(dirs.download, { recursive: true }); // dependency:copy's target, emptied below
  const zip = path.join(dirs.download, `elasticsearch-${version}.zip`);
  log(`fetching ${ARTIFACT}:${version}:zip with Maven (~100 MB the first time, then from ~/.m2)`);
  // cwd: the cache, so that no pom.xml around the repo changes what Maven resolves.
  run(mvn, ['-q', '-B', 'dependency:copy', `-Dartifact=${ARTIFACT}:${version}:zip`, `-DoutputDirectory=${dirs.download}`], {
    cwd: cache,
    // Maven remembers a failed lookup in ~/.m2 (*.lastUpdated) and does not ask again for a day.
    hint:
      `Is ${version} published (https://repo.maven.apache.org/maven2/${ARTIFACT.replace(/[.:]/g, '/')}/)? ` +
      'After a network failure, add -U to the command above to make Maven ask again at once.',
  });
  if (!fs.existsSync(zip)) fail(`Maven reported success but ${zip} is missing`);

  // Unpack beside the target and rename, so an interrupted unpack is never taken for a done one.
  const target = path.join(dirs.dist, version);
  const partial = `${target}.partial`;
  fs.rmSync(partial, { recursive: true, force: true });
  fs.mkdirSync(partial, { recursive: true });
  const unzip = which('unzip');
  if (unzip) {
    run(unzip, ['-q', zip, '-d', partial]);
  } else {
    run(path.join(javaHome, 'bin', 'jar'), ['xf', zip], { cwd: partial });
    // jar drops the permission bits the zip records: make the launch scripts executable again.
    const bin = path.join(partial, `elasticsearch-${version}`, 'bin');
    for (const name of fs.readdirSync(bin)) fs.chmodSync(path.join(bin, name), 0o755);
  }
  if (!fs.existsSync(path.join(partial, `elasticsearch-${version}`, 'bin', 'elasticsearch'))) {
    fail(`${zip} did not unpack to elasticsearch-${version}/bin/elasticsearch`);
  }
  fs.rmSync(target, { recursive: true, force: true });
  fs.renameSync(partial, target);
  fs.rmSync(zip); // the original stays in ~/.m2
  fs.rmSync(dirs.download, { recursive: true, force: true });
  log(`unpacked to ${path.relative(root, target)}`);
}

function writeConfig() {
  // Every key must exist in this distribution: an unknown setting stops Elasticsearch.
  const settings = {
    'cluster.name': CLUSTER,
    'node.name': `${CLUSTER}-1`,
    'network.host': '127.0.0.1',
    'http.port': port,
    'discovery.type': 'single-node',
    // A development node on loopback: no TLS, no passwords.
    'xpack.security.enabled': false,
    'path.data': dirs.data,
    'path.logs': dirs.logs,
    // Tests delete the index patterns they created (innsikt-test-*); by default wildcards in a
    // DELETE are refused.
    'action.destructive_requires_name': false,
    // With the disk watermarks on, a machine with little free disk (a full laptop, a CI runner)
    // turns every index read-only at 95 % and writes start failing for no visible reason.
    'cluster.routing.allocation.disk.threshold_enabled': false,
  };
  const yml = Object.entries(settings)
    .map(([k, v]) => `${k}: ${typeof v === 'string' ? JSON.stringify(v) : v}`)
    .join('\n');
  fs.writeFileSync(path.join(home, 'config', 'elasticsearch.yml'), `# Written by scripts/es.mjs on every start; edit the script, not this file.\n${yml}\n`);
}

// ---------------------------------------------------------------------------------------------
// Root: Elasticsearch refuses to run as root ("can not run elasticsearch as root"), and CI runs
// as root. There the node runs as a system user `elasticsearch` that owns the node's folders.

function userIds(name) {
  const uid = spawnSync('id', ['-u', name], { encoding: 'utf8' });
  if (uid.status !== 0) return null;
  const gid = spawnSync('id', ['-g', name], { encoding: 'utf8' });
  return { uid: Number(uid.stdout.trim()), gid: Number(gid.stdout.trim()) };
}

/** Returns the command prefix that runs the node as the `elasticsearch` user. */
function prepareForRoot() {
  let ids = userIds(ES_USER);
  if (!ids) {
    log(`creating system user ${ES_USER} (Elasticsearch refuses to run as root)`);
    run('useradd', ['--system', '--no-create-home', '--shell', '/usr/sbin/nologin', ES_USER]);
    ids = userIds(ES_USER);
    if (!ids) fail(`useradd succeeded but \`id -u ${ES_USER}\` does not find the user`);
  }
  // The user must be able to walk down to the cache: a repo under /root (mode 700) is not.
  for (let dir = path.dirname(cache); dir !== path.dirname(dir); dir = path.dirname(dir)) {
    if ((fs.statSync(dir).mode & 0o001) === 0) {
      fail(
        `the ${ES_USER} user can not enter ${dir} (no x permission for others), so it can not reach ` +
          `${cache}: \`chmod o+x ${dir}\`, or keep the repository somewhere others may enter`,
      );
    }
  }
  // The node writes its keystore into config/, its data, logs, temp files and pid file.
  const owned = [path.join(dirs.dist, version), dirs.data, dirs.logs, dirs.tmp, dirs.run];
  if (owned.some((dir) => fs.statSync(dir).uid !== ids.uid)) {
    run('chown', ['-R', `${ids.uid}:${ids.gid}`, ...owned]);
  }
  // setpriv (util-linux) changes the ids and nothing else: the environment below passes through.
  if (which('setpriv')) return ['setpriv', `--reuid=${ids.uid}`, `--regid=${ids.gid}`, '--clear-groups', '--'];
  if (which('runuser')) return ['runuser', '-u', ES_USER, '--'];
  fail('running as root needs setpriv or runuser (util-linux) to start Elasticsearch as another user');
}

// ---------------------------------------------------------------------------------------------
// Commands

async function waitUntilHealthy(pid, deadline) {
  while (Date.now() < deadline) {
    const left = Math.max(1, Math.min(10, Math.floor((deadline - Date.now()) / 1000)));
    const res = await get(`/_cluster/health?wait_for_status=yellow&timeout=${left}s`, (left + 5) * 1000);
    if (res?.status === 200 && ['yellow', 'green'].includes(res.json?.status)) return res.json;
    if (pid && !alive(pid)) return null;
    if (!res) await sleep(500);
  }
  return null;
}

async function start() {
  const runningPid = readPid();
  const runningHome = ourNodeHome(runningPid);
  if (runningHome) {
    if (await answersAs(runningPid)) {
      log(`already running (pid ${runningPid}, ${path.relative(root, runningHome)})`);
      console.log(url);
      return;
    }
    // Ours, but not answering on this port: still starting (another es:start), or started with
    // another ES_PORT.
    const configured = /^http\.port: (\d+)/m.exec(fs.readFileSync(path.join(runningHome, 'config', 'elasticsearch.yml'), 'utf8'))?.[1];
    if (configured && Number(configured) !== port) {
      fail(`our node (pid ${runningPid}) runs on port ${configured}, not ${port}: \`npm run es:stop\` first, or use ES_PORT=${configured}`);
    }
    log(`our node (pid ${runningPid}) is running but not answering yet; waiting`);
    if ((await waitUntilHealthy(runningPid, Date.now() + START_TIMEOUT_MS)) && (await answersAs(runningPid))) {
      console.log(url);
      return;
    }
    fail(`our node (pid ${runningPid}) does not answer on ${url}; \`npm run es:stop\` and start again\n${logTails()}`);
  }
  if (runningPid) fs.rmSync(pidFile, { force: true }); // stale: that node is gone
  if (await portTaken(port)) {
    fail(
      `port ${port} is already in use by ${await describePort()}, not by the node of this repository; ` + `stop that one or choose another port with ES_PORT`,
    );
  }

  const clientMajor = (() => {
    try {
      return JSON.parse(fs.readFileSync(path.join(root, 'node_modules/@elastic/elasticsearch/package.json'), 'utf8')).version.split('.')[0];
    } catch {
      return null;
    }
  })();
  if (clientMajor && clientMajor !== version.split('.')[0]) {
    log(`warning: Elasticsearch ${version} is not major ${clientMajor} like the installed @elastic/elasticsearch client; it will refuse to talk to it`);
  }

  const { javaHome, major } = chooseJava(); // before the download: fail fast without Java
  for (const dir of [dirs.dist, dirs.data, dirs.logs, dirs.tmp, dirs.run]) fs.mkdirSync(dir, { recursive: true });
  ensureDistribution(javaHome);
  writeConfig();

  const isRoot = process.getuid?.() === 0;
  const prefix = isRoot ? prepareForRoot() : [];
  const user = isRoot ? ES_USER : os.userInfo().username;
  const heapOpts = heap ? `-Xms${heap} -Xmx${heap}` : '-Xms512m -Xmx1g';
  const childEnv = {
    ...process.env,
    ES_JAVA_HOME: javaHome,
    // Ours first: a JVM takes the last of repeated flags, so the caller's ES_JAVA_OPTS win.
    ES_JAVA_OPTS: [heapOpts, process.env.ES_JAVA_OPTS].filter(Boolean).join(' '),
    // The node's temp files, and the launcher's (it leaves final-flags* folders in /tmp otherwise).
    ES_TMPDIR: dirs.tmp,
    CLI_JAVA_OPTS: [`-Djava.io.tmpdir=${dirs.tmp}`, process.env.CLI_JAVA_OPTS].filter(Boolean).join(' '),
  };
  delete childEnv.JAVA_HOME; // ignored with ES_JAVA_HOME set, but the launcher warns about it

  const cmd = [...prefix, path.join(home, 'bin', 'elasticsearch'), '-d', '-p', pidFile];
  const line = cmd.map(quote).join(' ');
  log(`starting Elasticsearch ${version} on ${url} as ${user} (Java ${major ?? '?'} from ${javaHome})`);
  // -d: the launcher returns once the node has bootstrapped (or failed) and leaves it running.
  // Its output goes to a file, not a pipe: the daemon inherits the descriptors and would hold a
  // pipe open forever.
  const startLog = path.join(dirs.logs, 'start.log');
  const out = fs.openSync(startLog, 'w');
  const res = spawnSync(cmd[0], cmd.slice(1), { env: childEnv, cwd: dirs.logs, stdio: ['ignore', out, out], timeout: START_TIMEOUT_MS });
  fs.closeSync(out);
  if (res.error || res.status !== 0) {
    const why = res.error ? res.error.message : `exit code ${res.status ?? res.signal}`;
    const tails = logTails();
    // The one failure a user causes by the documented ES_VERSION: data written by a newer node.
    const hint = /cannot downgrade a node/.test(tails) ? `\n${dirs.data} was written by a newer Elasticsearch: delete it, or use that version` : '';
    fail(`command failed (${why}):\n  ${line}\n${tails}${hint}`);
  }

  const pid = readPid();
  const health = await waitUntilHealthy(pid, Date.now() + START_TIMEOUT_MS);
  if (!health) {
    const left = pid && alive(pid) ? `; it is left running for a look (\`npm run es:stop\` stops it)` : '';
    fail(`Elasticsearch did not become healthy on ${url} within ${START_TIMEOUT_MS / 1000} s (pid ${pid ?? 'unknown'}${left}):\n  ${line}\n${logTails()}`);
  }
  if (!(await answersAs(pid))) fail(`${url} is answered by ${await describePort()}, not by the node just started (pid ${pid})`);

  const info = (await get('/_nodes/_local/jvm'))?.json;
  const node = info?.nodes && Object.values(info.nodes)[0];
  log(`Elasticsearch ${node?.version ?? version} is ${health.status} (pid ${pid}, user ${user}, Java ${node?.jvm?.version ?? major} from ${javaHome})`);
  log(`data ${dirs.data}, logs ${dirs.logs}`);
  console.log(url);
}

function signal(pid, sig) {
  try {
    process.kill(pid, sig);
  } catch (err) {
    if (err.code !== 'ESRCH') throw err; // ESRCH: it exited in the meantime
  }
}

async function stop() {
  const pid = readPid();
  if (!pid) {
    log(`no node running (no pid file at ${path.relative(root, pidFile)})`);
    return;
  }
  if (!ourNodeHome(pid)) {
    fs.rmSync(pidFile, { force: true });
    log(`no node running (pid ${pid} from the pid file is no Elasticsearch of this repository any more; removed the stale pid file)`);
    return;
  }
  log(`stopping Elasticsearch (pid ${pid})`);
  signal(pid, 'SIGTERM'); // a clean shutdown: flushes and removes the pid file
  const deadline = Date.now() + STOP_TIMEOUT_MS;
  while (alive(pid) && Date.now() < deadline) await sleep(250);
  if (alive(pid)) {
    log(`still running after ${STOP_TIMEOUT_MS / 1000} s; SIGKILL`);
    signal(pid, 'SIGKILL');
    while (alive(pid)) await sleep(100);
  }
  fs.rmSync(pidFile, { force: true }); // Elasticsearch removes it on a clean exit, not on SIGKILL
  log('stopped');
}

async function status() {
  const res = await get('/_cluster/health');
  if (!res) fail(`nothing answers on ${url}`);
  const pid = readPid();
  log(pid && ourNodeHome(pid) && (await answersAs(pid)) ? `our node, pid ${pid}` : `not the node of this repository: ${await describePort()}`);
  console.log(JSON.stringify(res.json ?? res.text, null, 2));
}

const commands = { start, stop, status };
const name = process.argv[2];
if (!Object.hasOwn(commands, name)) fail('usage: node scripts/es.mjs start|stop|status');
await commands[name]();
