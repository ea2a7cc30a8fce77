/**
 * Which resources a client may ask for (issue 13, RFC 8707 §2), as an operator sets it in the admin API: each value
 * in canonical form (src/oauth/resource-uri.ts) and registered now (the built-in /v1 audience or a row of
 * resource_servers), so a typo cannot silently lock a client out. Stored as canonical URIs, the form
 * src/oauth/resource-target.ts compares requests with; `null` = every registered resource. One D1 read.
 */
import type { Config } from '../config';
import { OAuthError } from '../lib/errors';
import { AllowedResourcesBody } from '../oauth/admin-bodies';
import { parseBody } from '../oauth/body-schema';
import { canonicalResourceUri } from '../oauth/resource-uri';
import { findResourceServers } from '../storage/resource-servers';

const bad = (description: string) => new OAuthError('invalid_client_metadata', description);

/**
 * The `allowed_resources` of an admin body: undefined when absent (keep what is stored), null to reset, else the
 * canonical URIs, de-duplicated in order. Throws invalid_client_metadata naming the first bad value.
 */
export async function allowedResourcesOf(
  db: D1Database,
  config: Config,
  body: Record<string, unknown>,
): Promise<string[] | null | undefined> {
  const values = parseBody(AllowedResourcesBody, body, 'invalid_client_metadata').allowed_resources;
  if (values === undefined || values === null) return values;
  const uris: string[] = [];
  for (const raw of values) {
    const r = canonicalResourceUri(raw);
    if (!r.ok) throw bad(`The allowed resource "${raw.slice(0, 80)}" ${r.reason}.`);
    if (!uris.includes(r.uri)) uris.push(r.uri);
  }
  const found = await findResourceServers(db, config, uris);
  const unknown = uris.find((u) => !found.has(u));
  if (unknown) throw bad(`The allowed resource "${unknown.slice(0, 80)}" is not a registered resource server.`);
  return uris;
}
