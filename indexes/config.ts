/**
 * Which index backend to open and how: read once from the environment (server/config.ts puts
 * it into the typed Config), handed to openIndex(). The README's configuration table lists
 * the same variables.
 *
 * | variable                   | meaning                                                               | default         |
 * |----------------------------|-----------------------------------------------------------------------|-----------------|
 * | INNSIKT_INDEX              | embedded (SQLite in the data directory) or elasticsearch              | embedded        |
 * | ELASTICSEARCH_URL          | the cluster (one URL, or several separated by commas)                 | http://127.0.0.1:9200 |
 * | ELASTICSEARCH_API_KEY      | API key (base64 "id:key" as Kibana shows it)                          |                 |
 * | ELASTICSEARCH_USERNAME / _PASSWORD | basic authentication instead of an API key                    |                 |
 * | ELASTICSEARCH_CA_FILE      | PEM file of the CA that signed the cluster's certificate              |                 |
 * | INNSIKT_ES_PREFIX          | every index and alias name starts with it (several installations or test runs share a cluster) | innsikt |
 * | INNSIKT_ES_SHARDS          | primary shards of each chunk index                                    | 1               |
 * | INNSIKT_ES_REPLICAS        | replicas of every index                                               | 0               |
 */
import path from 'node:path';

export type IndexBackend = 'embedded' | 'elasticsearch';
export const INDEX_BACKENDS: readonly IndexBackend[] = ['embedded', 'elasticsearch'];

export interface ElasticsearchConfig {
  nodes: string[];
  apiKey?: string;
  username?: string;
  password?: string;
  caFile?: string;
  /** Every index and alias name starts with `${prefix}-`. */
  prefix: string;
  shards: number;
  replicas: number;
}

export interface IndexConfig {
  backend: IndexBackend;
  /** The embedded store's file (in the data directory). */
  indexFile: string;
  elasticsearch: ElasticsearchConfig;
  /** The embedder's variables (indexes/embeddings/index.ts reads them). */
  embedderEnv: Record<string, string | undefined>;
}

function get(env: Record<string, string | undefined>, key: string): string | undefined {
  const v = env[key]?.trim();
  return v ? v : undefined;
}

function count(env: Record<string, string | undefined>, key: string, dflt: number, min: number): number {
  const v = get(env, key);
  if (v === undefined) return dflt;
  if (!/^\d+$/.test(v) || Number(v) < min) throw new Error(`${key} must be a whole number of at least ${min}, got "${v}"`);
  return Number(v);
}

export function indexConfig(env: Record<string, string | undefined>, dataDir: string): IndexConfig {
  const backend = (get(env, 'INNSIKT_INDEX') ?? 'embedded').toLowerCase() as IndexBackend;
  if (!INDEX_BACKENDS.includes(backend)) throw new Error(`INNSIKT_INDEX must be embedded or elasticsearch, got "${env.INNSIKT_INDEX}"`);
  const prefix = get(env, 'INNSIKT_ES_PREFIX') ?? 'innsikt';
  // Elasticsearch index names: lowercase, no leading - _ +, none of \ / * ? " < > | , # : or space.
  if (!/^[a-z0-9][a-z0-9_.-]*$/.test(prefix))
    throw new Error(`INNSIKT_ES_PREFIX must be lowercase letters, digits, - _ or ., starting with a letter or digit, got "${prefix}"`);
  const nodes = (get(env, 'ELASTICSEARCH_URL') ?? 'http://127.0.0.1:9200')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  for (const n of nodes) {
    if (!/^https?:\/\//.test(n)) throw new Error(`ELASTICSEARCH_URL must be http(s)://host:port, got "${n}"`);
  }
  const username = get(env, 'ELASTICSEARCH_USERNAME');
  const password = get(env, 'ELASTICSEARCH_PASSWORD');
  if (!!username !== !!password) throw new Error('ELASTICSEARCH_USERNAME and ELASTICSEARCH_PASSWORD go together: set both, or neither');
  return {
    backend,
    indexFile: path.join(dataDir, 'index.sqlite'),
    elasticsearch: {
      nodes,
      apiKey: get(env, 'ELASTICSEARCH_API_KEY'),
      username,
      password,
      caFile: get(env, 'ELASTICSEARCH_CA_FILE'),
      prefix,
      shards: count(env, 'INNSIKT_ES_SHARDS', 1, 1),
      replicas: count(env, 'INNSIKT_ES_REPLICAS', 0, 0),
    },
    embedderEnv: env,
  };
}
