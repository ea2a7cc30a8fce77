/** One handler per grant type (src/oauth/grant-types.ts): the table is checked to have exactly one for each. */
import type { GrantType } from '../../oauth/grant-types';
import { authorizationCodeGrant } from './authorization-code';
import { clientCredentialsGrant } from './client-credentials';
import { passwordGrant } from './password';
import { refreshTokenGrant } from './refresh-token';
import type { GrantHandler } from './types';

export const GRANTS: Record<GrantType, GrantHandler> = {
  authorization_code: authorizationCodeGrant,
  client_credentials: clientCredentialsGrant,
  password: passwordGrant,
  refresh_token: refreshTokenGrant,
};
