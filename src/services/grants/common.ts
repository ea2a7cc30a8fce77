/** Rules shared by the grants. */

import { OAuthError } from '../../lib/errors';
import type { Params } from '../../oauth/form';
import type { GrantType } from '../../oauth/grant-types';
import type { Client } from '../../storage/clients';

/** RFC 6749 §5.2 unauthorized_client: the client is not registered for this grant type. */
export function assertGrantAllowed(client: Client, grantType: GrantType): void {
  if (!client.grantTypes.includes(grantType)) {
    throw new OAuthError('unauthorized_client', `This client is not allowed to use the ${grantType} grant.`);
  }
}

/** Public clients may only use the grants that do not rely on a client secret. */
export function assertAuthenticated(authenticated: boolean, grantType: string): void {
  if (!authenticated) {
    throw new OAuthError(
      'unauthorized_client',
      `The ${grantType} grant is only for confidential clients that authenticate with a secret.`,
    );
  }
}

export function requireParam(params: Params, name: string): string {
  const value = params.get(name);
  if (value === undefined) throw new OAuthError('invalid_request', `The "${name}" parameter is required.`);
  return value;
}

/** Whether to issue a refresh token alongside a user grant: only to clients registered for the refresh_token grant. */
export function mayRefresh(client: Client): boolean {
  return client.grantTypes.includes('refresh_token');
}
