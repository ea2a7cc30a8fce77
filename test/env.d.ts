/// <reference types="@cloudflare/vitest-plugin/types" />
declare namespace Cloudflare {
  interface Env {
    /** Test-only bindings, declared in vitest.config.ts. */
    TEST_MIGRATIONS: import('cloudflare:test').D1Migration[];
    TEST_OTHER_SIGNING_KEY: string;
  }
}
