/** The page frame shared by the login, consent, portal and error pages: plain, accessible HTML. */
import type { Child, FC } from 'hono/jsx';

export interface LayoutProps {
  title: string;
  /** Signed-in user's email: shows the portal link and a sign-out button. */
  user?: { email: string; csrf: string };
  wide?: boolean;
  children?: Child;
}

export const Layout: FC<LayoutProps> = ({ title, user, wide, children }) => (
  <html lang="en">
    <head>
      <meta charset="utf-8" />
      <meta name="viewport" content="width=device-width, initial-scale=1" />
      <meta name="robots" content="noindex" />
      <title>{title} · Partners sign-in</title>
      <link rel="stylesheet" href="/assets/style.css" />
    </head>
    <body>
      <header class="site">
        <a class="brand" href="/apps">
          Partners
        </a>
        {user && (
          <form method="post" action="/logout">
            <input type="hidden" name="csrf" value={user.csrf} />
            <span class="muted">{user.email} · </span>
            <button type="submit" class="link">
              Sign out
            </button>
          </form>
        )}
      </header>
      <main class={wide ? 'wide' : undefined} id="main">
        {children}
      </main>
      <footer>Partners authorization server</footer>
    </body>
  </html>
);

export const ErrorBox: FC<{ message?: string | null }> = ({ message }) =>
  message ? (
    <div class="error" role="alert">
      {message}
    </div>
  ) : null;

export const ErrorPage: FC<{ title: string; detail: string }> = ({ title, detail }) => (
  <Layout title={title}>
    <div class="card">
      <h1>{title}</h1>
      <p>{detail}</p>
      <p class="muted">You can close this page, or go back to the application you came from.</p>
    </div>
  </Layout>
);
