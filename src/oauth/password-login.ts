/**
 * Checks an email and password for the sign-in page with the same users and the same brute-force
 * protection as the password grant (src/oauth/grants/password.ts): failures are counted per email in D1
 * (src/storage/throttle.ts, policy in throttle-policy.ts), slowed from the 3rd and locked at the 10th, and
 * an unknown email costs the same PBKDF2 work as a wrong password.
 */
import { nowSeconds, sleeper } from '../clock';
import { recordFailure, throttleClearStatement, throttleFromRow, throttleReadStatement, userThrottleKey } from '../storage/throttle';
import { userByEmailStatement, userFromRow, type User } from '../storage/users';
import { DUMMY_PASSWORD_HASH, verifyPassword } from '../tokens/password';
import { activeFailures, delayMs, lockRemaining } from './throttle-policy';

export type PasswordCheck =
  | { ok: true; user: User }
  | { ok: false; reason: 'locked' | 'wrong' | 'disabled'; retryAfter: number };

const MAX_LENGTH = 1024;

/** One D1 batch to read user and counter; one write on failure, or one counter reset on success after failures. */
export async function checkUserPassword(db: D1Database, email: string, password: string): Promise<PasswordCheck> {
  if (email.length > MAX_LENGTH || password.length > MAX_LENGTH) return { ok: false, reason: 'wrong', retryAfter: 0 };
  const key = userThrottleKey(email);
  const [userRes, throttleRes] = await db.batch([userByEmailStatement(db, email), throttleReadStatement(db, key)]);
  const user = userFromRow(userRes.results[0]);
  const throttle = throttleFromRow(throttleRes.results[0]);
  const locked = lockRemaining(throttle, nowSeconds());
  if (locked > 0) return { ok: false, reason: 'locked', retryAfter: locked };
  const wait = delayMs(activeFailures(throttle, nowSeconds()));
  if (wait > 0) await sleeper.sleep(wait);
  const valid = await verifyPassword(password, user?.passwordHash ?? DUMMY_PASSWORD_HASH);
  if (!valid || !user || user.status !== 'active') {
    const state = await recordFailure(db, key, nowSeconds());
    const lockedNow = lockRemaining(state, nowSeconds());
    if (lockedNow > 0) return { ok: false, reason: 'locked', retryAfter: lockedNow };
    // A disabled account is only revealed to someone who knows its password.
    return { ok: false, reason: valid && user ? 'disabled' : 'wrong', retryAfter: 0 };
  }
  if (throttle) await throttleClearStatement(db, key).run();
  return { ok: true, user };
}
