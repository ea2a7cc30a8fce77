import type { Config } from '../../config';
import type { Params } from '../../oauth/form';
import type { KeyRing } from '../../tokens/keyring';
import type { AuthenticatedClient } from '../client-auth';

export interface GrantContext {
  env: Env;
  config: Config;
  ring: KeyRing;
  params: Params;
  caller: AuthenticatedClient;
  /** For the request log and audit trail. */
  requestId: string;
}

/** RFC 6749 §5.1 successful response, before serialisation. */
export interface TokenResult {
  accessToken: string;
  expiresIn: number;
  scope: string;
  refreshToken?: string;
  /** OpenID Connect Core §3.1.3.3: for a code issued with scope openid. */
  idToken?: string;
}

export type GrantHandler = (ctx: GrantContext) => Promise<TokenResult>;
