/**
 * Who is asking. Anonymous callers are the public; a bearer token (API) or the
 * `innsikt_token` cookie (browser, set by /logg-inn) maps to a configured principal.
 * Unknown tokens are rejected rather than treated as anonymous, so a typo never looks like
 * "no internal documents exist".
 */

import crypto from 'node:crypto';
import type { Context } from 'hono';
import { getCookie } from 'hono/cookie';
import { type Principal, PUBLIC_PRINCIPAL } from '../indexes/types.ts';

export const TOKEN_COOKIE = 'innsikt_token';

export class UnknownTokenError extends Error {}

/** Constant-time lookup, so response timing does not reveal how much of a token was right. */
export function lookupToken(tokens: Map<string, Principal>, presented: string): Principal | null {
  const a = crypto.createHash('sha256').update(presented).digest();
  let found: Principal | null = null;
  for (const [token, principal] of tokens) {
    const b = crypto.createHash('sha256').update(token).digest();
    if (crypto.timingSafeEqual(a, b)) found = principal;
  }
  return found;
}

export function principalFrom(c: Context, tokens: Map<string, Principal>): Principal {
  const auth = c.req.header('authorization');
  let presented: string | undefined;
  if (auth) {
    const m = auth.match(/^Bearer\s+(\S+)$/i);
    if (!m) throw new UnknownTokenError('Authorization header must be "Bearer <token>"');
    presented = m[1];
  } else {
    presented = getCookie(c, TOKEN_COOKIE) || undefined;
  }
  if (!presented) return PUBLIC_PRINCIPAL;
  const p = lookupToken(tokens, presented);
  if (!p) throw new UnknownTokenError('Unknown or expired access token');
  return p;
}
