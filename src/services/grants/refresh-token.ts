/**
 * RFC 6749 §6 with rotation (RFC 9700 §4.14.2): each use returns a new refresh token and kills the old one;
 * reusing a rotated token revokes the whole family. The scope may be narrowed, never widened; the new
 * refresh token keeps the original scope (§6).
 * A confidential client registered with refresh_token_policy `reuse` (issue 11) gets the same refresh token back
 * instead; it is checked the same way (client, revocation, absolute expiry, scope, user) and stays valid until its
 * expiry or revocation. Either way the grant costs one D1 batch.
 */

import { OAuthError } from '../../lib/errors';
import { assertScopesAllowed, formatScope, isOidcScope, parseScope, scopeMask } from '../../oauth/scopes';
import { audit } from '../../storage/audit';
import { refreshPolicyOf } from '../../storage/clients';
import { reuseRefreshToken } from '../../storage/refresh-token-reuse';
import { rotateRefreshToken } from '../../storage/refresh-tokens';
import { familyDenyUntil, resetRevocationSnapshot } from '../../storage/revocations';
import { issueAccessToken } from '../../tokens/access-token';
import { assertGrantAllowed, requireParam } from './common';
import type { GrantHandler } from './types';

const FAILURES = {
  unknown: 'The refresh token is invalid.',
  wrong_client: 'The refresh token was not issued to this client.',
  reused: 'The refresh token was already used; every token of this grant has been revoked. Sign in again.',
  revoked: 'The refresh token has been revoked.',
  expired: 'The refresh token has expired. Sign in again.',
  user_inactive: 'The user of this refresh token is disabled.',
} as const;

export const refreshTokenGrant: GrantHandler = async ({ env, config, ring, params, caller, requestId }) => {
  const { client } = caller;
  assertGrantAllowed(client, 'refresh_token');
  const presented = requireParam(params, 'refresh_token');
  if (presented.length > 512) throw new OAuthError('invalid_grant', FAILURES.unknown);
  const requested = params.has('scope') ? parseScope(params.get('scope')) : null;
  // before rotating, so nothing is lost; the OpenID Connect scopes are open to every client (src/oauth/scopes.ts)
  if (requested)
    assertScopesAllowed(
      requested.filter((s) => !isOidcScope(s)),
      client.scopes,
      'this client',
    );

  // refreshPolicyOf: `reuse` only for a confidential client (RFC 9700 §4.14.2), whatever the record says.
  const use = refreshPolicyOf(client) === 'reuse' ? reuseRefreshToken : rotateRefreshToken;
  const result = await use(
    env.DB,
    presented,
    client.id,
    requested ? scopeMask(requested) : 0,
    familyDenyUntil(config.accessTokenTtl),
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
      resetRevocationSnapshot(); // the family's access tokens are refused in this isolate at once
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
    throw new OAuthError('invalid_grant', FAILURES[result.reason], { reason: result.reason });
  }
  // Without a scope parameter: the original scope, less anything the client has since lost.
  const scopes =
    requested ?? parseScope(result.record.scope).filter((s) => isOidcScope(s) || client.scopes.includes(s));
  if (scopes.length === 0)
    throw new OAuthError('invalid_scope', 'This client is no longer allowed any scope of this grant.');
  const scope = formatScope(scopes);
  const at = await issueAccessToken(config, ring, {
    sub: result.record.userId ?? client.id,
    clientId: client.id,
    scope,
    fid: result.record.familyId,
  });
  return { accessToken: at.token, expiresIn: at.expiresIn, scope, refreshToken: result.token };
};
