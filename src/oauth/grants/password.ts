/**
 * RFC 6749 §4.3, resource owner password credentials. RFC 9700 §2.4 says it MUST NOT be used, so it is
 * off unless a client's registration allows it. Unknown user and wrong password take the same path and time.
 */
import { nowSeconds, sleeper } from '../../clock';
import { audit } from '../../storage/audit';
import { newRefreshFamily } from '../../storage/refresh-tokens';
import { recordFailure, throttleClearStatement, throttleFromRow, throttleReadStatement, userThrottleKey } from '../../storage/throttle';
import { userByEmailStatement, userFromRow } from '../../storage/users';
import { issueAccessToken } from '../../tokens/access-token';
import { DUMMY_PASSWORD_HASH, verifyPassword } from '../../tokens/password';
import { OAuthError } from '../errors';
import { assertScopesAllowed, formatScope, parseScope, scopeMask } from '../scopes';
import { activeFailures, delayMs, lockRemaining } from '../throttle-policy';
import { assertAuthenticated, assertGrantAllowed, mayRefresh, requireParam } from './common';
import type { GrantHandler } from './types';

const MAX_CREDENTIAL_LENGTH = 1024;

export const passwordGrant: GrantHandler = async ({ env, config, ring, params, caller, requestId }) => {
  const { client } = caller;
  assertAuthenticated(caller.authenticated, 'password');
  assertGrantAllowed(client, 'password');
  const username = requireParam(params, 'username');
  const password = requireParam(params, 'password');
  if (username.length > MAX_CREDENTIAL_LENGTH || password.length > MAX_CREDENTIAL_LENGTH) {
    throw new OAuthError('invalid_request', 'The username or password is too long.');
  }
  const scopes = parseScope(params.get('scope'));
  assertScopesAllowed(scopes, client.scopes, 'this client');

  // Round trip 1: the user and the username's failure counter together.
  const key = userThrottleKey(username);
  const [userRes, throttleRes] = await env.DB.batch([userByEmailStatement(env.DB, username), throttleReadStatement(env.DB, key)]);
  const user = userFromRow(userRes.results[0]);
  const throttle = throttleFromRow(throttleRes.results[0]);
  const now = nowSeconds();
  const locked = lockRemaining(throttle, now);
  if (locked > 0) {
    throw new OAuthError('invalid_grant', 'Too many failed sign-in attempts for this user; try again later.', {
      headers: { 'Retry-After': String(locked) },
      reason: `user throttle locked: ${key}`,
    });
  }
  const wait = delayMs(activeFailures(throttle, now));
  if (wait > 0) await sleeper.sleep(wait);

  const valid = await verifyPassword(password, user?.passwordHash ?? DUMMY_PASSWORD_HASH);
  if (!valid || !user || user.status !== 'active') {
    // Round trip 2 (failure): count it.
    // Counted and audited concurrently (issue 5 audit trail: failed logins; never the password).
    const reason = user ? (user.status === 'active' ? 'wrong_password' : 'user_disabled') : 'unknown_user';
    const [state] = await Promise.all([
      recordFailure(env.DB, key, nowSeconds()),
      audit(env.DB, 'login_failed', { actor: client.id, subject: user?.id ?? null, detail: { via: 'password_grant', reason }, requestId }),
    ]);
    const lockedNow = lockRemaining(state, nowSeconds());
    throw new OAuthError('invalid_grant', 'The username or password is incorrect.', {
      headers: lockedNow > 0 ? { 'Retry-After': String(lockedNow) } : {},
      reason: user ? (user.status === 'active' ? 'wrong password' : 'user disabled') : 'unknown user',
    });
  }

  const scope = formatScope(scopes);
  const at = await issueAccessToken(config, ring, { sub: user.id, clientId: client.id, scope });
  // Round trip 2 (success): the new refresh-token family, and the counter reset, in one batch.
  const stmts: D1PreparedStatement[] = [];
  let refreshToken: string | undefined;
  if (mayRefresh(client)) {
    const rt = await newRefreshFamily(env.DB, { clientId: client.id, userId: user.id, scope, scopeMask: scopeMask(scopes), ttlSeconds: config.refreshTokenTtl });
    stmts.push(rt.statement);
    refreshToken = rt.token;
  }
  if (throttle) stmts.push(throttleClearStatement(env.DB, key));
  if (stmts.length > 0) await env.DB.batch(stmts);
  return { accessToken: at.token, expiresIn: at.expiresIn, scope, refreshToken };
};
