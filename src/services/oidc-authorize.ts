/**
 * The OpenID Connect decisions of the authorization endpoint (Core §3.1.2.1–3.1.2.6), apart from the route:
 * whether the user must sign in (again), and what `prompt=none` answers. No page is shown for prompt=none: the
 * answer is a redirect with login_required / consent_required / interaction_required, which is the one exception to
 * "no error is redirected before sign-in" (docs/openid-connect.md): it is sent only after the client and the
 * redirect URI were verified (RFC 9700 §4.11: a registered URI of an active client, so no open redirector).
 */

import type { Config } from '../config';
import { sha256 } from '../lib/random';
import { subjectFor } from '../oauth/subject';
import { readIdTokenHint } from '../tokens/id-token-hint';
import type { KeyRing } from '../tokens/keyring';
import type { AuthorizationRequest } from './authorization-request';

/** The sid of a session (Core §2 / Front-Channel Logout §3): a one-way digest of its key, never the key. */
export function sidOf(sessionHash: string): Promise<string> {
  return sha256(`sid ${sessionHash}`);
}

export type LoginNeed = 'ok' | 'reauthenticate' | 'other_user' | 'bad_hint';

/** Whether the signed-in user (signed in at `authTime`) may go on, or must sign in again (prompt=login, max_age). */
export async function loginNeed(
  config: Config,
  ring: KeyRing,
  req: AuthorizationRequest,
  user: { id: string; authTime: number },
  now: number,
): Promise<LoginNeed> {
  const { oidc, client } = req;
  if (oidc.idTokenHint !== null) {
    const hint = await readIdTokenHint(ring, config.issuer, oidc.idTokenHint);
    if (!hint?.aud.includes(client.id)) return 'bad_hint';
    if (hint.sub !== (await subjectFor(config, client, user.id))) return 'other_user';
  }
  // Set by this server when it sent the user to sign in for prompt=login or max_age (see reauthQuery).
  if (oidc.authAfter !== null) return user.authTime >= oidc.authAfter ? 'ok' : 'reauthenticate';
  if (oidc.prompt.has('login')) return 'reauthenticate';
  const maxAge = oidc.maxAge ?? client.oidc?.default_max_age ?? null;
  if (maxAge !== null && now - user.authTime > maxAge) return 'reauthenticate';
  return 'ok';
}

/**
 * The query to come back with after signing in: `prompt=login` and `max_age` are replaced by `auth_after=now`
 * (the new sign-in must be at least that recent), so the fresh sign-in satisfies the request instead of looping.
 */
export function reauthQuery(search: string, now: number): string {
  const q = new URLSearchParams(search);
  const prompt = (q.get('prompt') ?? '').split(' ').filter((p) => p && p !== 'login');
  if (q.has('prompt') || q.has('max_age')) {
    if (prompt.length) q.set('prompt', prompt.join(' '));
    else q.delete('prompt');
    q.delete('max_age');
    q.set('auth_after', String(now));
  }
  return q.toString();
}
