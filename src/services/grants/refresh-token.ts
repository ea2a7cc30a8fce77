/**
 * RFC 6749 §6 with rotation (RFC 9700 §4.14.2): each use returns a new refresh token and kills the old one;
 * reusing a rotated token revokes the whole family. The scope may be narrowed, never widened; the new
 * refresh token keeps the original scope (§6).
 * A confidential client registered with refresh_token_policy `reuse` (issue 11) gets the same refresh token back
 * instead; it is checked the same way (client, revocation, absolute expiry, scope, user) and stays valid until its
 * expiry or revocation. Either way the grant costs one D1 batch.
 */

import { OAuthError } from '../../lib/errors';
import { allValues } from '../../oauth/form';
import { audienceOf, formatList, type ResourceServer, scopesFor, targetScopes } from '../../oauth/resource-target';
import { assertScopesAllowed, isOidcScope, isScope, maskOf, OIDC_SCOPES, parseScope } from '../../oauth/scopes';
import { audit } from '../../storage/audit';
import { refreshPolicyOf } from '../../storage/clients';
import { reuseRefreshToken } from '../../storage/refresh-token-reuse';
import { rotateRefreshToken } from '../../storage/refresh-tokens';
import { builtinKey, findResourceServers } from '../../storage/resource-servers';
import { familyDenyUntil, revocationsChanged } from '../../storage/revocations';
import { issueAccessToken } from '../../tokens/access-token';
import { grantedKeys, resolveResources } from '../resource-target';
import { assertGrantAllowed, requireParam } from './common';
import type { GrantHandler } from './types';

const FAILURES = {
  unknown: 'The refresh token is invalid.',
  wrong_client: 'The refresh token was not issued to this client.',
  reused: 'The refresh token was already used; every token of this grant has been revoked. Sign in again.',
  revoked: 'The refresh token has been revoked.',
  expired: 'The refresh token has expired. Sign in again.',
  user_inactive: 'The user of this refresh token is disabled.',
  target_not_granted:
    'The refresh token was not granted for the requested resource; ask for one it was granted for, or sign in again.',
} as const;

export const refreshTokenGrant: GrantHandler = async ({ env, config, ring, params, caller, requestId }) => {
  const { client } = caller;
  assertGrantAllowed(client, 'refresh_token');
  const presented = requireParam(params, 'refresh_token');
  if (presented.length > 512) throw new OAuthError('invalid_grant', FAILURES.unknown);
  // Everything is checked before the token is used (a refused request consumes nothing): the requested resources
  // (RFC 8707 §2: registered, allowed for the client, then, inside the rotating statement, among those granted) and
  // the requested scope (known, then inside the statement, within the family's).
  const wanted = params.has('resource')
    ? await resolveResources(env.DB, config, client, allValues(params, 'resource'))
    : null;
  const requested = params.has('scope') ? requestedScopes(params.get('scope'), wanted, client.scopes) : null;
  const narrowing = {
    scopes: requested ?? [],
    resources: wanted ? grantedKeys(config, wanted) : [],
    defaultResource: builtinKey(config),
  };

  // refreshPolicyOf: `reuse` only for a confidential client (RFC 9700 §4.14.2), whatever the record says.
  const use = refreshPolicyOf(client) === 'reuse' ? reuseRefreshToken : rotateRefreshToken;
  const result = await use(
    env.DB,
    presented,
    client.id,
    requested ? maskOf(requested) : 0,
    familyDenyUntil(config.accessTokenTtl),
    narrowing,
    config.refreshReuseGraceSeconds,
  );
  if (!result.ok) {
    if (result.reason === 'unexplained') {
      throw new OAuthError('server_error', 'The refresh token could not be rotated; try again.', {
        reason: 'rotation outcome not decoded',
      });
    }
    if (result.reason === 'scope_widened') {
      throw new OAuthError(
        'invalid_scope',
        `The requested scope exceeds the scope originally granted ("${result.record?.scope}").`,
      );
    }
    if (result.reason === 'reused') {
      // The family's access tokens are refused in this isolate at once, and in this colo's others (KV copy dropped).
      await revocationsChanged(env.CACHE);
      console.warn(
        JSON.stringify({
          level: 'warn',
          event: 'refresh_token_reuse',
          requestId,
          clientId: client.id,
          familyId: result.record?.familyId,
        }),
      );
      await audit(env.DB, 'refresh_token_reuse', {
        actor: client.id,
        subject: result.record?.userId ?? null,
        detail: { family: result.record?.familyId, family_revoked: true },
        requestId,
      });
    }
    if (result.reason === 'target_not_granted') throw new OAuthError('invalid_target', FAILURES.target_not_granted);
    throw new OAuthError('invalid_grant', FAILURES[result.reason], { reason: result.reason });
  }
  if (result.retried) {
    // Issue 16: the parent presented again within REFRESH_REUSE_GRACE_SECONDS while its successor was never used (a
    // lost reply); that successor is revoked and this answer carries its replacement (docs/reliability.md).
    console.warn(
      JSON.stringify({
        level: 'warn',
        event: 'refresh_token_retry',
        requestId,
        clientId: client.id,
        familyId: result.record.familyId,
      }),
    );
  }
  // The audience: the resources asked for (down-scoping, RFC 8707 §2), else every resource of the grant.
  // A resource server deleted since the grant drops out (no read at all for a /v1-only grant).
  const granted = result.record.resources ?? [builtinKey(config)];
  const found = wanted ? null : await findResourceServers(env.DB, config, granted);
  const resources = wanted ?? granted.flatMap((k) => found?.get(k) ?? []); // in the order granted
  if (resources.length === 0)
    throw new OAuthError('invalid_target', 'No resource this grant was for is registered any more; sign in again.');
  const uris = resources.map((r) => r.uri);
  // Without a scope parameter: the original scope, less anything the client has since lost and, when the audience
  // is narrowed, less what none of the remaining resources understands.
  const scopes =
    requested ??
    scopesFor(result.record.scope.split(' ').filter(Boolean), resources, OIDC_SCOPES).filter(
      // OpenID Connect scopes are the user's, not registered per client (issue 15): they stay with the grant.
      (s) => isOidcScope(s) || !isScope(s) || client.scopes.includes(s),
    );
  if (scopes.length === 0 && resources.every((r) => r.builtin))
    throw new OAuthError('invalid_scope', 'This client is no longer allowed any scope of this grant.');
  const scope = scopes.join(' ');
  const at = await issueAccessToken(config, ring, {
    sub: result.record.userId ?? client.id,
    clientId: client.id,
    scope,
    fid: result.record.familyId,
    audience: audienceOf(uris),
  });
  return { accessToken: at.token, expiresIn: at.expiresIn, scope, refreshToken: result.token };
};

/**
 * The `scope` of a refresh request: for /v1 alone (no `resource`, only /v1 scope names), the rules from before
 * issue 13; with `resource`, checked against those resources (targetScopes); otherwise well-formed names, which the
 * rotating statement then requires to be within the family's scope.
 */
function requestedScopes(
  raw: string | undefined,
  wanted: ResourceServer[] | null,
  clientScopes: readonly string[],
): string[] {
  // The OpenID Connect scopes may be asked again (within the family's, checked in the rotating statement).
  if (wanted) return targetScopes(wanted, raw, clientScopes, OIDC_SCOPES);
  const names = (raw ?? '').split(' ').filter(Boolean);
  if (names.every(isScope)) {
    const scopes = parseScope(raw);
    assertScopesAllowed(
      scopes.filter((s) => !isOidcScope(s)),
      clientScopes,
      'this client',
    );
    return scopes;
  }
  if (names.length > 32 || names.some((s) => !/^[\x21\x23-\x5b\x5d-\x7e]{1,64}$/.test(s)))
    throw new OAuthError('invalid_scope', 'The scope parameter is malformed.');
  return formatList(names);
}
