// The load generator, run as its own process (never inside the Miniflare/workerd process):
// reads one scenario's load spec (JSON in BENCH_SPEC), runs autocannon for a warm-up and then for the
// measured duration, and prints the measured result as one JSON line on stdout.
//
// Spec: { url, connections, warmupSeconds, durationSeconds, requests: [{ method, path, headers, body }],
//         chain?: { poolFile, poolStart?, bodyPrefix, field, raw? } }  (requests marked `useChain` draw from the
//         chain; `raw`: pool entries are already urlencoded body fragments, appended as they are; `poolStart`:
//         the first unused entry, since earlier runs of the same scenario consumed the ones before it)
// `chain` is for refresh rotation: every request needs a refresh token nobody has used yet. The first
// request of each connection takes one from the pre-seeded pool; each 200 response gives back the new
// token, which the next request uses (exactly what a real client does, one rotation per request).
import { readFileSync } from 'node:fs';
import autocannon from 'autocannon';

const spec = JSON.parse(process.env.BENCH_SPEC);

/** A few non-2xx responses of chained requests, for the report (status and the start of the body). */
const failures = [];
let poolUsed = 0;

function buildRequests() {
  if (!spec.chain) return spec.requests;
  const pool = JSON.parse(readFileSync(spec.chain.poolFile, 'utf8'));
  const ready = [];
  let next = spec.chain.poolStart ?? 0;
  return spec.requests.map((template) =>
    !template.useChain
      ? template
      : {
          ...template,
          setupRequest(req) {
            // A token nobody has used: one handed back by an earlier response, else a fresh one from the pool.
            let token = ready.pop();
            if (token === undefined) {
              token = pool[next++] ?? 'pool-exhausted';
              poolUsed++;
            }
            req.body = spec.chain.bodyPrefix + (spec.chain.raw ? token : encodeURIComponent(token));
            return req;
          },
          onResponse(status, body) {
            if (status !== 200) {
              if (failures.length < 5) failures.push(`${status} ${String(body).slice(0, 160)}`);
              return;
            }
            if (!spec.chain.field) return; // pool only: every request takes a fresh token
            try {
              const value = JSON.parse(body)[spec.chain.field];
              if (value) ready.push(value);
            } catch {
              // counted by autocannon as a 200; a broken chain then shows up as non-2xx on the next request
            }
          },
        },
  );
}

function run(durationSeconds, requests) {
  return new Promise((resolve, reject) => {
    const instance = autocannon(
      { url: spec.url, connections: spec.connections, duration: durationSeconds, requests, timeout: 30 },
      (err, result) => (err ? reject(err) : resolve(result)),
    );
    process.once('SIGTERM', () => instance.stop());
  });
}

/**
 * `spec.tally` (the rate-limit soak, bench/lib/soak-ratelimit.mjs): answers counted per request template and
 * status, and 429s without a Retry-After header counted apart.
 */
const tally = spec.requests.map(() => ({}));
let tooManyWithoutRetryAfter = 0;
/** 503s without Retry-After (the fault soak, bench/lib/soak-faults.mjs: every one must carry it). */
let unavailableWithoutRetryAfter = 0;
function tallied(requests) {
  return requests.map((template, i) => ({
    ...template,
    onResponse(status, _body, _context, headers) {
      tally[i][status] = (tally[i][status] ?? 0) + 1;
      const retryAfter = Object.keys(headers ?? {}).some((k) => k.toLowerCase() === 'retry-after');
      if (status === 429 && !retryAfter) tooManyWithoutRetryAfter++;
      if (status === 503 && !retryAfter) unavailableWithoutRetryAfter++;
    },
  }));
}

const requests = spec.tally ? tallied(spec.requests) : buildRequests();
if (spec.warmupSeconds > 0) await run(spec.warmupSeconds, requests);
const r = await run(spec.durationSeconds, requests);
const ok = r['2xx'];
process.stdout.write(
  `${JSON.stringify({
    // Successful responses per second over the measured window (errors are reported, never counted as throughput).
    rps: ok / r.duration,
    total: r.requests.total,
    ok,
    non2xx: r.non2xx,
    errors: r.errors,
    timeouts: r.timeouts,
    p50: r.latency.p50,
    p99: r.latency.p99,
    duration: r.duration,
    statusCodes: r.statusCodeStats,
    poolUsed,
    chainFailures: failures,
    ...(spec.tally ? { tally, tooManyWithoutRetryAfter, unavailableWithoutRetryAfter } : {}),
  })}\n`,
);
