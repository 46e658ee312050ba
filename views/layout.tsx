/**
 * The page frame: head, header with the product name and the access badge, main landmark,
 * footer. The route prepends '<!DOCTYPE html>' itself.
 */
import type { JSX } from 'hono/jsx/jsx-runtime';
import type { Principal } from '../indexes/types.ts';

export interface LayoutProps {
  title: string;
  principal: Principal;
  children?: any;
  /**
   * When given (also ""), the header carries a compact search box pre-filled with `q`.
   * The search page leaves it out: it has its own, larger form.
   */
  q?: string;
}

export function AccessBadge(props: { principal: Principal }) {
  const internal = props.principal.internal || props.principal.admin === true;
  return <span class={internal ? 'tilgang tilgang-intern' : 'tilgang tilgang-offentlig'}>{internal ? 'Intern tilgang' : 'Offentlig innsyn'}</span>;
}

function HeaderSearch(props: { q: string }) {
  return (
    <form action="/" method="get" role="search" class="toppsok" aria-label="Søk">
      <label for="toppsok-q" class="skjult">
        Søk i protokoller og rapporter
      </label>
      <input type="search" id="toppsok-q" name="q" value={props.q} placeholder="Søk" autocomplete="off" />
      <button type="submit">Søk</button>
    </form>
  );
}

export function Layout(props: LayoutProps): JSX.Element {
  const { principal } = props;
  const internal = principal.internal || principal.admin === true;
  return (
    <html lang="nb">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <title>{`${props.title} – Innsiktsbanken`}</title>
        <meta name="description" content="Søk i møteprotokoller og innsiktsrapporter for Bydel Gamle Oslo." />
        <link rel="icon" href="data:," />
        <link rel="stylesheet" href="/static/style.css" />
        <script src="/static/htmx.js" defer></script>
      </head>
      <body>
        <a class="hopp" href="#innhold">
          Hopp til innhold
        </a>
        <header class="topp">
          <div class="ramme topp-innhold">
            <div class="merkevare">
              <a href="/" class="produkt">
                Innsiktsbanken
              </a>
              <p class="undertittel">Bydel Gamle Oslo – møteprotokoller og innsiktsrapporter</p>
            </div>
            <div class="topp-verktoy">
              {props.q !== undefined ? <HeaderSearch q={props.q} /> : null}
              <AccessBadge principal={principal} />
              {internal ? (
                <a href="/innlesing" class="innlesing-lenke">
                  Innlesing
                </a>
              ) : null}
              {internal ? (
                <form action="/logg-ut" method="post" class="logg-ut">
                  <button type="submit" class="lenkeknapp">
                    Logg ut
                  </button>
                </form>
              ) : (
                <a href="/logg-inn" class="logg-inn">
                  Logg inn
                </a>
              )}
            </div>
          </div>
        </header>
        <main id="innhold" class="ramme" tabindex={-1}>
          {props.children}
        </main>
        <footer class="bunn">
          <div class="ramme">
            <p>
              Innsiktsbanken – Bydel Gamle Oslo, Oslo kommune.{' '}
              {internal ? 'Du ser også interne dokumenter. Ikke del innhold som ikke er offentlig.' : 'Du ser dokumenter som er offentlige.'}
            </p>
          </div>
        </footer>
      </body>
    </html>
  );
}
