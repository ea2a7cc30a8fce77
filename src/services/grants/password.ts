/**
 * RFC 6749 §4.3, resource owner password credentials. RFC 9700 §2.4 says it MUST NOT be used, so it is
 * off unless a client's registration allows it. Unknown user and wrong password take the same path and time.
 */

import { OAuthError } from '../../lib/errors';
import { allValues } from '../../oauth/form';
import { audienceOf } from '../../oauth/resource-target';
import { maskOf } from '../../oauth/scopes';
import { newRefreshFamily } from '../../storage/refresh-tokens';
import { issueAccessToken } from '../../tokens/access-token';
import { checkUserPassword, MAX_CREDENTIAL_LENGTH } from '../password-login';
import { grantedKeys, resolveTarget } from '../resource-target';
import { assertAuthenticated, assertGrantAllowed, mayRefresh, requireParam } from './common';
import type { GrantHandler } from './types';

export const passwordGrant: GrantHandler = async ({ env, config, ring, params, caller, requestId }) => {
  const { client } = caller;
  assertAuthenticated(caller.authenticated, 'password');
  assertGrantAllowed(client, 'password');
  const username = requireParam(params, 'username');
  const password = requireParam(params, 'password');
  if (username.length > MAX_CREDENTIAL_LENGTH || password.length > MAX_CREDENTIAL_LENGTH) {
    throw new OAuthError('invalid_request', 'The username or password is too long.');
  }
  // RFC 8707 §2: resource and scope checked before the password, so a refused target costs no PBKDF2 and no throttle.
  const target = await resolveTarget(env.DB, config, client, allValues(params, 'resource'), params.get('scope'));
  const scopes = target.scopes;

  const check = await checkUserPassword(env.DB, username, password, {
    via: 'password_grant',
    actor: client.id,
    requestId,
  });
  if (!check.ok) {
    // Unknown user, wrong password and disabled user get the same answer (no account enumeration).
    const retry = check.retryAfter > 0 ? { 'Retry-After': String(check.retryAfter) } : undefined;
    throw new OAuthError(
      'invalid_grant',
      check.reason === 'locked'
        ? 'Too many failed sign-in attempts for this user; try again later.'
        : 'The username or password is incorrect.',
      { headers: retry, reason: check.reason },
    );
  }
  const { user } = check;

  const scope = scopes.join(' ');
  // Round trip 2: the new refresh-token family and the counter reset, in one batch.
  const stmts: D1PreparedStatement[] = [];
  const rt = mayRefresh(client)
    ? await newRefreshFamily(env.DB, {
        clientId: client.id,
        userId: user.id,
        scope,
        scopeMask: maskOf(scopes),
        ttlSeconds: config.refreshTokenTtl,
        resources: grantedKeys(config, target.resources),
      })
    : null;
  if (rt) stmts.push(rt.statement);
  const refreshToken = rt?.token;
  // The access token carries the family id (fid), so revoking the family reaches it (issue 10 item 4).
  const at = await issueAccessToken(config, ring, {
    sub: user.id,
    clientId: client.id,
    scope,
    fid: rt?.familyId,
    audience: audienceOf(target.uris),
  });
  if (check.resetThrottle) stmts.push(check.resetThrottle);
  if (stmts.length > 0) await env.DB.batch(stmts);
  return { accessToken: at.token, expiresIn: at.expiresIn, scope, refreshToken };
};
