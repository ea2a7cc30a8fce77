/** RFC 6749 §4.4: the client acts on its own behalf. No refresh token (§4.4.3). */

import { assertScopesAllowed, formatScope, parseScope } from '../../oauth/scopes';
import { issueAccessToken } from '../../tokens/access-token';
import { assertAuthenticated, assertGrantAllowed } from './common';
import type { GrantHandler } from './types';

export const clientCredentialsGrant: GrantHandler = async ({ config, ring, params, caller }) => {
  const { client } = caller;
  assertAuthenticated(caller.authenticated, 'client_credentials');
  assertGrantAllowed(client, 'client_credentials');
  const scopes = parseScope(params.get('scope'));
  assertScopesAllowed(scopes, client.scopes, 'this client');
  const scope = formatScope(scopes);
  const at = await issueAccessToken(config, ring, { sub: client.id, clientId: client.id, scope });
  return { accessToken: at.token, expiresIn: at.expiresIn, scope };
};
