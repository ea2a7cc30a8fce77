/**
 * The app registration portal (seed 003) for signed-in users: register an app (credentials shown once),
 * list, edit, rotate the secret, delete (its tokens stop working), and withdraw consents given to other apps.
 * Every POST is CSRF-checked and answered with a page or a 303 redirect.
 */
import type { Context } from 'hono';
import type { JSX } from 'hono/jsx/jsx-runtime';
import { readAppForm, validateAppInput } from '../oauth/app-form';
import { listConsentedApps } from '../services/consented-apps';
import { createClient } from '../services/create-client';
import { deleteClientIfPresent } from '../services/delete-client';
import { rotateSecret } from '../services/rotate-secret';
import { updateClientAudited } from '../services/update-client';
import { withdrawConsent } from '../services/withdraw-consent';
import { type Client, getClientFromDb, listClientsByOwner } from '../storage/clients';
import type { User } from '../storage/users';
import type { AppEnv } from '../types';
import { AppFormPage, EMPTY_APP, inputFromClient } from '../ui/app-form-page';
import { assertCsrf, csrfToken } from '../ui/csrf';
import { PageError } from '../ui/page-error';
import { AppsPage, CredentialsPage } from '../ui/portal';
import { page, pageApp, readPageForm } from '../ui/render';
import { readSession } from '../ui/session';

export const portalRoutes = pageApp();

type Ctx = Context<AppEnv>;
/** Apps registered in the portal use the code flow with refresh tokens; never password or client_credentials. */
const PORTAL_GRANTS = ['authorization_code', 'refresh_token'];

/** The signed-in user, or a redirect to the sign-in page. */
async function signedIn(c: Ctx): Promise<User | Response> {
  const user = (await readSession(c))?.user; // one D1 read: the session row joined with its active user
  if (!user) {
    const url = new URL(c.req.url);
    const next = c.req.method === 'GET' ? url.pathname + url.search : '/apps';
    return c.redirect(`/login?next=${encodeURIComponent(next)}`, c.req.method === 'GET' ? 302 : 303);
  }
  return user;
}

/** A form POST: CSRF-checked before anything else (a forged post learns nothing), then the signed-in user. */
async function signedInPost(c: Ctx): Promise<{ user: User; params: Map<string, string> } | Response> {
  const { params } = await readPageForm(c);
  await assertCsrf(c, params);
  const user = await signedIn(c);
  return user instanceof Response ? user : { user, params };
}

const notFound = () =>
  new PageError(404, 'Application not found', 'There is no such application among yours. It may have been deleted.');

/** A client the user owns (straight from D1, so an edit is seen at once). */
async function ownedClient(c: Ctx, user: User): Promise<Client> {
  const id = c.req.param('id') ?? '';
  const client = id ? await getClientFromDb(c.env.DB, id) : null;
  if (!client || client.ownerUserId !== user.id) throw notFound();
  return client;
}

const who = (c: Ctx, user: User) => ({ email: user.email, csrf: csrfToken(c) });

portalRoutes.get('/', async (c) => {
  const user = await signedIn(c);
  if (user instanceof Response) return user;
  const [apps, consents] = await Promise.all([
    listClientsByOwner(c.env.DB, user.id),
    listConsentedApps(c.env, user.id),
  ]);
  return page(c, AppsPage({ user: who(c, user), apps, consents, notice: c.req.query('done') }) as JSX.Element);
});

portalRoutes.get('/new', async (c) => {
  const user = await signedIn(c);
  if (user instanceof Response) return user;
  return page(c, AppFormPage({ user: who(c, user), input: EMPTY_APP }) as JSX.Element);
});

portalRoutes.post('/', async (c) => {
  const post = await signedInPost(c);
  if (post instanceof Response) return post;
  const { user, params } = post;
  const input = readAppForm(params);
  const checked = validateAppInput(input);
  if (!checked.ok)
    return page(c, AppFormPage({ user: who(c, user), input, errors: checked.errors }) as JSX.Element, 400);
  const { confidential, ...fields } = checked.values;
  const { client, secret } = await createClient(
    c.env,
    { ...fields, grantTypes: PORTAL_GRANTS, confidential, requirePkce: true, ownerUserId: user.id },
    { actor: user.id, detail: { via: 'portal' }, requestId: c.get('requestId') },
  );
  // The secret is in this response only (not behind a redirect, so it is never stored to be shown later).
  return page(c, CredentialsPage({ user: who(c, user), client, secret }) as JSX.Element, 201);
});

portalRoutes.get('/:id', async (c) => {
  const user = await signedIn(c);
  if (user instanceof Response) return user;
  const client = await ownedClient(c, user);
  return page(c, AppFormPage({ user: who(c, user), input: inputFromClient(client), client }) as JSX.Element);
});

portalRoutes.post('/:id', async (c) => {
  const post = await signedInPost(c);
  if (post instanceof Response) return post;
  const { user, params } = post;
  const client = await ownedClient(c, user);
  const input = { ...readAppForm(params), clientType: client.confidential ? 'confidential' : 'public' } as const;
  const checked = validateAppInput(input);
  if (!checked.ok)
    return page(c, AppFormPage({ user: who(c, user), input, errors: checked.errors, client }) as JSX.Element, 400);
  // The app type (confidential or public) is fixed at creation; the rest of the form replaces the stored values.
  const { confidential: _fixed, ...fields } = checked.values;
  // Issue 16: the change and its audit row in one batch (src/services/update-client.ts).
  await updateClientAudited(c.env, client.id, fields, {
    actor: user.id,
    detail: { via: 'portal' },
    requestId: c.get('requestId'),
  });
  return c.redirect('/apps?done=updated', 303);
});

portalRoutes.post('/:id/rotate', async (c) => {
  const post = await signedInPost(c);
  if (post instanceof Response) return post;
  const { user } = post;
  const client = await ownedClient(c, user);
  const secret = await rotateSecret(c.env, client.id, { actor: user.id, requestId: c.get('requestId') });
  if (!secret)
    throw new PageError(400, 'No secret to replace', 'This is a public application: it has no client secret.');
  return page(c, CredentialsPage({ user: who(c, user), client, secret, rotated: true }) as JSX.Element);
});

portalRoutes.post('/:id/delete', async (c) => {
  const post = await signedInPost(c);
  if (post instanceof Response) return post;
  const { user } = post;
  const deleted = await deleteClientIfPresent(
    c.env,
    c.req.param('id') ?? '',
    { actor: user.id, via: 'portal', requestId: c.get('requestId') },
    (client) => client.ownerUserId === user.id,
  );
  if (!deleted) throw notFound();
  return c.redirect('/apps?done=deleted', 303);
});

portalRoutes.post('/consents/:clientId/withdraw', async (c) => {
  const post = await signedInPost(c);
  if (post instanceof Response) return post;
  const { user } = post;
  await withdrawConsent(c.env, user.id, c.req.param('clientId'), c.get('requestId'));
  return c.redirect('/apps?done=withdrawn', 303);
});
