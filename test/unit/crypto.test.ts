import { describe, expect, it } from 'vitest';
import { DUMMY_PASSWORD_HASH, hashPassword, verifyPassword } from '../../src/lib/password';
import { randomToken, sha256, timingSafeEqualStrings } from '../../src/lib/random';
import {
  activeFailures,
  delayMs,
  LOCK_AFTER,
  lockRemaining,
  SLOW_AFTER,
  WINDOW_SECONDS,
} from '../../src/oauth/throttle-policy';

describe('password hashing', () => {
  it('uses the versioned PBKDF2 format at 100,000 iterations and verifies', async () => {
    const h = await hashPassword('s3cret');
    expect(h).toMatch(/^pbkdf2-sha256\$100000\$[\w-]{22}\$[\w-]{43}$/);
    expect(await verifyPassword('s3cret', h)).toBe(true);
    expect(await verifyPassword('s3cret ', h)).toBe(false);
  });
  it('salts every hash', async () => {
    expect(await hashPassword('x', 1000)).not.toBe(await hashPassword('x', 1000));
  });
  it('never matches the dummy hash or a malformed one', async () => {
    expect(await verifyPassword('', DUMMY_PASSWORD_HASH)).toBe(false);
    expect(await verifyPassword('x', 'md5$abc')).toBe(false);
    expect(await verifyPassword('x', 'pbkdf2-sha256$999999999$AA$AA')).toBe(false);
  });
});

describe('random values', () => {
  it('are 256 bits by default and distinct', () => {
    const a = randomToken();
    expect(a).toMatch(/^[\w-]{43}$/);
    expect(randomToken()).not.toBe(a);
  });
  it('hash to base64url SHA-256', async () => {
    expect(await sha256('abc')).toBe('ungWv48Bz-pBQUDeXa4iI7ADYaOWF3qctBD_YfIAFa0');
  });
  it('compare in constant time', async () => {
    expect(await timingSafeEqualStrings('a', 'a')).toBe(true);
    expect(await timingSafeEqualStrings('a', 'ab')).toBe(false);
  });
});

describe('throttle policy', () => {
  it('forgets failures after the window', () => {
    expect(activeFailures({ failures: 5, windowStart: 0, lockedUntil: 0 }, WINDOW_SECONDS - 1)).toBe(5);
    expect(activeFailures({ failures: 5, windowStart: 0, lockedUntil: 0 }, WINDOW_SECONDS)).toBe(0);
  });
  it('slows down from SLOW_AFTER failures, capped', () => {
    expect(delayMs(SLOW_AFTER - 1)).toBe(0);
    expect(delayMs(SLOW_AFTER)).toBe(250);
    expect(delayMs(SLOW_AFTER + 1)).toBe(500);
    expect(delayMs(LOCK_AFTER + 20)).toBe(4000);
  });
  it('reports the remaining lock', () => {
    expect(lockRemaining({ failures: 10, windowStart: 0, lockedUntil: 100 }, 40)).toBe(60);
    expect(lockRemaining({ failures: 10, windowStart: 0, lockedUntil: 100 }, 100)).toBe(0);
  });
});
