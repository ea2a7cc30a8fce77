/** The sign-in page: email and password, the same accounts as the password grant. */
import type { FC } from 'hono/jsx';
import { ErrorBox, Layout } from './layout';

export interface LoginPageProps {
  csrf: string;
  next: string;
  email?: string;
  error?: string | null;
  /** The application the user is signing in for, when it is an authorization request. */
  appName?: string | null;
}

export const LoginPage: FC<LoginPageProps> = ({ csrf, next, email, error, appName }) => (
  <Layout title="Sign in">
    <div class="card">
      <h1>Sign in</h1>
      {appName ? (
        <p>
          Sign in to continue to <strong>{appName}</strong>.
        </p>
      ) : (
        <p>Sign in to manage your applications.</p>
      )}
      <ErrorBox message={error} />
      <form method="post" action="/login">
        <input type="hidden" name="csrf" value={csrf} />
        <input type="hidden" name="next" value={next} />
        <label for="email">Email address</label>
        <input
          id="email"
          name="email"
          type="email"
          autocomplete="username"
          required
          value={email ?? ''}
          autofocus={!email}
        />
        <label for="password">Password</label>
        <input
          id="password"
          name="password"
          type="password"
          autocomplete="current-password"
          required
          autofocus={!!email}
        />
        <div class="actions">
          <button type="submit">Sign in</button>
        </div>
      </form>
    </div>
  </Layout>
);
