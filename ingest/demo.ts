/**
 * The demo corpus (fixtures/demo): invented protocols and reports of Bydel Gamle Oslo, rendered
 * to real PDFs by fixtures/render.ts. Its manifest gives each file's access level, so the demo
 * also shows internal and protected documents being kept from the public.
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { AccessLevel } from '../indexes/types.ts';
import { type IngestContext, type IngestResult, ingestPaths } from './pipeline.ts';

export const DEMO_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../fixtures/demo');

export interface DemoManifest {
  documents: { file: string; title: string; kind: string; body: string | null; date: string | null; access: AccessLevel; groups?: string[] }[];
  canaries: { word: string; file: string; access: AccessLevel }[];
}

export function readDemoManifest(dir = DEMO_DIR): DemoManifest {
  return JSON.parse(fs.readFileSync(path.join(dir, 'manifest.json'), 'utf8')) as DemoManifest;
}

/** Ingest every demo file with the access its manifest names. */
export async function ingestDemo(ctx: IngestContext, dir = DEMO_DIR, onFile?: (r: IngestResult) => void): Promise<IngestResult[]> {
  const manifest = readDemoManifest(dir);
  const results: IngestResult[] = [];
  // Group by access so each group is one batch (files in a batch are processed in parallel).
  const batches = new Map<string, { access: AccessLevel; groups: string[]; files: string[] }>();
  for (const d of manifest.documents) {
    const groups = d.access === 'protected' ? (d.groups ?? []) : [];
    const key = `${d.access}|${groups.join(',')}`;
    if (!batches.has(key)) batches.set(key, { access: d.access, groups, files: [] });
    batches.get(key)!.files.push(path.join(dir, d.file));
  }
  for (const b of batches.values()) {
    results.push(...(await ingestPaths(b.files, ctx, { access: b.access, groups: b.groups, onFile: (r) => onFile?.(r) })));
  }
  return results;
}
