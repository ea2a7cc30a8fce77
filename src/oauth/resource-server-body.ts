/** The admin API's JSON bodies for resource servers (issue 13), valibot schemas; no I/O. */
import * as v from 'valibot';
import { OAuthError } from '../lib/errors';
import { parseBody } from './body-schema';
import { canonicalResourceUri } from './resource-uri';

const SCOPE_TOKEN = /^[\x21\x23-\x5b\x5d-\x7e]{1,64}$/; // RFC 6749 §3.3

const name = v.pipe(
  v.string('"name" must be a string'),
  v.trim(),
  v.minLength(1, '"name" is required'),
  v.maxLength(100, '"name" is at most 100 characters'),
);
const scopes = v.pipe(
  v.array(
    v.pipe(v.string(), v.regex(SCOPE_TOKEN, 'each scope must be an RFC 6749 §3.3 scope-token')),
    '"scopes" must be an array of strings',
  ),
  v.maxLength(32, 'at most 32 scopes'),
  v.check((list) => !list.includes('offline_access'), '"offline_access" is not a resource scope'),
  v.transform((list) => [...new Set(list)]),
);

const create = v.object({
  resource: v.string('"resource" (the resource server URI) is required'),
  name,
  scopes: v.optional(scopes, []),
});
const update = v.object({ name: v.optional(name), scopes: v.optional(scopes) });

/** A new resource server: its canonical URI (src/oauth/resource-uri.ts), name and scopes. */
export function parseNewResourceServer(body: unknown): { uri: string; name: string; scopes: string[] } {
  const b = parseBody(create, body, 'invalid_request');
  const uri = canonicalResourceUri(b.resource);
  if (!uri.ok) throw new OAuthError('invalid_request', `"resource" ${uri.reason}.`);
  return { uri: uri.uri, name: b.name, scopes: b.scopes };
}

export function parseResourceServerChanges(body: unknown): { name?: string; scopes?: string[] } {
  return parseBody(update, body, 'invalid_request');
}
