/**
 * Starting the web server: open the index, listen at once (/healthz answers 503 until ready),
 * ingest the demo corpus on the first start when asked, then report ready.
 */
import { serve } from '@hono/node-server';
import { createApp } from './app.ts';
import { openIndex } from '../indexes/open.ts';
import { ingestDemo } from '../ingest/demo.ts';
import { shutdownExtractors } from '../ingest/extract/index.ts';
import type { Config } from './config.ts';

export async function startServer(config: Config, opts: { demo?: boolean } = {}) {
  const idx = await openIndex(config);
  let ready = false;
  const app = createApp({ ...idx, config, isReady: () => ready });
  const server = serve({ fetch: app.fetch, port: config.port, hostname: config.host });
  await new Promise<void>((resolve, reject) => {
    server.once('listening', () => resolve());
    server.once('error', (err: NodeJS.ErrnoException) =>
      reject(err.code === 'EADDRINUSE' ? new Error(`port ${config.port} is in use: choose another with --port or PORT`) : err),
    );
  });
  const url = `http://${config.host === '0.0.0.0' ? 'localhost' : config.host}:${config.port}`;
  console.log(`Innsiktsbanken listening on ${url} (data: ${config.dataDir})`);

  if (opts.demo && idx.store.stats().documents === 0) {
    console.log('Empty index: ingesting the demo corpus from fixtures/demo ...');
    const t0 = performance.now();
    const results = await ingestDemo({ ...idx, defaultAccess: config.defaultAccess });
    await shutdownExtractors();
    const failed = results.filter((r) => r.status === 'failed');
    for (const f of failed) console.error(`  failed ${f.file}: ${f.reason}`);
    console.log(`Demo corpus ready: ${results.length - failed.length} documents in ${((performance.now() - t0) / 1000).toFixed(1)} s.`);
  }
  ready = true;
  console.log(`Ready: open ${url}`);

  const stop = () => {
    server.close();
    idx.store.close();
    process.exit(0);
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  return { server, app, close: () => new Promise<void>((r) => server.close(() => { idx.store.close(); r(); })) };
}
