/** RFC 6749 §4.4: the client acts on its own behalf. No refresh token (§4.4.3). */

import { allValues } from '../../oauth/form';
import { audienceOf } from '../../oauth/resource-target';
import { issueAccessToken } from '../../tokens/access-token';
import { resolveTarget } from '../resource-target';
import { assertAuthenticated, assertGrantAllowed } from './common';
import type { GrantHandler } from './types';

export const clientCredentialsGrant: GrantHandler = async ({ env, config, ring, params, caller }) => {
  const { client } = caller;
  assertAuthenticated(caller.authenticated, 'client_credentials');
  assertGrantAllowed(client, 'client_credentials');
  // RFC 8707 §2 (also the MCP client-credentials extension): `resource` names the token's audience.
  const target = await resolveTarget(env.DB, config, client, allValues(params, 'resource'), params.get('scope'));
  const scope = target.scopes.join(' ');
  const audience = audienceOf(target.uris);
  const at = await issueAccessToken(config, ring, { sub: client.id, clientId: client.id, scope, audience });
  return { accessToken: at.token, expiresIn: at.expiresIn, scope };
};
