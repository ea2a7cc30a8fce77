/**
 * Remembered consent (table `consents`, migrations/0003 and 0013), the rule with no I/O: what a consent covers, and
 * what an authorization request needs to be covered. RFC 6749 §10.2 leaves when to ask again to the server; RFC 8707
 * makes the resource part of what the user approves (the token's `aud`), so a consent given for resource A never
 * skips the page for resource B of the same client.
 *
 * - `mask`: the scopes of the default audience (/v1, `ACCESS_TOKEN_AUDIENCE`) and the OpenID Connect scopes, as bits
 *   (scopes.ts). Rows from before migration 0013 have only this: they mean the default audience.
 * - `entries`: every other resource allowed, as "<canonical uri>" for the resource and "<canonical uri> <scope>" for
 *   each of its scopes (a canonical URI and a scope token hold no space: resource-uri.ts, RFC 6749 §3.3). One flat
 *   list, so widening is a set union inside the upsert (storage/consents.ts).
 */

import type { ResourceServer } from './resource-target';
import { isOidcScope, maskOf, SCOPES } from './scopes';

export interface Consent {
  mask: number;
  entries: readonly string[];
}

export const NO_CONSENT: Consent = { mask: 0, entries: [] };

/**
 * What a request for `resources` with `scopes` asks the user to allow. A scope counts for each requested resource that
 * understands it (the token carries it for every `aud`); /v1's scopes have bits only when /v1 is requested, so
 * another resource server's scope that happens to be spelt `files` is never taken for ours.
 */
export function consentWanted(resources: readonly ResourceServer[], scopes: readonly string[]): Consent {
  const own = resources.some((r) => r.builtin);
  const bits = scopes.filter((s) => isOidcScope(s) || (own && (SCOPES as readonly string[]).includes(s)));
  const entries: string[] = [];
  for (const r of resources) {
    if (r.builtin) continue;
    entries.push(r.uri, ...scopes.filter((s) => r.scopes.includes(s)).map((s) => `${r.uri} ${s}`));
  }
  return { mask: maskOf(bits), entries };
}

/** Whether `granted` covers everything `wanted` asks for (each bit, each resource and each of its scopes). */
export function consentCovers(granted: Consent, wanted: Consent): boolean {
  if ((granted.mask & wanted.mask) !== wanted.mask) return false;
  const have = new Set(granted.entries);
  return wanted.entries.every((e) => have.has(e));
}
