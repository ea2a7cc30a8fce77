#!/usr/bin/env node
// `npm run admin -- <command>`: the operator's CLI over the admin API (/admin). Plain Node 20, no build step.
// Server: `--url URL`, else the ADMIN_URL environment variable, else the issuer of the local server `npm start`
// last started (demo-credentials.json, so `PORT=8801 npm start` is followed), else http://localhost:8787.
// Token: ADMIN_TOKEN; for a local server also demo-credentials.json / .dev.vars.
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const FALLBACK_URL = 'http://localhost:8787';

class UsageError extends Error {}
class ApiError extends Error {
  constructor(status, body) {
    super(body?.error_description ?? body?.error ?? `HTTP ${status}`);
    this.status = status;
    this.body = body;
  }
}

// Issue 11: the client policy switches (docs/operations.md); the server refuses both relaxations for a public client.
const POLICY_OPTIONS = { 'refresh-token-policy': { type: 'string' }, 'require-pkce': { type: 'string' } };
const POLICY_HELP =
  '--refresh-token-policy rotate (default: a new refresh token on every use) or reuse (the same one until it expires;\n' +
  '  confidential clients only). --require-pkce false lets a confidential client use the code flow without PKCE.\n';
function policyFields(v) {
  const out = {};
  const policy = v['refresh-token-policy'];
  if (policy !== undefined) {
    if (policy !== 'rotate' && policy !== 'reuse')
      throw new UsageError('--refresh-token-policy must be rotate or reuse');
    out.refresh_token_policy = policy;
  }
  const pkce = v['require-pkce'];
  if (pkce !== undefined) {
    if (pkce !== 'true' && pkce !== 'false') throw new UsageError('--require-pkce must be true or false');
    out.require_pkce = pkce === 'true';
  }
  return out;
}

// Issue 13: private_key_jwt clients register their public keys, from a JWK Set file or by URL.
const KEY_OPTIONS = { 'jwks-file': { type: 'string' }, 'jwks-uri': { type: 'string' } };
const KEY_HELP =
  '--jwks-file FILE (a JWK Set of public keys) or --jwks-uri https://… makes a private_key_jwt client (no secret).\n';
function keyFields(v) {
  if (v['jwks-file'] && v['jwks-uri']) throw new UsageError('give --jwks-file or --jwks-uri, not both');
  if (v['jwks-uri']) return { token_endpoint_auth_method: 'private_key_jwt', jwks_uri: v['jwks-uri'] };
  if (v['jwks-file']) {
    let jwks;
    try {
      jwks = JSON.parse(readFileSync(v['jwks-file'], 'utf8'));
    } catch (err) {
      throw new UsageError(`--jwks-file: cannot read a JSON JWK Set from ${v['jwks-file']} (${err.message})`);
    }
    return { token_endpoint_auth_method: 'private_key_jwt', jwks };
  }
  return {};
}

// Issue 13 (RFC 8707): which resources a client may ask for; the server checks each is registered.
const RESOURCE_OPTIONS = { 'allowed-resources': { type: 'string' } };
const RESOURCE_HELP =
  '--allowed-resources "URI URI…" (space- or comma-separated registered resource URIs, the /v1 audience included)\n' +
  '  limits the resources the client may ask for; --allowed-resources all allows every registered resource again.\n';
function resourceFields(v) {
  const value = v['allowed-resources'];
  if (value === undefined) return {};
  if (value.trim() === 'all') return { allowed_resources: null };
  const uris = value.split(/[\s,]+/).filter(Boolean);
  if (uris.length === 0) throw new UsageError('--allowed-resources needs at least one URI, or all');
  return { allowed_resources: uris };
}

// ── commands ───────────────────────────────────────────────────────────────────────────────────────────────
// Each: usage line, description, options (node:util parseArgs), and run(api, positionals, values) → result.
const list = { type: 'string', multiple: true };
const COMMANDS = {
  'clients list': {
    usage: 'clients list [--limit N] [--offset N]',
    help: 'List clients, newest first.',
    options: { limit: { type: 'string' }, offset: { type: 'string' } },
    run: (api, _p, v) => api('GET', `/clients${query({ limit: v.limit, offset: v.offset })}`).then((r) => r.clients),
    table: ['client_id', 'client_name', 'status', 'confidential', 'grant_types', 'scope', 'created_at'],
  },
  'clients show': {
    usage: 'clients show <client_id>',
    help: "Show one client's registration (never its secret: only a hash is stored).",
    args: ['client_id'],
    run: (api, [id]) => api('GET', `/clients/${enc(id)}`),
  },
  'clients create': {
    usage:
      'clients create --name NAME [--grant G]... [--scope "base files"] [--redirect-uri URI]... [--public] [--client-uri URL]\n' +
      '                 [--client-id ID] [--client-secret-env VAR] [--refresh-token-policy rotate|reuse] [--require-pkce true|false]\n' +
      '                 [--jwks-file FILE | --jwks-uri URL] [--allowed-resources "URI…"|all]',
    help:
      'Register a client. Grants: client_credentials (default), password, refresh_token, authorization_code.\n' +
      'The client secret is printed once; store it now.\n' +
      '--client-id keeps an id of your choosing (3-128 letters, digits, . _ ~ -), e.g. a partner moved from another\n' +
      'server; --client-secret-env VAR takes its secret (32-256 such characters) from the environment variable VAR,\n' +
      "never from the command line. Only the secret's hash is stored.\n" +
      KEY_HELP +
      POLICY_HELP +
      RESOURCE_HELP.trimEnd(),
    options: {
      name: { type: 'string' },
      grant: list,
      scope: { type: 'string' },
      'redirect-uri': list,
      public: { type: 'boolean' },
      'client-uri': { type: 'string' },
      description: { type: 'string' },
      'client-id': { type: 'string' },
      'client-secret-env': { type: 'string' },
      ...KEY_OPTIONS,
      ...POLICY_OPTIONS,
      ...RESOURCE_OPTIONS,
    },
    run: (api, _p, v) => {
      if (!v.name) throw new UsageError('--name is required');
      const secretVar = v['client-secret-env'];
      if (secretVar !== undefined && !process.env[secretVar])
        throw new UsageError(`--client-secret-env: the environment variable ${secretVar} is not set`);
      return api('POST', '/clients', {
        ...(v['client-id'] ? { client_id: v['client-id'] } : {}),
        ...(secretVar ? { client_secret: process.env[secretVar] } : {}),
        client_name: v.name,
        grant_types: v.grant ?? ['client_credentials'],
        ...(v.scope ? { scope: v.scope } : {}),
        ...(v['redirect-uri'] ? { redirect_uris: v['redirect-uri'] } : {}),
        ...(v['client-uri'] ? { client_uri: v['client-uri'] } : {}),
        ...(v.description ? { description: v.description } : {}),
        token_endpoint_auth_method: v.public ? 'none' : 'client_secret_basic',
        ...keyFields(v),
        ...policyFields(v),
        ...resourceFields(v),
      });
    },
  },
  'clients update': {
    usage:
      'clients update <client_id> [--name NAME] [--grant G]... [--scope S] [--redirect-uri URI]...\n' +
      '                 [--jwks-file FILE | --jwks-uri URL]\n' +
      '                 [--refresh-token-policy rotate|reuse] [--require-pkce true|false] [--allowed-resources "URI…"|all]',
    help: `Change a client. Lists given here (grants, redirect URIs, resources) replace the stored ones.\n${POLICY_HELP}${RESOURCE_HELP.trimEnd()}`,
    args: ['client_id'],
    options: {
      name: { type: 'string' },
      grant: list,
      scope: { type: 'string' },
      'redirect-uri': list,
      'client-uri': { type: 'string' },
      description: { type: 'string' },
      ...KEY_OPTIONS,
      ...POLICY_OPTIONS,
      ...RESOURCE_OPTIONS,
    },
    run: (api, [id], v) => {
      const keys = keyFields(v);
      const body = {
        // A new key source replaces the other one (the server refuses both).
        ...(keys.jwks ? { jwks: keys.jwks, jwks_uri: null } : {}),
        ...(keys.jwks_uri ? { jwks_uri: keys.jwks_uri, jwks: null } : {}),
        ...(v.name ? { client_name: v.name } : {}),
        ...(v.grant ? { grant_types: v.grant } : {}),
        ...(v.scope ? { scope: v.scope } : {}),
        ...(v['redirect-uri'] ? { redirect_uris: v['redirect-uri'] } : {}),
        ...(v['client-uri'] ? { client_uri: v['client-uri'] } : {}),
        ...(v.description ? { description: v.description } : {}),
        ...policyFields(v),
        ...resourceFields(v),
      };
      if (Object.keys(body).length === 0) throw new UsageError('nothing to change: give at least one option');
      return api('PATCH', `/clients/${enc(id)}`, body);
    },
  },
  'clients disable': {
    usage: 'clients disable <client_id>',
    help: 'Disable a client: it can no longer authenticate and its access tokens are revoked (deny-list).',
    args: ['client_id'],
    run: (api, [id]) => api('POST', `/clients/${enc(id)}/disable`),
  },
  'clients enable': {
    usage: 'clients enable <client_id>',
    help: 'Enable a disabled client again.',
    args: ['client_id'],
    run: (api, [id]) => api('POST', `/clients/${enc(id)}/enable`),
  },
  'clients delete': {
    usage: 'clients delete <client_id> --yes',
    help: 'Delete a client, its refresh tokens and registration; its access tokens are revoked.',
    args: ['client_id'],
    options: { yes: { type: 'boolean' } },
    run: async (api, [id], v) => {
      if (!v.yes) throw new UsageError('deleting cannot be undone: add --yes');
      await api('DELETE', `/clients/${enc(id)}`);
      return { deleted: id };
    },
  },
  // Issue 13: resource servers (RFC 8707), docs/resource-servers.md.
  'resources list': {
    usage: 'resources list',
    help: 'List the resource servers (the built-in /v1 first).',
    run: (api) => api('GET', '/resources').then((r) => r.resource_servers),
    table: ['resource', 'name', 'scopes', 'builtin'],
  },
  'resources show': {
    usage: 'resources show <uri>',
    help: 'Show one resource server.',
    args: ['uri'],
    run: (api, [uri]) => api('GET', `/resources/${enc(uri)}`),
  },
  'resources create': {
    usage: 'resources create <uri> --name NAME [--scope S]...',
    help: 'Register a resource server; the URI is stored in canonical form (no trailing slash, no query or fragment).',
    args: ['uri'],
    options: { name: { type: 'string' }, scope: list },
    run: (api, [uri], v) => {
      if (!v.name) throw new UsageError('--name is required');
      return api('POST', '/resources', { resource: uri, name: v.name, scopes: v.scope ?? [] });
    },
  },
  'resources update': {
    usage: 'resources update <uri> [--name NAME] [--scope S]...',
    help: 'Change the name or the scopes (the scopes given replace the list).',
    args: ['uri'],
    options: { name: { type: 'string' }, scope: list },
    run: (api, [uri], v) =>
      api('PATCH', `/resources/${enc(uri)}`, {
        ...(v.name ? { name: v.name } : {}),
        ...(v.scope ? { scopes: v.scope } : {}),
      }),
  },
  'resources delete': {
    usage: 'resources delete <uri> --yes',
    help: 'Remove a resource server; tokens already issued for it keep their aud until they expire.',
    args: ['uri'],
    options: { yes: { type: 'boolean' } },
    run: async (api, [uri], v) => {
      if (!v.yes) throw new UsageError('deleting cannot be undone: add --yes');
      await api('DELETE', `/resources/${enc(uri)}`);
      return { deleted: uri };
    },
  },
  'clients rotate-secret': {
    usage: 'clients rotate-secret <client_id>',
    help: 'Replace the client secret. The new secret is printed once; the old one stops working at once.',
    args: ['client_id'],
    run: (api, [id]) => api('POST', `/clients/${enc(id)}/rotate-secret`),
  },
  'users create': {
    usage: 'users create --email EMAIL [--password PW]',
    help: 'Create a user. Without --password one is generated and printed once.',
    options: { email: { type: 'string' }, password: { type: 'string' } },
    run: (api, _p, v) => {
      if (!v.email) throw new UsageError('--email is required');
      return api('POST', '/users', { email: v.email, ...(v.password ? { password: v.password } : {}) });
    },
  },
  'users update': {
    usage:
      'users update <user_id|email> [--name N] [--given-name N] [--family-name N] [--picture URL] [--locale L] [--email-verified true|false]',
    help: 'Edit the OpenID Connect profile claims of a user (released by UserInfo for scope profile/email).',
    args: ['user'],
    options: {
      name: { type: 'string' },
      'given-name': { type: 'string' },
      'family-name': { type: 'string' },
      picture: { type: 'string' },
      locale: { type: 'string' },
      'email-verified': { type: 'string' },
    },
    run: (api, [u], v) => {
      const body = {};
      for (const [opt, field] of [
        ['name', 'name'],
        ['given-name', 'given_name'],
        ['family-name', 'family_name'],
        ['picture', 'picture'],
        ['locale', 'locale'],
      ])
        if (v[opt] !== undefined) body[field] = v[opt];
      if (v['email-verified'] !== undefined) body.email_verified = v['email-verified'] === 'true';
      if (Object.keys(body).length === 0) throw new UsageError('give at least one field to change');
      return api('PATCH', `/users/${enc(u)}`, body);
    },
  },
  'users show': {
    usage: 'users show <user_id|email>',
    help: 'Show a user (never the password hash).',
    args: ['user'],
    run: (api, [u]) => api('GET', `/users/${enc(u)}`),
  },
  'users disable': {
    usage: 'users disable <user_id|email>',
    help: 'Disable a user: signed out everywhere (refresh tokens revoked, access tokens on the deny-list).',
    args: ['user'],
    run: (api, [u]) => api('POST', `/users/${enc(u)}/disable`),
  },
  'users enable': {
    usage: 'users enable <user_id|email>',
    help: 'Enable a disabled user again.',
    args: ['user'],
    run: (api, [u]) => api('POST', `/users/${enc(u)}/enable`),
  },
  'users reset-password': {
    usage: 'users reset-password <user_id|email> [--password PW]',
    help: 'Set a new password. Without --password one is generated and printed once.',
    args: ['user'],
    options: { password: { type: 'string' } },
    run: (api, [u], v) => api('POST', `/users/${enc(u)}/password`, v.password ? { password: v.password } : {}),
  },
  'initial-access-token create': {
    usage: 'initial-access-token create [--expires-in SECONDS] [--max-uses N] [--label TEXT]',
    help: 'Issue an initial access token for dynamic client registration (RFC 7591), printed once. Default: 1 day, unlimited uses.',
    options: { 'expires-in': { type: 'string' }, 'max-uses': { type: 'string' }, label: { type: 'string' } },
    run: (api, _p, v) =>
      api('POST', '/initial-access-tokens', {
        ...(v['expires-in'] ? { expires_in: num(v['expires-in'], '--expires-in') } : {}),
        ...(v['max-uses'] ? { max_uses: num(v['max-uses'], '--max-uses') } : {}),
        ...(v.label ? { label: v.label } : {}),
      }),
  },
  'keys list': {
    usage: 'keys list',
    help: 'Show the signing key in use, the published keys and the stored keys with their states.',
    run: (api) => api('GET', '/keys'),
  },
  'keys rotate': {
    usage: 'keys rotate [--force]',
    help:
      'One rotation step. First run: stage a new key (published in the JWKS, not signing yet).\n' +
      'Second run, once caches have the new JWKS (about 6 minutes later): the new key signs; the old key keeps\n' +
      'verifying until its last token has expired, then is retired. --force skips the wait (tokens signed by the\n' +
      'new key may be refused by verifiers whose JWKS cache is older).',
    options: { force: { type: 'boolean' } },
    run: (api, _p, v) => api('POST', '/keys/rotate', v.force ? { force: true } : {}),
  },
  audit: {
    usage: 'audit [--limit N] [--event NAME] [--since UNIX_SECONDS] [--before ID]',
    help: 'Read the audit trail, newest first (failed logins and client authentications, reuse, client and key changes).',
    options: {
      limit: { type: 'string' },
      event: { type: 'string' },
      since: { type: 'string' },
      before: { type: 'string' },
    },
    run: (api, _p, v) =>
      api('GET', `/audit${query({ limit: v.limit, event: v.event, since: v.since, before: v.before })}`).then(
        (r) => r.events,
      ),
    table: ['id', 'at', 'event', 'actor', 'subject', 'detail', 'request_id'],
  },
};
// Short aliases.
COMMANDS['iat create'] = COMMANDS['initial-access-token create'];

const GLOBAL_OPTIONS = {
  url: { type: 'string' },
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
};

// ── helpers ───────────────────────────────────────────────────────────────────────────────────────────────
const enc = encodeURIComponent;
function query(params) {
  const q = new URLSearchParams(Object.entries(params).filter(([, v]) => v !== undefined));
  const s = q.toString();
  return s ? `?${s}` : '';
}
function num(value, name) {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new UsageError(`${name} must be a whole number`);
  return n;
}

function readJson(path) {
  try {
    return JSON.parse(readFileSync(path, 'utf8'));
  } catch {
    return null;
  }
}

/**
 * The server to manage when --url is not given: ADMIN_URL, else the issuer `npm start` wrote to demo-credentials.json
 * (the port it really listens on), else the default port.
 */
function defaultUrl() {
  if (process.env.ADMIN_URL) return process.env.ADMIN_URL;
  const issuer = readJson(join(root, 'demo-credentials.json'))?.issuer;
  return typeof issuer === 'string' && issuer ? issuer : FALLBACK_URL;
}

/** ADMIN_TOKEN from the environment; for a local URL, also demo-credentials.json or .dev.vars. */
function resolveToken(url) {
  if (process.env.ADMIN_TOKEN) return process.env.ADMIN_TOKEN;
  const host = new URL(url).hostname;
  if (['localhost', '127.0.0.1', '[::1]'].includes(host)) {
    const creds = readJson(join(root, 'demo-credentials.json'));
    if (creds?.admin_token) return creds.admin_token;
    const devVars = join(root, '.dev.vars');
    if (existsSync(devVars)) {
      const m = /^ADMIN_TOKEN=(.+)$/m.exec(readFileSync(devVars, 'utf8'));
      if (m) return m[1].trim();
    }
    throw new UsageError('no admin token: run `npm start` once (it writes demo-credentials.json), or set ADMIN_TOKEN');
  }
  throw new UsageError(`no admin token for ${url}: set the ADMIN_TOKEN environment variable`);
}

function makeApi(baseUrl, token) {
  return async function api(method, path, body) {
    let res;
    try {
      res = await fetch(`${baseUrl}/admin${path}`, {
        method,
        headers: {
          Authorization: `Bearer ${token}`,
          ...(body !== undefined ? { 'Content-Type': 'application/json' } : {}),
        },
        body: body !== undefined ? JSON.stringify(body) : undefined,
      });
    } catch (err) {
      throw new ApiError(0, {
        error: 'unreachable',
        error_description: `cannot reach ${baseUrl} (${err.cause?.code ?? err.message}); is the server running? (npm start)`,
      });
    }
    const text = await res.text();
    let parsed = null;
    try {
      parsed = text ? JSON.parse(text) : null;
    } catch {
      parsed = { error: 'bad_response', error_description: `HTTP ${res.status}: ${text.slice(0, 200)}` };
    }
    if (!res.ok) throw new ApiError(res.status, parsed);
    return parsed;
  };
}

// ── output ────────────────────────────────────────────────────────────────────────────────────────────────
/** Unix times (fields named *_at, *_until, promote_after) are shown as ISO dates in tables. */
const isTime = (key) => /(_at|_until|^at)$/.test(key) || key === 'promote_after';
function cell(v, key = '') {
  if (v === null || v === undefined) return '';
  if (typeof v === 'number' && isTime(key) && v > 1e9) return new Date(v * 1000).toISOString().replace('.000Z', 'Z');
  if (Array.isArray(v)) return v.join(',');
  if (typeof v === 'object') return JSON.stringify(v);
  return String(v);
}
function printTable(rows, columns) {
  if (rows.length === 0) {
    console.log('(none)');
    return;
  }
  const widths = columns.map((c) => Math.min(60, Math.max(c.length, ...rows.map((r) => cell(r[c], c).length))));
  const line = (vals) =>
    vals
      .map((v, i) => v.slice(0, widths[i]).padEnd(widths[i]))
      .join('  ')
      .trimEnd();
  console.log(line(columns.map((c) => c.toUpperCase())));
  for (const r of rows) console.log(line(columns.map((c) => cell(r[c], c))));
}
function printObject(obj) {
  const width = Math.max(...Object.keys(obj).map((k) => k.length));
  for (const [k, v] of Object.entries(obj)) {
    if (Array.isArray(v) && v.length > 0 && typeof v[0] === 'object') {
      console.log(`${k}:`);
      printTable(v, Object.keys(v[0]));
    } else {
      console.log(`${k.padEnd(width)}  ${cell(v, k)}`);
    }
  }
  const once = ['client_secret', 'password', 'initial_access_token'].filter((k) => k in obj);
  if (once.length) console.log(`\n${once.join(', ')} is shown only this once: store it now.`);
}

function usage() {
  const lines = Object.entries(COMMANDS)
    .filter(([name]) => name !== 'iat create')
    .map(([, c]) => `  ${c.usage}`);
  return `Usage: npm run admin -- <command> [options]

Commands:
${lines.join('\n')}

Global options:
  --url URL   server to manage; default: $ADMIN_URL, else the local server npm start last started
              (its issuer in demo-credentials.json), else ${FALLBACK_URL}. Now: ${defaultUrl()}
              The admin token comes from ADMIN_TOKEN (locally also from demo-credentials.json or .dev.vars)
  --json      machine-readable JSON output
  --help      help for a command, e.g. npm run admin -- clients create --help`;
}

// ── main ──────────────────────────────────────────────────────────────────────────────────────────────────
async function main(argv) {
  // First pass with every option any command knows, just to find the command words.
  const allOptions = Object.assign({}, GLOBAL_OPTIONS, ...Object.values(COMMANDS).map((c) => c.options ?? {}));
  const words = parseArgs({ args: argv, options: allOptions, allowPositionals: true, strict: false }).positionals;
  const name = [`${words[0]} ${words[1]}`, words[0]].find((n) => COMMANDS[n]);
  if (!name) {
    if (argv.length === 0 || argv.includes('--help') || argv.includes('-h')) {
      console.log(usage());
      return 0;
    }
    throw new UsageError(`unknown command "${words.slice(0, 2).join(' ')}"\n\n${usage()}`);
  }
  const cmd = COMMANDS[name];
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      options: { ...GLOBAL_OPTIONS, ...(cmd.options ?? {}) },
      allowPositionals: true,
      strict: true,
    });
  } catch (err) {
    throw new UsageError(`${err.message}\n\nUsage: npm run admin -- ${cmd.usage}`);
  }
  const { values } = parsed;
  if (values.help) {
    console.log(`Usage: npm run admin -- ${cmd.usage}\n\n${cmd.help}\n\nGlobal options: --url URL, --json, --help`);
    return 0;
  }
  const positionals = parsed.positionals.slice(name.split(' ').length);
  const needed = cmd.args ?? [];
  if (positionals.length !== needed.length) {
    throw new UsageError(
      `expected ${needed.length ? needed.map((a) => `<${a}>`).join(' ') : 'no arguments'}\n\nUsage: npm run admin -- ${cmd.usage}`,
    );
  }
  const url = (values.url ?? defaultUrl()).replace(/\/+$/, '');
  try {
    new URL(url);
  } catch {
    throw new UsageError(
      `${values.url !== undefined ? '--url' : process.env.ADMIN_URL ? 'ADMIN_URL' : 'the issuer in demo-credentials.json'} must be a URL such as ${FALLBACK_URL}`,
    );
  }
  const result = await cmd.run(makeApi(url, resolveToken(url)), positionals, values);
  if (values.json) console.log(JSON.stringify(result, null, 2));
  else if (Array.isArray(result)) printTable(result, cmd.table ?? Object.keys(result[0] ?? {}));
  else printObject(result);
  return 0;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err) => {
    const json = process.argv.includes('--json');
    if (err instanceof ApiError) {
      const hint = err.status === 401 ? ' (check ADMIN_TOKEN)' : '';
      if (json) console.error(JSON.stringify({ status: err.status, ...(err.body ?? {}) }));
      else
        console.error(
          `error: ${err.message}${hint}${err.status ? ` [HTTP ${err.status}${err.body?.error ? ` ${err.body.error}` : ''}]` : ''}`,
        );
      process.exit(1);
    }
    if (err instanceof UsageError) {
      if (json) console.error(JSON.stringify({ error: 'usage', error_description: err.message }));
      else console.error(`error: ${err.message}`);
      process.exit(2);
    }
    console.error(`error: ${err?.stack ?? err}`);
    process.exit(1);
  },
);
