import { cloudflareTest, readD1Migrations } from '@cloudflare/vitest-plugin';
import { exportJWK, generateKeyPair } from 'jose';
import { defineConfig } from 'vitest/config';
import './test/node20-polyfills.ts';

// The plugin's wrangler would print "Using secrets defined in .dev.vars" for every test file once `npm start` has
// written that file (tests use their own secrets, below): only its warnings and errors, unless asked otherwise.
process.env.WRANGLER_LOG ??= 'warn';

// workerd reports every request body our tests break off or cut short on purpose (test/security/bodies.test.ts,
// test/unit/body.test.ts) as a "disconnected: …" exception, and the tests' own "client went away" stream error as
// uncaught. The plugin already drops other "disconnected:" messages of this kind (its `ignoreMessages`) and writes
// the rest of workerd's log to this process's stdout or stderr, one message per write: drop these few too, so a green run fits
// on a screen (issue 11). Any other workerd message still shows.
const DELIBERATE_DISCONNECTS = [
  /^exception = \S+: disconnected: (reader canceled|fixed-length pipe ended prematurely|read end of pipe was aborted)/,
  /^uncaught exception; .*(client went away|Network connection lost)/,
  // Vite's note that a dependency's published source map names files it did not publish (the MCP SDK, openid-client,
  // oauth4webapi): nothing of ours and nothing to act on.
  /^Sourcemap for "[^"]*\/node_modules\/[^"]*" points to missing source files/,
];
for (const stream of [process.stdout, process.stderr]) {
  const write = stream.write.bind(stream);
  stream.write = ((chunk: string | Uint8Array, ...rest: never[]) => {
    const text = typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8');
    if (DELIBERATE_DISCONNECTS.some((re) => re.test(text))) return true;
    return write(chunk, ...rest);
  }) as typeof stream.write;
}

/** Test-only signing keys and secrets, made fresh for each run (never written to disk). */
async function testSecrets() {
  const keys = [];
  for (const kid of ['test-es256-a', 'test-es256-b']) {
    const { privateKey } = await generateKeyPair('ES256', { extractable: true });
    keys.push({ ...(await exportJWK(privateKey)), kid, alg: 'ES256' });
  }
  // OpenID Connect Core §15.1: ID tokens are RS256 by default (issue 15).
  const rsa = await generateKeyPair('RS256', { extractable: true });
  keys.push({ ...(await exportJWK(rsa.privateKey)), kid: 'test-rs256-a', alg: 'RS256' });
  const kek = Buffer.from(crypto.getRandomValues(new Uint8Array(32))).toString('base64url');
  return {
    // The first key signs; the second is in the ring as a "previous" key for verification tests.
    SIGNING_KEYS: JSON.stringify({ keys }),
    // Exposed separately so tests can forge tokens with a key that is in the ring but not signing.
    TEST_OTHER_SIGNING_KEY: JSON.stringify(keys[1]),
    TEST_RS256_SIGNING_KEY: JSON.stringify(keys[2]),
    KEY_ENCRYPTION_KEY: kek,
    ADMIN_TOKEN: 'test-admin-token-0123456789abcdef0123456789',
  };
}

export default defineConfig(async () => {
  const migrations = await readD1Migrations('./migrations');
  return {
    plugins: [
      cloudflareTest({
        wrangler: { configPath: './wrangler.toml' },
        miniflare: {
          // Every request logged in tests, so the no-secrets-in-logs test sees every line.
          bindings: { TEST_MIGRATIONS: migrations, REQUEST_LOG_SAMPLE_RATE: '1', ...(await testSecrets()) },
          // Issue 14 part 1: the tests call the product's TokenVerifier through a real service binding, as a
          // resource-server Worker would with `[[services]] service = "edge-oauth", entrypoint = "TokenVerifier"`.
          serviceBindings: { AUTH: { name: 'edge-oauth', entrypoint: 'TokenVerifier' } },
          // Issue 16: the suite sends thousands of token requests from one "address" (no CF-Connecting-IP), so the
          // product's two limiters are set out of reach here; test/security/rate-limits.test.ts swaps in the low
          // TEST_* limiters (same Miniflare implementation) to see them refuse.
          ratelimits: {
            TOKEN_RATE_LIMITER: { namespace_id: '16001', simple: { limit: 1_000_000, period: 60 } },
            IP_RATE_LIMITER: { namespace_id: '16002', simple: { limit: 1_000_000, period: 60 } },
            TEST_TOKEN_RATE_LIMITER: { namespace_id: '16901', simple: { limit: 3, period: 60 } },
            TEST_IP_RATE_LIMITER: { namespace_id: '16902', simple: { limit: 3, period: 60 } },
          },
        },
      }),
    ],
    test: {
      include: [
        'test/unit/**/*.test.ts',
        'test/integration/**/*.test.ts',
        'test/security/**/*.test.ts',
        'test/resource-server/**/*.test.ts',
        'test/service-binding/**/*.test.ts',
        'test/oidc/**/*.test.ts',
        'test/mcp-server/**/*.test.ts',
        'test/faults/**/*.test.ts',
      ],
      setupFiles: ['./test/setup.ts'],
      testTimeout: 30_000,
      // A green run fits on a screen (issue 11): a dot per test, the console of passed tests hidden (a failing
      // test still prints its console output and its error), no tuning hint. `npx vitest run --reporter=default`
      // lists every file again.
      reporters: ['dot'],
      silent: 'passed-only',
      experimental: { diagnostics: { isolate: false } },
      // Per-request info logs are noise even in a failing test's output; warnings and errors still show.
      onConsoleLog: (log: string) => !log.includes('"level":"info"'),
    },
  };
});
