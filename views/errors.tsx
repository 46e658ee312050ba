/** Error pages (404, 500, …): a plain message and a way back to the search. */
import type { JSX } from 'hono/jsx/jsx-runtime';
import type { Principal } from '../indexes/types.ts';
import { Layout } from './layout.tsx';

export interface ErrorPageProps {
  status: number;
  title: string;
  message: string;
  principal: Principal;
}

export function ErrorPage(p: ErrorPageProps): JSX.Element {
  return (
    <Layout title={p.title} principal={p.principal} q="">
      <div class="feilside">
        <p class="feilkode">Feilkode {String(p.status)}</p>
        <h1>{p.title}</h1>
        <p>{p.message}</p>
        <p>
          <a href="/" class="knapp">
            Til søket
          </a>
        </p>
      </div>
    </Layout>
  );
}
