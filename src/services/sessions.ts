/**
 * Ending browser sessions (issue 10 item 5). Sign-out ends the current session: its row goes, so every copy of the
 * cookie stops working at once; the user's other sign-ins (another browser, a phone) go on. A password reset and
 * disabling the user end every session of the user, in the same batch as the change (src/services/user-account.ts).
 */
import { deleteSessionStatement } from '../storage/sessions';

/** Ends one session, named by the SHA-256 of its id. */
export async function endSession(env: Env, hash: string): Promise<void> {
  await deleteSessionStatement(env.DB, hash).run();
}
