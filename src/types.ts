import type { Config } from './config';

/**
 * Hono environment: bindings from `wrangler types`, per-request variables set by app-wide middleware. The verified
 * access token is not here: only routes behind `requireBearer` have it (`BearerEnv`, src/middleware/bearer.ts).
 */
export type AppEnv = {
  Bindings: Env;
  Variables: {
    requestId: string;
    config: Config;
  };
};
