/**
 * Brute-force policy for passwords and client secrets: failures are counted per username or client
 * in a sliding window; from SLOW_AFTER failures each attempt is delayed, and at LOCK_AFTER the key is
 * refused until the lock expires (answered with Retry-After).
 */
export const WINDOW_SECONDS = 15 * 60;
export const SLOW_AFTER = 3;
export const LOCK_AFTER = 10;
export const LOCK_SECONDS = 15 * 60;

export interface ThrottleState {
  failures: number;
  windowStart: number;
  lockedUntil: number;
}

/** Failures that still count at `now` (an old window counts as zero). */
export function activeFailures(state: ThrottleState | null, now: number): number {
  if (!state || state.windowStart + WINDOW_SECONDS <= now) return 0;
  return state.failures;
}

/** Seconds until the lock ends, or 0 when not locked. */
export function lockRemaining(state: ThrottleState | null, now: number): number {
  return state && state.lockedUntil > now ? state.lockedUntil - now : 0;
}

/** Delay before answering an attempt after `failures` recent failures: 0, then 250 ms doubling to 4 s. */
export function delayMs(failures: number): number {
  if (failures < SLOW_AFTER) return 0;
  return Math.min(250 * 2 ** (failures - SLOW_AFTER), 4000);
}
