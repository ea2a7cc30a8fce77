/**
 * Worker entry point: HTTP through the Hono app, housekeeping through the Cron Trigger, and the named RPC
 * entrypoint `TokenVerifier` that other Workers bind to (src/rpc/token-verifier.ts, docs/resource-servers.md).
 */
import { app } from './app';
import { runCleanup } from './jobs/cleanup';
import { guardStorage } from './storage/unavailable';

export { TokenVerifier } from './rpc/token-verifier';

export default {
  fetch: app.fetch,
  async scheduled(_controller, env, _ctx) {
    // Housekeeping: expired codes, refresh tokens, deny-list entries, counters, keys (src/jobs/cleanup.ts). Through
    // the storage guard like every request (issue 16): a failing D1/KV call is known as unavailability, the job logs
    // it per table and the next run (every 15 min) continues where this one stopped.
    await runCleanup(guardStorage(env));
  },
} satisfies ExportedHandler<Env>;
