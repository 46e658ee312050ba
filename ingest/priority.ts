import fs from 'node:fs';
import os from 'node:os';

/**
 * Ingestion is background work: give this process a lower CPU priority (nice) before its
 * extraction workers start, so they inherit it (on Linux a thread's priority is its own, and
 * new threads take their creator's). A server beside it then keeps answering searches quickly;
 * alone on the machine the ingestion runs as fast as before.
 */
export function lowerPriority(nice: number, warn: (msg: string) => void = (m) => console.error(m)): void {
  if (nice <= 0) return;
  // Linux: every thread that already runs (V8's and libuv's helpers too), by its id.
  let threads = [0];
  try {
    threads = fs.readdirSync('/proc/self/task').map(Number);
  } catch {
    // not Linux: the process's priority
  }
  try {
    for (const tid of threads) if (os.getPriority(tid) < nice) os.setPriority(tid, nice);
  } catch (err) {
    warn(`note: could not lower the priority to nice ${nice}: ${(err as Error).message}`);
  }
}
