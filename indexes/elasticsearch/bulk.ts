/**
 * The bulk writer: operations sent in `_bulk` requests of at most BATCH_BYTES, items the
 * cluster refuses for load (429, 503) sent again with exponential backoff, and every item that
 * still fails reported with its reason. It never refreshes: the store decides when writes
 * become visible (store.ts), so a document is never searchable half written.
 */
import type { Client } from '@elastic/elasticsearch';

export type BulkOp =
  | { op: 'index'; index: string; id: string; routing?: string; doc: Record<string, unknown>; tag?: string }
  | { op: 'delete'; index: string; id: string; routing?: string; tag?: string };

export interface BulkFailure {
  op: BulkOp;
  status: number;
  reason: string;
}

/** Bytes of request body per `_bulk` request (Elastic's guidance: a few MB to tens of MB). */
const BATCH_BYTES = 8 * 1024 * 1024;
/** Tries for an item refused for load: 0.1, 0.2, 0.4, 0.8, 1.6, 3.2 s between them. */
const MAX_TRIES = 7;
const FIRST_BACKOFF_MS = 100;

const RETRYABLE = new Set([429, 503]);

/** The operation's lines of the request body (serialised once, also for its size). */
function lines(op: BulkOp): string {
  const meta = { _index: op.index, _id: op.id, ...(op.routing ? { routing: op.routing } : {}) };
  return op.op === 'index' ? `${JSON.stringify({ index: meta })}\n${JSON.stringify(op.doc)}\n` : `${JSON.stringify({ delete: meta })}\n`;
}

/**
 * Run the operations; resolves with the items that failed for good. A delete of a document that
 * is not there is not a failure. `sleep` is for tests.
 */
export async function bulk(client: Client, ops: BulkOp[], opts: { sleep?: (ms: number) => Promise<void> } = {}): Promise<BulkFailure[]> {
  const sleep = opts.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  const failed: BulkFailure[] = [];
  let pending = ops.map((op) => ({ op, text: lines(op) }));
  for (let attempt = 1; pending.length; attempt++) {
    const retry: typeof pending = [];
    for (const entries of batches(pending)) {
      const batch = entries.map((e) => e.op);
      const body = entries.map((e) => e.text).join('');
      let res: Awaited<ReturnType<Client['bulk']>>;
      try {
        res = await client.bulk({ body } as never);
      } catch (err) {
        const status = (err as { meta?: { statusCode?: number } }).meta?.statusCode ?? 0;
        if (RETRYABLE.has(status) && attempt < MAX_TRIES) {
          retry.push(...entries);
          continue;
        }
        for (const op of batch) failed.push({ op, status, reason: (err as Error).message });
        continue;
      }
      res.items.forEach((item, i) => {
        const r = item.index ?? item.delete ?? item.create ?? item.update;
        const op = batch[i];
        if (!r || !r.error) return;
        if (op.op === 'delete' && r.status === 404) return;
        if (RETRYABLE.has(r.status) && attempt < MAX_TRIES) retry.push(entries[i]);
        else failed.push({ op, status: r.status, reason: `${r.error.type}: ${r.error.reason ?? ''}`.trim() });
      });
    }
    pending = retry;
    if (pending.length) await sleep(FIRST_BACKOFF_MS * 2 ** (attempt - 1));
  }
  return failed;
}

/** Operations cut into requests of at most BATCH_BYTES (an operation larger than that goes alone). */
function* batches<T extends { text: string }>(entries: T[]): Generator<T[]> {
  let batch: T[] = [];
  let bytes = 0;
  for (const e of entries) {
    if (batch.length && bytes + e.text.length > BATCH_BYTES) {
      yield batch;
      batch = [];
      bytes = 0;
    }
    batch.push(e);
    bytes += e.text.length;
  }
  if (batch.length) yield batch;
}
