/**
 * RP-Initiated Logout 1.0 (the discovery document's end_session_endpoint), GET and POST at /oauth2/logout:
 * `id_token_hint`, `client_id`, `post_logout_redirect_uri` (a registered `post_logout_redirect_uris` entry, exact
 * match, §3: never an open redirect), `state`. A valid hint for the signed-in session (its sid, or its user) ends
 * the server-side session at once (src/services/sessions.ts); otherwise the user confirms on a CSRF-protected page
 * (§2: the OP SHOULD ask when the request may not come from the user's app).
 */
import type { Context } from 'hono';
import type { JSX } from 'hono/jsx/jsx-runtime';
import { subjectFor } from '../oauth/subject';
import { collectParams, formActionSource, redirectTo } from '../services/authorization-request';
import { sidOf } from '../services/oidc-authorize';
import { endSession } from '../services/sessions';
import { type Client, getClient } from '../storage/clients';
import { readIdTokenHint } from '../tokens/id-token-hint';
import { getKeyRing } from '../tokens/keyring';
import type { AppEnv } from '../types';
import { assertCsrf, csrfToken } from '../ui/csrf';
import { LoggedOutPage, LogoutConfirmPage } from '../ui/logout';
import { PageError } from '../ui/page-error';
import { page, pageApp, readPageForm, setFormAction } from '../ui/render';
import { clearSessionCookie, readSession } from '../ui/session';

export const rpLogoutRoutes = pageApp();

type Ctx = Context<AppEnv>;
const CARRIED = ['id_token_hint', 'client_id', 'post_logout_redirect_uri', 'state', 'ui_locales'] as const;

interface LogoutRequest {
  client: Client | null;
  /** Where to send the browser afterwards, already checked against the client's registration. */
  redirect: string | null;
  state: string | null;
  /** The verified hint's subject and sid, when one was sent. */
  hint: { sub: string; sid: string | null } | null;
  params: Record<string, string>;
}

/** Validates the request; anything wrong is an error page, never a redirect (§3). */
async function validate(c: Ctx, params: Map<string, string>, repeated: Set<string>): Promise<LogoutRequest> {
  if (repeated.size > 0) throw new PageError(400, 'Invalid sign-out request', 'A parameter is repeated.');
  const config = c.get('config');
  let hint: LogoutRequest['hint'] = null;
  let clientId = params.get('client_id') ?? null;
  const rawHint = params.get('id_token_hint');
  if (rawHint !== undefined) {
    const read = rawHint.length <= 8192 ? await readIdTokenHint(await getKeyRing(c.env), config.issuer, rawHint) : null;
    if (read?.aud.length !== 1)
      throw new PageError(400, 'Invalid sign-out request', 'The id_token_hint is not an ID token of this server.');
    if (clientId !== null && clientId !== read.aud[0])
      throw new PageError(400, 'Invalid sign-out request', 'The client_id differs from the ID token’s audience.');
    clientId = read.aud[0];
    hint = { sub: read.sub, sid: read.sid };
  }
  const client = clientId ? await getClient(c.env.DB, c.env.CACHE, clientId) : null;
  if (clientId && client?.status !== 'active')
    throw new PageError(400, 'Unknown application', 'The application that sent you here is not registered.');
  const wanted = params.get('post_logout_redirect_uri') ?? null;
  if (wanted !== null && !(client?.oidc?.post_logout_redirect_uris ?? []).includes(wanted)) {
    throw new PageError(
      400,
      'Wrong return address',
      'The application asked to send you to an address it has not registered for after sign-out; you were not sent there.',
    );
  }
  const carried: Record<string, string> = {};
  for (const name of CARRIED) {
    const v = params.get(name);
    if (v !== undefined) carried[name] = v;
  }
  return { client, redirect: wanted, state: params.get('state') ?? null, hint, params: carried };
}

/** The registered post-logout URI, with `state` when one was sent (RP-Initiated Logout §3). */
const back = (req: LogoutRequest) =>
  req.state === null ? req.redirect! : redirectTo(req.redirect!, { state: req.state });

/** Ends the session (if any) and answers: the registered redirect with state, or a page. */
async function finish(c: Ctx, req: LogoutRequest, hash: string | null, status: 302 | 303): Promise<Response> {
  if (hash) await endSession(c.env, hash);
  clearSessionCookie(c);
  if (req.redirect) return c.redirect(back(req), status);
  return page(c, LoggedOutPage({ signedOut: true }) as JSX.Element);
}

/** Whether the verified hint names this session (its sid) or at least its user. */
async function hintMatches(c: Ctx, req: LogoutRequest, session: { hash: string; user: { id: string } }) {
  if (!req.hint || !req.client) return false;
  if (req.hint.sid !== null) return req.hint.sid === (await sidOf(session.hash));
  return req.hint.sub === (await subjectFor(c.get('config'), req.client, session.user.id));
}

rpLogoutRoutes.get('/', async (c) => {
  const { params, repeated } = collectParams(new URL(c.req.url).searchParams);
  const req = await validate(c, params, repeated);
  const session = await readSession(c);
  // Nobody is signed in here: nothing to end, go back at once.
  if (!session) return finish(c, req, null, 302);
  if (await hintMatches(c, req, session)) return finish(c, req, session.hash, 302);
  if (req.redirect) setFormAction(c, [formActionSource(req.redirect)]);
  const node = LogoutConfirmPage({
    csrf: csrfToken(c),
    email: session.user.email,
    appName: req.client?.name ?? null,
    params: req.params,
  });
  return page(c, node as JSX.Element);
});

rpLogoutRoutes.post('/', async (c) => {
  const { params, repeated } = await readPageForm(c);
  await assertCsrf(c, params);
  const decision = params.get('decision');
  params.delete('csrf');
  params.delete('decision');
  const req = await validate(c, params, repeated);
  const session = await readSession(c);
  if (decision === 'logout') return finish(c, req, session?.hash ?? null, 303);
  if (decision === 'stay') {
    if (req.redirect) return c.redirect(back(req), 303);
    return page(c, LoggedOutPage({ signedOut: false }) as JSX.Element);
  }
  throw new PageError(400, 'No choice was made', 'Go back and choose Sign out or Stay signed in.');
});

rpLogoutRoutes.all('/', () => {
  throw new PageError(405, 'Not allowed', 'This address accepts GET and POST only.');
});
