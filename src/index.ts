/**
 * Worker entry point: HTTP through the Hono app, housekeeping through the Cron Trigger, and the named RPC
 * entrypoint `TokenVerifier` that other Workers bind to (src/rpc/token-verifier.ts, docs/resource-servers.md).
 */
import { app } from './app';
import { runCleanup } from './jobs/cleanup';

export { TokenVerifier } from './rpc/token-verifier';

export default {
  fetch: app.fetch,
  async scheduled(_controller, env, _ctx) {
    // Housekeeping: expired codes, refresh tokens, deny-list entries, counters, keys (src/jobs/cleanup.ts).
    await runCleanup(env);
  },
} satisfies ExportedHandler<Env>;
