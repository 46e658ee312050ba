/**
 * SQLite's varints as FTS5 writes them in its records (the averages record, %_docsize): big-endian
 * groups of 7 bits, the high bit set while more follow. Read in full (every value is a count of
 * rows or tokens, far below 2^53).
 */
export function sqliteVarints(blob: Uint8Array): number[] {
  const out: number[] = [];
  for (let i = 0; i < blob.length; ) {
    let x = 0;
    for (;;) {
      const b = blob[i++];
      x = x * 128 + (b & 0x7f);
      if (!(b & 0x80) || i >= blob.length) break;
    }
    out.push(x);
  }
  return out;
}
