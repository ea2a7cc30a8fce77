/**
 * The authorization endpoint (RFC 6749 §3.1, §4.1.1–4.1.2): GET validates the request and shows the consent
 * page (after sign-in); POST carries the user's decision. The code goes back with `state` and `iss`
 * (RFC 9207). Nothing goes back to the client before a user is signed in, errors included (RFC 9700
 * §4.11.2). A remembered consent skips the page for confidential clients only (RFC 6749 §10.2).
 */
import type { Context } from 'hono';
import type { JSX } from 'hono/jsx/jsx-runtime';
import { nowSeconds } from '../lib/clock';
import { type Consent, consentCovers, consentWanted } from '../oauth/consent';
import { maskOf } from '../oauth/scopes';
import {
  type AuthorizationRequest,
  collectParams,
  errorRedirect,
  formActionSource,
  redirectTo,
  validateAuthorizationRequest,
} from '../services/authorization-request';
import { loginNeed, reauthQuery, sidOf } from '../services/oidc-authorize';
import { grantedKeys } from '../services/resource-target';
import { newCodeStatement } from '../storage/authorization-codes';
import { consentFromRow, grantConsentStatement } from '../storage/consents';
import { sessionConsentStatement, sessionUserStatement } from '../storage/sessions';
import { type User, userFromRow } from '../storage/users';
import { getKeyRing } from '../tokens/keyring';
import type { AppEnv } from '../types';
import { ConsentPage } from '../ui/consent';
import { assertCsrf, csrfToken } from '../ui/csrf';
import { PageError } from '../ui/page-error';
import { page, pageApp, readPageForm, setFormAction } from '../ui/render';
import { sessionHash } from '../ui/session';

export const authorizeRoutes = pageApp();

type Ctx = Context<AppEnv>;

interface Who {
  user: User;
  /** What the user allowed this client before (src/oauth/consent.ts). */
  granted: Consent;
  /** When the user signed in (the session's start): OpenID Connect auth_time. */
  authTime: number;
  sessionHash: string;
}

/**
 * Validates the request and finds the signed-in user, or ends the request: the error page, the sign-in page,
 * or the error redirect. An error is redirected only to a signed-in user (RFC 9700 §4.11.2: authenticate the
 * user before redirecting), so that a client anyone can register (portal, RFC 7591) cannot use our domain to
 * send signed-out visitors to its site; once signed in, the same request is judged again and answered.
 */
async function validated(
  c: Ctx,
  params: Map<string, string>,
  repeated: Set<string>,
): Promise<{ req: AuthorizationRequest; who: Who } | Response> {
  const config = c.get('config');
  const outcome = await validateAuthorizationRequest(c.env, config.issuer, params, repeated);
  if (outcome.kind === 'page') throw new PageError(400, outcome.title, outcome.detail);
  // After a POST, 303 so the browser follows with a GET (RFC 9700 §4.11).
  const status = c.req.method === 'POST' ? 303 : 302;
  const client = outcome.kind === 'ok' ? outcome.request.client : outcome.client;
  const redirectUri = outcome.kind === 'ok' ? outcome.request.redirectUri : outcome.redirectUri;
  const who = await userAndConsent(c, client.id);
  // OpenID Connect Core §3.1.2.1 prompt=none: never a page. The client and redirect URI are verified by now
  // (docs/openid-connect.md: the one error redirected before sign-in).
  const silent = params.get('prompt') === 'none';
  const silentFail = (error: 'login_required' | 'consent_required' | 'interaction_required', text: string) =>
    c.redirect(errorRedirect(redirectUri, config.issuer, params.get('state') ?? null, error, text), status);
  if (!who) {
    if (silent) return silentFail('login_required', 'The user is not signed in (prompt=none).');
    // A GET comes back exactly as sent (repeated parameters too); a POST carries the consent form's fields.
    const carried = outcome.kind === 'ok' ? outcome.request.params : outcome.params;
    const query = c.req.method === 'GET' ? new URL(c.req.url).search.slice(1) : new URLSearchParams(carried).toString();
    return loginRedirect(c, reauthQuery(query, nowSeconds()), status, false);
  }
  // RFC 6749 §4.1.2.1: the error goes back to the client, with state and iss.
  if (outcome.kind === 'redirect') return c.redirect(outcome.location, status);
  const req = outcome.request;
  if (c.req.method === 'GET') {
    const need = await loginNeed(
      config,
      await getKeyRing(c.env),
      req,
      { id: who.user.id, authTime: who.authTime },
      nowSeconds(),
    );
    if (need === 'bad_hint')
      return c.redirect(
        errorRedirect(
          redirectUri,
          config.issuer,
          req.state,
          'invalid_request',
          'The id_token_hint is not a valid ID token of this server for this client.',
        ),
        status,
      );
    if (need !== 'ok') {
      if (silent) return silentFail('login_required', 'The user must sign in again (prompt=none).');
      return loginRedirect(c, reauthQuery(new URL(c.req.url).search.slice(1), nowSeconds()), status, true);
    }
  }
  return { req, who };
}

/** The signed-in user and their consent for this client, in one D1 batch. */
async function userAndConsent(c: Ctx, clientId: string): Promise<Who | null> {
  const hash = await sessionHash(c);
  if (!hash) return null;
  const db = c.env.DB;
  // The session row (ended sessions have none) joined with its active user, and the consent: one batch.
  const [u, k] = await db.batch([sessionUserStatement(db, hash), sessionConsentStatement(db, hash, clientId)]);
  const row = u.results[0] as { session_created_at?: number } | undefined;
  const user = userFromRow(row);
  if (user?.status !== 'active') return null;
  return { user, granted: consentFromRow(k.results[0]), authTime: row?.session_created_at ?? 0, sessionHash: hash };
}

/**
 * To the sign-in page, which sends the browser back to this endpoint with `query` afterwards; `force` shows the form
 * to a signed-in user too (prompt=login, max_age: Core §3.1.2.1).
 */
function loginRedirect(c: Ctx, query: string, status: 302 | 303, force: boolean): Response {
  const next = `/oauth2/authorize?${query}`;
  return c.redirect(`/login?next=${encodeURIComponent(next)}${force ? '&force=1' : ''}`, status);
}

/** Issues a code (with the consent, if newly given, in the same batch) and sends the browser back. */
async function issueCode(
  c: Ctx,
  req: AuthorizationRequest,
  who: Who,
  remember: Consent | null,
  status: 302 | 303,
): Promise<Response> {
  const { user } = who;
  const config = c.get('config');
  const { code, statement } = await newCodeStatement(c.env.DB, {
    clientId: req.client.id,
    userId: user.id,
    redirectUri: req.redirectUri,
    redirectUriSent: req.redirectUriSent,
    scope: req.scope,
    scopeMask: maskOf(req.scopes),
    codeChallenge: req.codeChallenge,
    ttlSeconds: config.authCodeTtl,
    resources: grantedKeys(config, req.resources),
    // OpenID Connect Core §3.1.3.6: what the ID token of this code will say.
    oidc: req.openid
      ? {
          nonce: req.oidc.nonce,
          authTime: who.authTime,
          sid: await sidOf(who.sessionHash),
          claims: req.oidc.claims ? JSON.stringify(req.oidc.claims) : null,
        }
      : undefined,
  });
  const stmts = [statement];
  if (remember !== null) stmts.push(grantConsentStatement(c.env.DB, user.id, req.client.id, remember));
  await c.env.DB.batch(stmts);
  return c.redirect(redirectTo(req.redirectUri, { code, state: req.state, iss: config.issuer }), status);
}

authorizeRoutes.get('/', async (c) => {
  const { params, repeated } = collectParams(new URL(c.req.url).searchParams);
  const v = await validated(c, params, repeated);
  if (v instanceof Response) return v;
  const { req, who } = v;
  // Remembered consents are per client, resource and scope (issue 13, RFC 8707): one for resource A never covers B.
  const remembered = consentCovers(who.granted, consentWanted(req.resources, req.scopes));
  // RFC 6749 §10.2, RFC 8252 §8.6: a public client cannot prove it is the app the user approved (any local
  // process can listen on a loopback port or claim a private-use scheme), so it always gets the one-click
  // page; a confidential client's code is useless without its secret, so its remembered consent is enough.
  // Issue 13: a client known only by its metadata document is never skipped either (anyone can publish one).
  // OpenID Connect Core §3.1.2.1: prompt=consent always shows the page; prompt=none never does.
  const skip = remembered && req.client.confidential && !req.client.metadataDocument && !req.oidc.prompt.has('consent');
  if (skip) return issueCode(c, req, who, null, 302);
  if (req.oidc.prompt.has('none')) {
    const issuer = c.get('config').issuer;
    const text = 'The user has not approved this application yet (prompt=none).';
    return c.redirect(errorRedirect(req.redirectUri, issuer, req.state, 'consent_required', text), 302);
  }
  setFormAction(c, [formActionSource(req.redirectUri)]);
  const node = ConsentPage({
    csrf: csrfToken(c),
    email: who.user.email,
    client: req.client,
    scopes: req.scopes,
    resources: req.resourcesNamed ? req.resources : [],
    redirectUri: req.redirectUri,
    params: req.params,
    remembered,
  });
  return page(c, node as JSX.Element);
});

authorizeRoutes.post('/', async (c) => {
  const { params, repeated } = await readPageForm(c);
  // OpenID Connect Core §3.1.2.1: an authorization request may be POSTed by the client (no csrf, no decision): it is
  // answered as the same request by GET, so every rule above applies unchanged.
  if (!params.has('csrf') && !params.has('decision')) {
    const q = new URLSearchParams();
    for (const [k, v] of params) q.set(k, v);
    for (const k of repeated) q.append(k, params.get(k) ?? '');
    return c.redirect(`/oauth2/authorize?${q.toString()}`, 303);
  }
  await assertCsrf(c, params);
  const decision = params.get('decision');
  params.delete('csrf');
  params.delete('decision');
  const v = await validated(c, params, repeated);
  if (v instanceof Response) return v;
  const { req, who } = v;
  const issuer = c.get('config').issuer;
  if (decision === 'allow') return issueCode(c, req, who, consentWanted(req.resources, req.scopes), 303);
  if (decision === 'deny') {
    return c.redirect(
      errorRedirect(
        req.redirectUri,
        issuer,
        req.state,
        'access_denied',
        'The user declined to authorize the application.',
      ),
      303,
    );
  }
  throw new PageError(400, 'No choice was made', 'Go back and choose Allow or Deny.');
});

authorizeRoutes.all('/', () => {
  throw new PageError(405, 'Not allowed', 'This address accepts GET and POST only.');
});
