/** RP-Initiated Logout 1.0 §2–3: the confirmation asked when the request cannot prove it comes from the user's app. */
import type { FC } from 'hono/jsx';
import { Layout } from './layout';

export interface LogoutPageProps {
  csrf: string;
  email: string | null;
  appName: string | null;
  /** The request's own parameters, carried through the form. */
  params: Record<string, string>;
}

export const LogoutConfirmPage: FC<LogoutPageProps> = ({ csrf, email, appName, params }) => (
  <Layout title="Sign out?">
    <div class="card">
      <h1>Sign out?</h1>
      <p>
        {appName ? (
          <>
            <strong>{appName}</strong> asks to sign you out
          </>
        ) : (
          'An application asks to sign you out'
        )}
        {email ? (
          <>
            {' '}
            of <strong>{email}</strong> on this server.
          </>
        ) : (
          ' of this server.'
        )}
      </p>
      <form method="post" action="/oauth2/logout">
        <input type="hidden" name="csrf" value={csrf} />
        {Object.entries(params).map(([name, value]) => (
          <input type="hidden" name={name} value={value} />
        ))}
        <div class="actions">
          <button type="submit" name="decision" value="logout">
            Sign out
          </button>
          <button type="submit" name="decision" value="stay" class="secondary">
            Stay signed in
          </button>
        </div>
      </form>
    </div>
  </Layout>
);

export const LoggedOutPage: FC<{ signedOut: boolean }> = ({ signedOut }) => (
  <Layout title={signedOut ? 'Signed out' : 'Still signed in'}>
    <div class="card">
      <h1>{signedOut ? 'You are signed out' : 'You are still signed in'}</h1>
      <p class="muted">You can close this window.</p>
    </div>
  </Layout>
);
