/** Worker entry point: HTTP through the Hono app, housekeeping through the Cron Trigger. */
import { app } from './app';

export default {
  fetch: app.fetch,
  async scheduled(_controller, _env, _ctx) {
    // Housekeeping is added by src/jobs (expired codes, tokens, counters).
  },
} satisfies ExportedHandler<Env>;
