/// <reference types="@cloudflare/vitest-plugin/types" />
declare namespace Cloudflare {
  interface Env {
    /** Test-only bindings, declared in vitest.config.ts. */
    TEST_MIGRATIONS: import('cloudflare:test').D1Migration[];
    TEST_OTHER_SIGNING_KEY: string;
    TEST_RS256_SIGNING_KEY: string;
    /** Issue 16: limit 3 per 60 s, for test/security/rate-limits.test.ts (the product's own are set out of reach). */
    TEST_TOKEN_RATE_LIMITER: RateLimit;
    TEST_IP_RATE_LIMITER: RateLimit;
    /** The product's own TokenVerifier entrypoint, through a service binding (issue 14 part 1). */
    AUTH: Service<import('../src/rpc/token-verifier').TokenVerifier>;
  }
}
