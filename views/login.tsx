/** Sign-in for staff: an access token from INNSIKT_TOKENS, kept in an HttpOnly cookie. */
import type { JSX } from 'hono/jsx/jsx-runtime';
import type { Principal } from '../indexes/types.ts';
import { Layout } from './layout.tsx';

export function LoginPage(p: { principal: Principal; error: string | null }): JSX.Element {
  return (
    <Layout title="Logg inn" principal={p.principal} q="">
      <div class="smal">
        <h1>Logg inn for ansatte og folkevalgte</h1>
        <p>Med tilgangsnøkkel ser du også interne og skjermede dokumenter du har rett til å lese.</p>
        {p.error ? (
          <p class="feil" role="alert">
            {p.error}
          </p>
        ) : null}
        <form action="/logg-inn" method="post">
          <label for="token">Tilgangsnøkkel</label>
          <input id="token" name="token" type="password" autocomplete="current-password" required />
          <button type="submit">Logg inn</button>
        </form>
      </div>
    </Layout>
  );
}
