/**
 * The one source of "now" for every expiry decision, so tests can move time without sleeping.
 * Tests run in the Worker's isolate and may replace `clock.now`; production never does.
 */
export const clock = {
  /** Milliseconds since the epoch. */
  now: (): number => Date.now(),
};

/** Seconds since the epoch (JWT NumericDate, RFC 7519 §2). */
export function nowSeconds(): number {
  return Math.floor(clock.now() / 1000);
}

/** Waits `ms` of wall time (costs no CPU in Workers). Tests replace it to avoid real delays. */
export const sleeper = {
  sleep: (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms)),
};
