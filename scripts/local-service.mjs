// Small helpers shared by the scripts that run a local service in the background
// (scripts/es.mjs: Elasticsearch, scripts/embeddings.mjs: the e5 model server). Node built-ins only.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';

/** A command-line argument quoted for a shell, for showing the exact command that ran. */
export function quote(arg) {
  return /^[\w@%+=:,./-]+$/.test(arg) ? arg : `'${arg.replace(/'/g, `'\\''`)}'`;
}

export const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** Whether anything accepts TCP connections on 127.0.0.1:port (our service or not). */
export function portTaken(port) {
  return new Promise((resolve) => {
    const socket = net.connect({ host: '127.0.0.1', port });
    const done = (taken) => {
      socket.destroy();
      resolve(taken);
    };
    socket.setTimeout(2000, () => done(true));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

/**
 * Runs a command to completion. Returns its stdout, or { error } saying exactly which command
 * line failed, why, and the last lines of its output (and a hint of what to check).
 */
export function runCommand(cmd, args, { hint, tail = 40, ...options } = {}) {
  const line = [cmd, ...args].map(quote).join(' ');
  const res = spawnSync(cmd, args, { encoding: 'utf8', maxBuffer: 64 << 20, ...options });
  if (res.error || res.status !== 0) {
    const output = `${res.stdout ?? ''}${res.stderr ?? ''}`.trim().split('\n').slice(-tail).join('\n');
    const why = res.error ? res.error.message : res.signal ? `killed by ${res.signal}` : `exit code ${res.status}`;
    return { error: `command failed (${why}):\n  ${line}${output ? `\n${output}` : ''}${hint ? `\n${hint}` : ''}` };
  }
  return { stdout: res.stdout ?? '' };
}

/** The pid in a pid file, or null when there is none (or it holds no pid). */
export function readPidFile(file) {
  try {
    const pid = Number(fs.readFileSync(file, 'utf8').trim());
    return Number.isInteger(pid) && pid > 0 ? pid : null;
  } catch {
    return null;
  }
}
