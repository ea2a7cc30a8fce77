import { applyD1Migrations } from 'cloudflare:test';
import { env } from 'cloudflare:workers';
import { afterEach } from 'vitest';
import { clock, sleeper } from '../src/lib/clock';

// Setup files run outside per-file isolated storage; applying is idempotent.
await applyD1Migrations(env.DB, env.TEST_MIGRATIONS);

const realNow = clock.now;
const realSleep = sleeper.sleep;
// Brute-force delays are real seconds in production; tests skip the wait (the delay rule is unit-tested).
sleeper.sleep = async () => {};
afterEach(() => {
  clock.now = realNow;
  sleeper.sleep = async () => {};
});

export { realSleep };
