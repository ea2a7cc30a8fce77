// Bench-only baseline ("signing floor", issue 17): each request answered with one jose-signed ES256 JWT of the same
// header and claims as the product's client_credentials token, with the product's own signing key, in a JSON body
// shaped like the token response (./sign.js). No routing, no client authentication, no storage: the difference to
// the ceiling is what one signature costs in situ, and cc ÷ this floor is what the rest of a token issuance costs
// on top of it.
import { tokenResponseBody } from './sign.js';

export default {
  async fetch(_request, env) {
    return Response.json(await tokenResponseBody(env), { headers: { 'Cache-Control': 'no-store' } });
  },
};
