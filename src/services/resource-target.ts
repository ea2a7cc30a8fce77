/**
 * What a token or authorization request is for (RFC 8707 §2): its `resource` values resolved against the registry
 * and the client, and its scopes checked per resource server. Without `resource`, the default audience (/v1,
 * ACCESS_TOKEN_AUDIENCE), exactly as before issue 13. Costs no storage read unless a resource other than /v1 is
 * named, then one D1 read.
 */
import type { Config } from '../config';
import {
  assertResourcesAllowed,
  parseResourceParams,
  type ResourceServer,
  targetScopes,
} from '../oauth/resource-target';
import type { Client } from '../storage/clients';
import { builtinKey, builtinResource, findResourceServers } from '../storage/resource-servers';

export interface Target {
  resources: ResourceServer[];
  /** The `aud` values: the resources' URIs. */
  uris: string[];
  scopes: string[];
}

/** Resolves `resource` values (none = the default audience) for `client`; throws invalid_target / invalid_scope. */
export async function resolveResources(
  db: D1Database,
  config: Config,
  client: Client,
  values: readonly string[],
): Promise<ResourceServer[]> {
  // The common case first: no `resource`, no per-client list, so the default audience with no URI to parse.
  if (values.length === 0 && !client.allowedResources) return [builtinResource(config)];
  const uris = values.length === 0 ? [builtinKey(config)] : parseResourceParams(values);
  return assertResourcesAllowed(uris, await findResourceServers(db, config, uris), client.allowedResources);
}

/** resolveResources, then the scopes for them (targetScopes). */
export async function resolveTarget(
  db: D1Database,
  config: Config,
  client: Client,
  values: readonly string[],
  rawScope: string | undefined,
  openScopes: readonly string[] = [],
): Promise<Target> {
  const resources = await resolveResources(db, config, client, values);
  return {
    resources,
    uris: resources.map((r) => r.uri),
    scopes: targetScopes(resources, rawScope, client.scopes, openScopes),
  };
}

/** What a code or refresh-token family remembers (migrations/0009 `resources`): the canonical URIs granted. */
export function grantedKeys(config: Config, resources: readonly ResourceServer[]): string[] {
  return resources.map((r) => (r.builtin ? builtinKey(config) : r.uri));
}

/** The `aud` values for remembered resources: NULL (a row from before issue 13) is the default audience. */
export function audienceForKeys(config: Config, keys: readonly string[] | null): string[] {
  if (!keys) return [config.audience];
  const own = builtinKey(config);
  return keys.map((k) => (k === own ? config.audience : k));
}
