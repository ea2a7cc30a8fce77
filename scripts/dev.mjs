#!/usr/bin/env node
// `npm start`: a working local server with demo credentials on a fresh clone.
// 1. creates .dev.vars (development key ring and secrets) if there is none;
// 2. applies the D1 migrations to the local database (.wrangler/state);
// 3. seeds a demo confidential client and a demo user (idempotent: the same credentials on every run);
// 4. prints them, writes demo-credentials.json (git-ignored), and starts `wrangler dev`.
import { spawn } from 'node:child_process';
import { applyMigrations, ensureDevVars, root, seedDemo, wrangler } from './local.mjs';

const port = Number(process.env.PORT ?? 8787);
if (!Number.isInteger(port) || port < 1 || port > 65535) {
  console.error(`PORT must be a TCP port number, got "${process.env.PORT}"`);
  process.exit(1);
}
const origin = `http://localhost:${port}`;

await ensureDevVars();
await applyMigrations();
const creds = await seedDemo(origin);

console.log(`
Local OAuth server: ${origin}
  metadata   ${origin}/.well-known/oauth-authorization-server
  client_id      ${creds.client_id}
  client_secret  ${creds.client_secret}
  username       ${creds.username}
  password       ${creds.password}
(also in demo-credentials.json)

Try:
  curl -u ${creds.client_id}:${creds.client_secret} ${origin}/oauth2/token -d grant_type=client_credentials
`);

const child = spawn(
  process.execPath,
  [wrangler, 'dev', '--port', String(port), '--var', `ISSUER:${origin}`, '--var', `ACCESS_TOKEN_AUDIENCE:${origin}/v1`],
  { cwd: root, stdio: 'inherit', env: { ...process.env, WRANGLER_SEND_METRICS: 'false' } },
);
for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => child.kill(sig));
child.on('exit', (code) => process.exit(code ?? 0));
