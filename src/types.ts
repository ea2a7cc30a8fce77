import type { Config } from './config';
import type { AccessTokenClaims } from './tokens/verify-access-token';

/** Hono environment: bindings from `wrangler types`, per-request variables set by middleware. */
export type AppEnv = {
  Bindings: Env;
  Variables: {
    requestId: string;
    config: Config;
    /** Set by the bearer middleware once the access token is verified. */
    token: AccessTokenClaims;
  };
};
