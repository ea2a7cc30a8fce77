// Bench-only baseline ("Hono floor", issue 17): the product's framework and nothing of ours. One Hono app (the
// product's SmartRouter default) with one middleware (`await next()`, as the product's first one does) and one route
// answering a constant JSON body with `c.json` and a Cache-Control header, as the product's JWKS route does. The
// stack is fixed (Hono), so this is what a JWKS request of any Hono app costs on this runtime; `jwks` ÷ this is what
// our own routing table, middleware and log add, and this ÷ `ceiling` is what Hono itself costs.
//
// `POST /oauth2/token` is the Hono token floor: what any token endpoint on the fixed stack must do for a
// client_credentials token, and nothing of ours: Hono's routing and one middleware, the form body read, one call of
// the TOKEN_RATE_LIMITER binding (issue 16: every token request is rate limited per client), one signature of the
// product's claims with its key (../sign-floor/sign.js), `c.json` with `Cache-Control: no-store` (RFC 6749 §5.1).
// No client authentication, no storage. cc ÷ this is what our own work for a token costs.
import { Hono } from 'hono';
import { tokenResponseBody } from '../sign-floor/sign.js';

// A public key set of the product's shape (one ES256 and one RS256 key), so the body is as long as its JWKS.
const JWKS = {
  keys: [
    {
      kty: 'EC',
      x: 'PqNS261aTWVxrtbWz3Nhi38H4luySwOzD2zK5bFVmhc',
      y: 'BpmRxjjSzp9UkqTIyJnYExCWS-bPVFS-t6i3eMvTmV8',
      crv: 'P-256',
      kid: 'bench-es',
      alg: 'ES256',
      use: 'sig',
    },
    {
      kty: 'RSA',
      n: 'wncwSPATJfOj1gB9nBhNFs3ZuL6UOOm2YEoSm6ynC7z6Zh13kO4efluwAa-0_wJ5gdz-E35O0S7jzfXLCHoDR6mKhoSbE_lVifO_W67203_SyVxZ1j4iNfwQuY_AA-WCmTnxDDxwRBXJ4OEC_VtLu2qHLScGfTWZCraIFb52s8w2XVFsV14XcoYfVP3JfpLUgdUL5Hvw7iMfkH_kzlcfd4qRoYUBvUB4I6I8wJNskoUt-gze8NYueCWcD28oy7iu1H43-JXdR00h_XOnx20aW_OLIy2mjHPepsjxSkFGsn3r4JqsrpSHrgJvwy-_IiM_Hm229VNVx-KxLhe_B0ErTw',
      e: 'AQAB',
      kid: 'bench-rs',
      alg: 'RS256',
      use: 'sig',
    },
  ],
};

const app = new Hono();
app.use('*', async (_c, next) => {
  await next();
});
app.get('/.well-known/jwks.json', (c) => {
  c.header('Cache-Control', 'public, max-age=300');
  return c.json(JWKS);
});

app.post('/oauth2/token', async (c) => {
  // As src/lib/body.ts reads a form: `Request.text()` would make workerd warn on every urlencoded body.
  const form = new URLSearchParams(await new Response(c.req.raw.body).text());
  if (form.get('grant_type') !== 'client_credentials') return c.json({ error: 'unsupported_grant_type' }, 400);
  const { success } = await c.env.TOKEN_RATE_LIMITER.limit({ key: 'token:cl_bench' });
  if (!success) return c.json({ error: 'slow_down' }, 429);
  c.header('Cache-Control', 'no-store');
  return c.json(await tokenResponseBody(c.env));
});

export default app;
