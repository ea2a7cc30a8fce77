/**
 * Timing (issue 6): the password grant and client authentication must take the same time for an unknown
 * user/client as for a known one with the wrong password/secret, so response time does not tell which
 * usernames or client ids exist. This is the one timed check of the suite, built not to be flaky:
 * many samples, alternating the two cases so machine noise hits both alike, compared by median, against
 * a bound far wider than noise yet far narrower than the leak it guards against (skipping PBKDF2 for an
 * unknown user would save its whole cost, ~25 ms or more).
 * Brute-force throttling would otherwise change the path after a few failures, so `clock.now` moves
 * 20 minutes per sample: every attempt is the first of a fresh window (sleeps are disabled in tests anyway).
 */
import { describe, expect, it } from 'vitest';
import { clock } from '../../src/lib/clock';
import { seedClient, seedUser, type TestClient, tokenRequest } from '../helpers';

const realNow = clock.now;
let offset = 0;
const nextWindow = () => {
  offset += 20 * 60 * 1000;
  const shift = offset;
  clock.now = () => realNow() + shift;
};

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}

/** Times `a` and `b` alternately, `n` samples each, after `warm` untimed rounds; returns both medians in ms. */
async function alternate(n: number, warm: number, a: () => Promise<number>, b: () => Promise<number>) {
  const ta: number[] = [];
  const tb: number[] = [];
  for (let i = 0; i < n + warm; i++) {
    // Alternate which goes first too, so neither always follows the other.
    const [first, second] = i % 2 ? [b, a] : [a, b];
    const t1 = await first();
    const t2 = await second();
    if (i < warm) continue;
    (i % 2 ? tb : ta).push(t1);
    (i % 2 ? ta : tb).push(t2);
  }
  return { a: median(ta), b: median(tb) };
}

/** Runs one request and returns its duration, asserting the expected failure status (no silent success). */
async function timed(status: number, send: () => Promise<Response>): Promise<number> {
  nextWindow();
  const started = performance.now();
  const res = await send();
  await res.arrayBuffer();
  const elapsed = performance.now() - started;
  expect(res.status).toBe(status);
  return elapsed;
}

/** Same time within noise: the medians differ by at most 5 ms or 30 % of the larger, whichever is more. */
function expectSameTime(m: { a: number; b: number }, what: string) {
  const bound = Math.max(5, 0.3 * Math.max(m.a, m.b));
  expect(Math.abs(m.a - m.b), `${what}: medians ${m.a.toFixed(2)} ms vs ${m.b.toFixed(2)} ms`).toBeLessThanOrEqual(
    bound,
  );
}

describe('timing does not reveal which users or clients exist', () => {
  it('password grant: unknown user vs known user with a wrong password', async () => {
    const client: TestClient = await seedClient();
    const user = await seedUser();
    const unknown = `nobody-${crypto.randomUUID()}@example.com`;
    const m = await alternate(
      20,
      2,
      () =>
        timed(400, () =>
          tokenRequest({ grant_type: 'password', username: unknown, password: 'wrong password' }, { client }),
        ),
      () =>
        timed(400, () =>
          tokenRequest({ grant_type: 'password', username: user.email, password: 'wrong password' }, { client }),
        ),
    );
    // The check would catch a skipped PBKDF2 only if the clock really measures it: both medians include it.
    expect(Math.min(m.a, m.b)).toBeGreaterThan(0);
    expectSameTime(m, 'password grant');
    clock.now = realNow;
  }, 120_000);

  it('client authentication: unknown client vs known client with a wrong secret', async () => {
    const client = await seedClient();
    const unknownId = `cl_unknown_${crypto.randomUUID()}`;
    const m = await alternate(
      40,
      3, // the warm rounds also put both ids in the KV cache (the unknown one as a "missing" marker)
      () =>
        timed(401, () =>
          tokenRequest({ grant_type: 'client_credentials' }, { client: { id: unknownId, secret: 'wrong-secret' } }),
        ),
      () =>
        timed(401, () =>
          tokenRequest({ grant_type: 'client_credentials' }, { client: { id: client.id, secret: 'wrong-secret' } }),
        ),
    );
    expectSameTime(m, 'client authentication');
    clock.now = realNow;
  }, 120_000);
});
