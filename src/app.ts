/** The Hono application: routes mounted in one place, errors rendered in one place. */
import { Hono } from 'hono';
import { HTTPException } from 'hono/http-exception';
import { ConfigError } from './config';
import { OAuthError } from './lib/errors';
import { PUBLIC_CORS_PATHS, publicCors } from './middleware/public-cors';
import { rateLimit } from './middleware/rate-limit';
import { requestContext } from './middleware/request-context';
import { resourceChallenges } from './middleware/resource-challenge';
import { adminRoutes } from './routes/admin';
import { assetRoutes } from './routes/assets';
import { authorizeRoutes } from './routes/authorize';
import { demoRoutes } from './routes/demo';
import { filesRoutes } from './routes/files';
import { introspectRoutes } from './routes/introspect';
import { loginRoutes, logoutRoutes } from './routes/login';
import { rpLogoutRoutes } from './routes/logout-rp';
import { meRoutes } from './routes/me';
import { portalRoutes } from './routes/portal';
import { registerRoutes } from './routes/register';
import { revokeRoutes } from './routes/revoke';
import { tokenRoutes } from './routes/token';
import { userinfoRoutes } from './routes/userinfo';
import { wellKnownRoutes } from './routes/well-known';
import { isStorageUnavailable, temporarilyUnavailable } from './storage/unavailable';
import type { AppEnv } from './types';

export const app = new Hono<AppEnv>();

app.use('*', requestContext());
// Issue 13: CORS on what browser-based agents call (never on pages, admin or /v1), and RFC 9728 §5.1
// `resource_metadata` on every Bearer challenge of /v1.
for (const path of PUBLIC_CORS_PATHS) app.use(path, publicCors());
app.use('/v1/*', resourceChallenges());

// Rate limits at the edge (issue 16, src/middleware/rate-limit.ts, docs/rate-limits.md): per address in front of
// what needs no credentials; failed client authentications per address, authenticated clients per client (routes).
for (const path of ['/oauth2/token', '/v1/oauth2/token', '/token'])
  app.use(path, rateLimit({ scope: 'token', countFailures: true }));
app.use('/oauth2/introspect', rateLimit({ scope: 'introspect', countFailures: true }));
app.use('/oauth2/revoke', rateLimit({ scope: 'revoke', countFailures: true }));
app.use('/oauth2/register/*', rateLimit({ scope: 'register', answer: 'json' })); // Hono: `/*` matches the bare path too
app.use('/oauth2/authorize', rateLimit({ scope: 'authorize', answer: 'page' }));
app.use('/auth', rateLimit({ scope: 'authorize', answer: 'page' }));
app.on('POST', '/login', rateLimit({ scope: 'signin', answer: 'page' }));

app.route('/oauth2/token', tokenRoutes);
app.route('/v1/oauth2/token', tokenRoutes); // CitrusAd's path (seed 001)
app.route('/token', tokenRoutes); // seed 003's `https://auth-server/token`
app.route('/.well-known', wellKnownRoutes);
app.route('/v1/me', meRoutes);
app.route('/oauth2/revoke', revokeRoutes);
app.route('/oauth2/introspect', introspectRoutes);
app.route('/oauth2/register', registerRoutes);
app.route('/oauth2/userinfo', userinfoRoutes); // OpenID Connect Core §5.3 (issue 15)
app.route('/admin', adminRoutes);
// Authorization code flow and app portal (HTML pages; errors rendered as pages by their own handler).
app.route('/oauth2/authorize', authorizeRoutes);
app.route('/auth', authorizeRoutes); // seed 003's `https://auth-server/auth`; sign-in and consent continue at /oauth2/authorize
app.route('/login', loginRoutes);
app.route('/logout', logoutRoutes);
app.route('/oauth2/logout', rpLogoutRoutes); // OpenID Connect RP-Initiated Logout 1.0 (issue 15)
app.route('/apps', portalRoutes);
app.route('/assets', assetRoutes);
app.route('/demo', demoRoutes); // local demo only: 404 unless DEMO_CALLBACK_CLIENT_ID is set (src/routes/demo.ts)
app.route('/v1/img', filesRoutes); // images in R2 (issue 4, docs/files.md)

app.get('/', (c) => c.text('OAuth 2.0 authorization server. Metadata: /.well-known/oauth-authorization-server\n'));

// No registered code fits "no such path"; invalid_request with status 404, rendered like every other error.
app.notFound(() =>
  new OAuthError(
    'invalid_request',
    'No such endpoint exists; the server metadata at /.well-known/oauth-authorization-server lists the endpoints.',
    { status: 404 },
  ).toResponse(),
);

app.onError((err, c) => {
  const requestId = c.get('requestId');
  // RFC 6749 §5.2 temporarily_unavailable (and on resource routes, docs/reliability.md): a D1/KV/R2 call failed.
  if (isStorageUnavailable(err)) err = storageFailure(err, requestId);
  if (err instanceof OAuthError) {
    if (err.status >= 500 || err.reason) {
      console.log(
        JSON.stringify({ level: err.status >= 500 ? 'error' : 'info', requestId, error: err.code, reason: err.reason }),
      );
    }
    return withRequestId(err.toResponse(), requestId);
  }
  if (err instanceof ConfigError) {
    return withRequestId(
      new OAuthError(
        'server_error',
        `The server is misconfigured: ${err.setting} ${err.message.split(`${err.setting} `).pop()}.`,
      ).toResponse(),
      requestId,
    );
  }
  if (err instanceof HTTPException && err.status < 500) {
    return withRequestId(
      new OAuthError('invalid_request', err.message || 'The request is malformed.', {
        status: err.status,
      }).toResponse(),
      requestId,
    );
  }
  console.error(
    JSON.stringify({
      level: 'error',
      requestId,
      event: 'unhandled',
      name: err.name,
      message: err.message.slice(0, 500),
    }),
  );
  return withRequestId(
    new OAuthError('server_error', 'An unexpected error occurred; try again later.').toResponse(),
    requestId,
  );
});

/** The 503 for a failed storage call; the storage message goes to the log only (it may name tables or ids). */
function storageFailure(err: unknown, requestId: string | undefined): OAuthError {
  const message = String((err as Error)?.message ?? err).slice(0, 200);
  console.error(JSON.stringify({ level: 'error', requestId, event: 'storage_unavailable', message }));
  return temporarilyUnavailable();
}

function withRequestId(res: Response, requestId: string | undefined): Response {
  if (requestId) res.headers.set('X-Request-Id', requestId);
  return res;
}
