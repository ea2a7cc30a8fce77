#!/usr/bin/env node
// Prints fresh production secrets: SIGNING_KEYS (an ES256 and an RS256 key), KEY_ENCRYPTION_KEY, ADMIN_TOKEN.
// Pipe each value into `wrangler secret put NAME`; never commit them.
import { makeSecrets } from './local.mjs';

const secrets = await makeSecrets();
for (const [name, value] of Object.entries(secrets)) console.log(`${name}=${value}`);
