/**
 * Checks an email and password, for both the password grant (src/services/grants/password.ts) and the sign-in
 * page (src/routes/login.ts), so both share the same users and the same brute-force protection: failures are
 * counted per email in D1 (src/storage/throttle.ts, policy in throttle-policy.ts), slowed from the 3rd and
 * locked at the 10th; an unknown email costs the same PBKDF2 work as a wrong password. Failures are audited.
 */
import { nowSeconds, sleeper } from '../lib/clock';
import { DUMMY_PASSWORD_HASH, verifyPassword } from '../lib/password';
import { activeFailures, delayMs, lockRemaining } from '../oauth/throttle-policy';
import { auditStatement } from '../storage/audit';
import {
  recordFailure,
  throttleClearStatement,
  throttleFromRow,
  throttleReadStatement,
  userThrottleKey,
} from '../storage/throttle';
import { type User, userByEmailStatement, userFromRow } from '../storage/users';

export type PasswordCheck =
  | {
      ok: true;
      user: User;
      /** Resets the failure counter; null when there was none. The caller runs it, batched with its own writes. */
      resetThrottle: D1PreparedStatement | null;
    }
  /** locked: refused before the password was even checked. */
  | { ok: false; reason: 'locked' | 'wrong' | 'disabled'; retryAfter: number };

export interface PasswordCheckContext {
  via: 'password_grant' | 'login_page';
  /** Client id for the grant; null on the sign-in page. */
  actor: string | null;
  requestId?: string;
}

export const MAX_CREDENTIAL_LENGTH = 1024;

/** One D1 batch reads the user and the counter; a failure costs one more batch (counter and audit row). */
export async function checkUserPassword(
  db: D1Database,
  email: string,
  password: string,
  ctx: PasswordCheckContext,
): Promise<PasswordCheck> {
  if (email.length > MAX_CREDENTIAL_LENGTH || password.length > MAX_CREDENTIAL_LENGTH)
    return { ok: false, reason: 'wrong', retryAfter: 0 };
  const key = userThrottleKey(email);
  const [userRes, throttleRes] = await db.batch([userByEmailStatement(db, email), throttleReadStatement(db, key)]);
  const user = userFromRow(userRes.results[0]);
  const throttle = throttleFromRow(throttleRes.results[0]);
  const locked = lockRemaining(throttle, nowSeconds());
  if (locked > 0) return { ok: false, reason: 'locked', retryAfter: locked };
  const wait = delayMs(activeFailures(throttle, nowSeconds()));
  if (wait > 0) await sleeper.sleep(wait);

  const valid = await verifyPassword(password, user?.passwordHash ?? DUMMY_PASSWORD_HASH);
  if (valid && user && user.status === 'active') {
    return { ok: true, user, resetThrottle: throttle ? throttleClearStatement(db, key) : null };
  }
  const reason = user ? (valid ? 'user_disabled' : 'wrong_password') : 'unknown_user';
  // One batch: the counter and the audit row (never the password; the user only by id when it exists).
  const state = await recordFailure(db, key, nowSeconds(), [
    auditStatement(db, 'login_failed', {
      actor: ctx.actor,
      subject: user?.id ?? null,
      detail: { via: ctx.via, reason },
      requestId: ctx.requestId,
    }),
  ]);
  // A disabled account is only revealed to someone who knows its password. retryAfter > 0: this failure locked the email.
  return { ok: false, reason: valid && user ? 'disabled' : 'wrong', retryAfter: lockRemaining(state, nowSeconds()) };
}
