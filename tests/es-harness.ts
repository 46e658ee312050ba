/**
 * Elasticsearch for tests: a real cluster (`npm run es:start`; CI starts one and sets
 * ELASTICSEARCH_URL and INNSIKT_ES_REQUIRED=1). Without ELASTICSEARCH_URL the Elasticsearch
 * tests skip with the reason, unless INNSIKT_ES_REQUIRED=1, when they fail instead. Every store
 * gets a prefix of its own (INNSIKT_ES_PREFIX), so tests share one cluster without meeting, and
 * its indices are deleted afterwards.
 */
import { indexConfig } from '../indexes/config.ts';
import { type ElasticsearchStore, openElasticsearchStore } from '../indexes/elasticsearch/store.ts';
import type { Store } from '../indexes/store.ts';

export const ES_URL = process.env.ELASTICSEARCH_URL?.trim() || null;
export const ES_REQUIRED = process.env.INNSIKT_ES_REQUIRED === '1';
/** Why the Elasticsearch tests skip (null: they run, or fail when required and missing). */
export const ES_SKIP: string | null =
  ES_URL || ES_REQUIRED ? null : 'ELASTICSEARCH_URL is not set (npm run es:start, then ELASTICSEARCH_URL=http://127.0.0.1:9200)';

let counter = 0;

export function testPrefix(): string {
  return `innsikt-test-${process.pid}-${Date.now().toString(36)}-${counter++}`;
}

/** The environment a CLI or server child process needs to use the same test indices. */
export function esEnv(prefix: string): Record<string, string> {
  if (!ES_URL) throw new Error('INNSIKT_ES_REQUIRED=1 but ELASTICSEARCH_URL is missing: start a node with npm run es:start');
  return { INNSIKT_INDEX: 'elasticsearch', ELASTICSEARCH_URL: ES_URL, INNSIKT_ES_PREFIX: prefix };
}

export async function openTestEs(prefix = testPrefix()): Promise<ElasticsearchStore> {
  return openElasticsearchStore(indexConfig(esEnv(prefix), '/nonexistent').elasticsearch);
}

/** Delete a test prefix's indices and close the store. */
export async function dropEs(store: Store): Promise<void> {
  await (store as ElasticsearchStore).destroy();
}

export async function reopenEs(old: Store): Promise<Store> {
  return openTestEs((old as ElasticsearchStore).names.prefix);
}

/** The Elasticsearch entry of a test suite that runs against every backend. */
export function esBackend() {
  return { name: 'elasticsearch', skip: ES_SKIP, open: () => openTestEs(), dispose: dropEs };
}

export async function disposeAll(): Promise<void> {}
