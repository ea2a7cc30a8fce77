/**
 * /demo/callback: a redirect URI for the demo client of `npm start`, so a newcomer can click through the
 * authorization code flow without writing a client. It exists only when DEMO_CALLBACK_CLIENT_ID is set (`npm
 * start` passes it with `--var`); otherwise it is the same 404 as any unknown path, so no deploy has it.
 */
import type { JSX } from 'hono/jsx/jsx-runtime';
import { DemoCallbackPage } from '../ui/demo-callback';
import { page, pageApp } from '../ui/render';

export const demoRoutes = pageApp();

/** RFC 7636 Appendix B's example verifier, the one the README's walkthrough sends the challenge of. */
export const README_CODE_VERIFIER = 'dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk';

/** Longest value shown; longer ones are cut (nothing legitimate comes near it). */
const MAX_SHOWN = 2000;

/** POSIX shell single quotes: the only character to handle inside them is the quote itself. */
export const shellQuote = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

demoRoutes.get('/callback', async (c) => {
  const config = c.get('config');
  const clientId = config.demoCallbackClientId;
  if (!clientId) return c.notFound();
  const q = (name: string) => c.req.query(name)?.slice(0, MAX_SHOWN);
  const code = q('code');
  // The token request must repeat the redirect_uri of the authorization request (RFC 6749 §4.1.3): this page's
  // own URL, whichever loopback host and port the browser used.
  const redirectUri = `${new URL(c.req.url).origin}/demo/callback`;
  const curl = code
    ? [
        `curl -u ${shellQuote(`${clientId}:`)}"$(node -p "require('./demo-credentials.json').client_secret")" ${shellQuote(`${config.issuer}/oauth2/token`)}`,
        `  -d grant_type=authorization_code`,
        `  --data-urlencode ${shellQuote(`code=${code}`)}`,
        `  --data-urlencode ${shellQuote(`redirect_uri=${redirectUri}`)}`,
        `  --data-urlencode ${shellQuote(`code_verifier=${README_CODE_VERIFIER}`)}`,
      ].join(' \\\n')
    : null;
  const props = {
    code,
    state: q('state'),
    iss: q('iss'),
    error: q('error'),
    errorDescription: q('error_description'),
    issuer: config.issuer,
    curl,
  };
  return page(c, DemoCallbackPage(props) as JSX.Element);
});
