/**
 * Configuration: environment variables with defaults (a `.env` file in the working directory
 * is read first). The README's configuration table lists the same variables; keep them in step.
 */

import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { type IndexConfig, indexConfig } from '../indexes/config.ts';
import { embedderFamily } from '../indexes/embeddings/index.ts';
import { legWeightsFor } from '../indexes/fusion.ts';
import { minSimilarityFor } from '../indexes/search.ts';
import { ACCESS_LEVELS, type AccessLevel, type Principal } from '../indexes/types.ts';
import { maxFileBytes } from '../ingest/extract/index.ts';

let dotenvLoaded = false;
export function loadDotenv(): void {
  if (dotenvLoaded) return;
  dotenvLoaded = true;
  const file = path.resolve('.env');
  if (fs.existsSync(file)) process.loadEnvFile?.(file);
}

export interface Config {
  dataDir: string;
  /** The index backend (INNSIKT_INDEX, ELASTICSEARCH_*, INNSIKT_ES_*) and the embedder's variables. */
  index: IndexConfig;
  port: number;
  host: string;
  defaultAccess: AccessLevel;
  vectorWeight: number;
  vectorWeightAllMatched: number;
  minSimilarity: number;
  /** Bearer tokens and the principal each one stands for (INNSIKT_TOKENS). */
  tokens: Map<string, Principal>;
  /** The language model for summaries (server/answer); `none` gives the extractive summary. */
  llm: LlmConfig;
  /** Search results cached in memory (server/result-cache.ts): entries (INNSIKT_CACHE_ENTRIES, 0 = off). */
  cacheEntries: number;
  /** How long a cached result may miss newly added documents (INNSIKT_REFRESH_MS). */
  refreshMs: number;
  /** How long a result that missed additions may still be served while it refreshes (INNSIKT_MAX_STALE_MS). */
  maxStaleMs: number;
  /**
   * CPU priority (nice, 0-19) that `innsikt ingest` and `innsikt reindex` give themselves and
   * their extraction workers (INNSIKT_INGEST_NICE), so a server on the same machine answers
   * searches first; 0 keeps the normal priority. Alone on a machine it changes nothing.
   */
  ingestNice: number;
  /**
   * How long `innsikt ingest` may spend at its end merging the search index's segments
   * (INNSIKT_MERGE_BUDGET_MS; 0: never). A large index is merged over several ingests.
   */
  mergeBudgetMs: number;
  /** The ingestion worker's inbox folder (INNSIKT_INBOX): files dropped there are ingested. */
  inbox: string | null;
  /** Whether `innsikt serve` runs an ingestion worker beside it (INNSIKT_WORKER=on|off; default on). */
  serveWorker: boolean;
  /**
   * The largest file accepted, in bytes (INNSIKT_MAX_FILE_MB, default 200): web uploads are
   * refused above it before they are read whole; extraction (ingest/extract) reads the same variable.
   */
  maxFileBytes: number;
  env: Record<string, string | undefined>;
}

export type LlmProvider = 'none' | 'openai' | 'azure';
export const LLM_PROVIDERS: readonly LlmProvider[] = ['none', 'openai', 'azure'];

export interface LlmConfig {
  provider: LlmProvider; // INNSIKT_LLM
  model: string; // INNSIKT_LLM_MODEL (for Azure: the deployment, unless AZURE_OPENAI_API_DEPLOYMENT_NAME is set)
  temperature: number; // INNSIKT_LLM_TEMPERATURE
  /** Characters of source text sent to the model at most (INNSIKT_LLM_CONTEXT_CHARS). */
  contextChars: number;
  /** The whole model call, first token to last (INNSIKT_LLM_TIMEOUT_MS). */
  timeoutMs: number;
}

function num(env: Record<string, string | undefined>, key: string, dflt: number): number {
  const v = env[key];
  if (v === undefined || v === '') return dflt;
  const n = Number(v);
  if (!Number.isFinite(n)) throw new Error(`${key} must be a number, got "${v}"`);
  return n;
}

function niceness(env: Record<string, string | undefined>, key: string, dflt: number): number {
  const n = num(env, key, dflt);
  if (!Number.isInteger(n) || n < 0 || n > 19) throw new Error(`${key} must be a whole number from 0 (normal priority) to 19 (lowest), got "${env[key]}"`);
  return n;
}

function onOff(env: Record<string, string | undefined>, key: string, dflt: boolean): boolean {
  const v = env[key]?.trim().toLowerCase();
  if (v === undefined || v === '') return dflt;
  if (['on', '1', 'true', 'yes'].includes(v)) return true;
  if (['off', '0', 'false', 'no'].includes(v)) return false;
  throw new Error(`${key} must be on or off, got "${env[key]}"`);
}

function wholeNumber(env: Record<string, string | undefined>, key: string, dflt: number): number {
  const n = num(env, key, dflt);
  if (!Number.isInteger(n) || n < 0) throw new Error(`${key} must be a whole number of at least 0, got "${env[key]}"`);
  return n;
}

/**
 * INNSIKT_TOKENS="token1=internal;token2=group:barnevern,group:helse;token3=admin"
 * Each token maps to a principal: `internal` reads internal documents, `group:x` reads
 * protected documents shared with group x, `admin` reads everything.
 */
export function parseTokens(spec: string | undefined): Map<string, Principal> {
  const map = new Map<string, Principal>();
  if (!spec) return map;
  for (const entry of spec
    .split(';')
    .map((s) => s.trim())
    .filter(Boolean)) {
    const eq = entry.indexOf('=');
    if (eq < 1) throw new Error(`INNSIKT_TOKENS: entry "${entry}" must look like token=internal or token=group:name`);
    const token = entry.slice(0, eq).trim();
    if (token.length < 12) throw new Error(`INNSIKT_TOKENS: token "${token.slice(0, 4)}…" is shorter than 12 characters`);
    const rights = entry
      .slice(eq + 1)
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean);
    // The id names the token without revealing it, and two tokens that start alike stay two
    // people (it owns queued jobs: who may retry them).
    const p: Principal = {
      id: `token:${token.slice(0, 4)}…${crypto.createHash('sha256').update(token).digest('hex').slice(0, 12)}`,
      internal: false,
      groups: [],
    };
    for (const r of rights) {
      if (r === 'internal') p.internal = true;
      else if (r === 'admin') {
        p.admin = true;
        p.internal = true;
      } else if (r.startsWith('group:') && r.length > 6) {
        p.groups.push(r.slice(6));
        p.internal = true;
      } else throw new Error(`INNSIKT_TOKENS: unknown right "${r}" (use internal, admin or group:name)`);
    }
    map.set(token, p);
  }
  return map;
}

export function loadConfig(env: Record<string, string | undefined> = process.env): Config {
  if (env === process.env) loadDotenv();
  const defaultAccess = (env.INNSIKT_DEFAULT_ACCESS || 'public') as AccessLevel;
  if (!ACCESS_LEVELS.includes(defaultAccess)) throw new Error(`INNSIKT_DEFAULT_ACCESS must be one of ${ACCESS_LEVELS.join(', ')}`);
  const dataDir = path.resolve(env.INNSIKT_DATA_DIR || './data');
  const family = embedderFamily(env);
  const legs = legWeightsFor(family);
  return {
    dataDir,
    index: indexConfig(env, dataDir),
    port: num(env, 'PORT', num(env, 'INNSIKT_PORT', 3000)),
    host: env.INNSIKT_HOST || '127.0.0.1',
    defaultAccess,
    // The defaults depend on the embedder: a hashed one breaks ties, a semantic model ranks.
    vectorWeight: num(env, 'INNSIKT_VECTOR_WEIGHT', legs.vector),
    vectorWeightAllMatched: num(env, 'INNSIKT_VECTOR_WEIGHT_MATCHED', legs.vectorWhenAllMatched ?? legs.vector),
    minSimilarity: num(env, 'INNSIKT_MIN_SIMILARITY', minSimilarityFor(family)),
    tokens: parseTokens(env.INNSIKT_TOKENS),
    llm: llmConfig(env),
    cacheEntries: wholeNumber(env, 'INNSIKT_CACHE_ENTRIES', 500),
    refreshMs: wholeNumber(env, 'INNSIKT_REFRESH_MS', 1000),
    maxStaleMs: wholeNumber(env, 'INNSIKT_MAX_STALE_MS', 10_000),
    ingestNice: niceness(env, 'INNSIKT_INGEST_NICE', 10),
    mergeBudgetMs: wholeNumber(env, 'INNSIKT_MERGE_BUDGET_MS', 10_000),
    inbox: env.INNSIKT_INBOX ? path.resolve(env.INNSIKT_INBOX) : null,
    serveWorker: onOff(env, 'INNSIKT_WORKER', true),
    maxFileBytes: checkedMaxFileBytes(env),
    env,
  };
}

/** Extraction's limit (ingest/extract maxFileBytes), refused at start-up when it is not a positive number. */
function checkedMaxFileBytes(env: Record<string, string | undefined>): number {
  if (num(env, 'INNSIKT_MAX_FILE_MB', 200) <= 0) throw new Error(`INNSIKT_MAX_FILE_MB must be above 0, got "${env.INNSIKT_MAX_FILE_MB}"`);
  return maxFileBytes(env);
}

function llmConfig(env: Record<string, string | undefined>): LlmConfig {
  const provider = (env.INNSIKT_LLM?.trim().toLowerCase() || 'none') as LlmProvider;
  if (!LLM_PROVIDERS.includes(provider)) throw new Error(`INNSIKT_LLM must be one of ${LLM_PROVIDERS.join(', ')}, got "${env.INNSIKT_LLM}"`);
  const contextChars = num(env, 'INNSIKT_LLM_CONTEXT_CHARS', 12_000);
  const timeoutMs = num(env, 'INNSIKT_LLM_TIMEOUT_MS', 30_000);
  if (contextChars < 500) throw new Error('INNSIKT_LLM_CONTEXT_CHARS must be at least 500');
  if (timeoutMs < 1) throw new Error('INNSIKT_LLM_TIMEOUT_MS must be positive');
  return {
    provider,
    model: env.INNSIKT_LLM_MODEL?.trim() || 'gpt-4o-mini',
    temperature: num(env, 'INNSIKT_LLM_TEMPERATURE', 0.1),
    contextChars,
    timeoutMs,
  };
}

/** The search options the configuration sets (one place for the CLI, the server and tests). */
export function searchOptions(config: Config) {
  return {
    weights: { bm25: 1, vector: config.vectorWeight, vectorWhenAllMatched: config.vectorWeightAllMatched },
    minSimilarity: config.minSimilarity,
    // A semantic model's weight depends on whether BM25's best hit holds every query word (indexes/search.ts).
    confidentBm25: embedderFamily(config.env) === 'semantic' ? ('best-covers' as const) : ('found' as const),
  };
}
