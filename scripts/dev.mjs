#!/usr/bin/env node
// `npm start`: a working local server with demo credentials on a fresh clone.
// 1. creates .dev.vars (development key ring and secrets) if there is none;
// 2. applies the D1 migrations to the local database (.wrangler/state);
// 3. starts `wrangler dev` (with the demo callback page /demo/callback enabled);
// 4. seeds a demo confidential client and a demo user through the admin API (idempotent: the same credentials on
//    every run), writes demo-credentials.json (git-ignored) and prints the address and the credentials.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import {
  applyMigrations,
  DEMO_CLIENT_ID,
  devArgs,
  ensureDevVars,
  root,
  seedDemo,
  seedOperatorCredentials,
  seedResource,
  waitUntilUp,
  wrangler,
  wranglerEnv,
} from './local.mjs';

const port = Number(process.env.PORT ?? 8787);
if (!Number.isInteger(port) || port < 1 || port > 65535) {
  console.error(`PORT must be a TCP port number, got "${process.env.PORT}"`);
  process.exit(1);
}
const origin = `http://localhost:${port}`;

const secrets = await ensureDevVars();
await applyMigrations();
await seedOperatorCredentials(secrets.ADMIN_TOKEN);

const child = spawn(process.execPath, [...devArgs(port, origin), '--show-interactive-dev-session=false'], {
  cwd: root,
  stdio: 'inherit',
  env: wranglerEnv(),
});
// Issue 14 part 3: the example MCP server (examples/mcp-server) beside it, on MCP_PORT (8788), bound to this
// server's TokenVerifier through wrangler's local dev registry and sharing its R2 state (--persist-to). A second
// wrangler process: in one `wrangler dev -c a -c b` only the first Worker listens on a port. The link secret is
// fresh on every start (links live 5 minutes anyway).
const mcpPort = Number(process.env.MCP_PORT ?? 8788);
const mcpOrigin = `http://localhost:${mcpPort}`;
let mcp = null;
for (const sig of ['SIGINT', 'SIGTERM'])
  process.on(sig, () => {
    child.kill(sig);
    mcp?.kill(sig);
  });
child.on('exit', (code) => {
  mcp?.kill('SIGTERM');
  process.exit(code ?? 0);
});

await waitUntilUp(origin, { failed: () => child.exitCode !== null });
// Started once the product listens: two wrangler processes starting at the same instant can pick the same local
// socket for their entrypoints ("bind(): Address already in use").
mcp = spawn(
  process.execPath,
  [
    wrangler,
    'dev',
    '-c',
    'examples/mcp-server/wrangler.toml',
    '--port',
    String(mcpPort),
    '--persist-to',
    '.wrangler/state',
    '--var',
    `RESOURCE:${mcpOrigin}/mcp`,
    '--var',
    `LINK_SECRET:${randomBytes(32).toString('base64url')}`,
    '--show-interactive-dev-session=false',
  ],
  { cwd: root, stdio: 'inherit', env: wranglerEnv() },
);
let creds;
try {
  creds = await seedDemo(origin, secrets.ADMIN_TOKEN);
  await seedResource(origin, secrets.ADMIN_TOKEN, {
    resource: `${mcpOrigin}/mcp`,
    name: 'Images (example MCP server)',
    scopes: ['files', 'upload_files'],
  });
} catch (err) {
  console.error(String(err?.message ?? err));
  child.kill('SIGTERM');
  process.exit(1);
}

// The code flow of the README, ready to click (RFC 7636 Appendix B's example verifier and challenge).
const callback = `http://127.0.0.1:${port}/demo/callback`;
const authorize = `${origin}/oauth2/authorize?response_type=code&client_id=${DEMO_CLIENT_ID}&redirect_uri=${encodeURIComponent(callback)}&scope=base&state=demo&code_challenge=E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM&code_challenge_method=S256`;
console.log(`
Local OAuth server: ${origin}
  metadata   ${origin}/.well-known/oauth-authorization-server
  client_id      ${creds.client_id}
  client_secret  ${creds.client_secret}
  username       ${creds.username}
  password       ${creds.password}
  redirect_uris  http://127.0.0.1/demo/callback, http://127.0.0.1/callback (any port)
  admin_token           in demo-credentials.json (npm run admin -- --help)
  initial_access_token  in demo-credentials.json (POST ${origin}/oauth2/register)
(also in demo-credentials.json)

MCP server (examples/mcp-server): ${mcpOrigin}/mcp
  metadata   ${mcpOrigin}/.well-known/oauth-protected-resource/mcp
  tools      list_images, get_image_link (scope files), upload_image (scope upload_files)
  a registered resource: an MCP client (MCP Inspector, Claude Code, VS Code) given this URL discovers this server,
  registers itself and signs you in (open registration is on locally; see examples/mcp-server/README.md)

Try:
  curl -u ${creds.client_id}:${creds.client_secret} ${origin}/oauth2/token -d grant_type=client_credentials
  open ${authorize}
`);
