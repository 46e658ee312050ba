/**
 * The Elasticsearch node the Elasticsearch backend is tested against (`npm run es:start`,
 * scripts/es.mjs): it answers, it is healthy, and it runs the major version of the installed
 * @elastic/elasticsearch client (a client refuses servers of another major).
 *
 * Runs when ELASTICSEARCH_URL is set. Without it the suite is skipped with the reason, unless
 * INNSIKT_ES_REQUIRED=1 (CI), where a missing node must fail instead of passing unnoticed.
 */

import fs from 'node:fs';
import path from 'node:path';
import { Client } from '@elastic/elasticsearch';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const ROOT = path.resolve(import.meta.dirname, '..');
const NODE = process.env.ELASTICSEARCH_URL;
const REQUIRED = process.env.INNSIKT_ES_REQUIRED === '1';
const SKIP_REASON = 'ELASTICSEARCH_URL not set: Elasticsearch tests skipped (`npm run es:start` prints the URL)';
const MISSING = 'INNSIKT_ES_REQUIRED=1 but ELASTICSEARCH_URL is missing: run `npm run es:start` and export the URL it prints as ELASTICSEARCH_URL';
if (!NODE && !REQUIRED) console.warn(`[skip] ${SKIP_REASON}`);

const clientVersion: string = JSON.parse(fs.readFileSync(path.join(ROOT, 'node_modules/@elastic/elasticsearch/package.json'), 'utf8')).version;

describe.skipIf(!NODE && !REQUIRED)(`Elasticsearch node (${NODE ?? (REQUIRED ? 'ELASTICSEARCH_URL missing' : SKIP_REASON)})`, () => {
  let client: Client;

  beforeAll(() => {
    if (!NODE) throw new Error(MISSING);
    client = new Client({ node: NODE });
  });

  afterAll(async () => {
    await client?.close();
  });

  it('is healthy (yellow or green)', async () => {
    const health = await client.cluster.health({ wait_for_status: 'yellow', timeout: '30s' });
    expect(health.timed_out).toBe(false);
    expect(['yellow', 'green']).toContain(health.status);
  });

  // client.info() (GET /) is not used: the test node's distribution answers GET / with 405.
  it(`runs the major version of the @elastic/elasticsearch client (${clientVersion})`, async () => {
    const info = await client.nodes.info();
    const versions = Object.values(info.nodes).map((node) => node.version);
    expect(versions.length).toBeGreaterThan(0);
    for (const version of versions) expect(version.split('.')[0], `server ${version}, client ${clientVersion}`).toBe(clientVersion.split('.')[0]);
  });
});
