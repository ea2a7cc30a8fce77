/**
 * The applications a user has allowed, for the portal (/apps): registered clients by their registry name, and
 * clients known only by their Client ID Metadata Document (an https client_id, issue 13), which have no row in
 * `clients`, by the `client_name` of their document through the one client seam (resolve-client.ts: the KV copy,
 * else one SSRF-safe fetch, in parallel). A document that cannot be fetched now still lists the consent, named by its
 * URL's host, so the user can always withdraw it. The document's host is shown beside its name: anyone can publish
 * a document that calls itself "Claude".
 */
import { isClientIdDocumentUrl } from '../oauth/client-id-document';
import { type ConsentView, listConsents } from '../storage/consents';
import { ClientDocumentUnusable, resolveClient } from './resolve-client';

export interface ConsentedApp extends ConsentView {
  clientName: string;
  /** For a metadata-document client: the host its document is served from. */
  documentHost: string | null;
}

export async function listConsentedApps(env: Env, userId: string): Promise<ConsentedApp[]> {
  const consents = await listConsents(env.DB, userId);
  return Promise.all(
    consents.map(async (k): Promise<ConsentedApp> => {
      if (k.clientName !== null) return { ...k, clientName: k.clientName, documentHost: null };
      // No clients row and not a document URL: left by nothing today (deleting a client deletes its consents).
      if (!isClientIdDocumentUrl(k.clientId)) return { ...k, clientName: k.clientId, documentHost: null };
      const host = new URL(k.clientId).host;
      const name = await resolveClient(env, k.clientId).then(
        (client) => client?.name ?? host,
        (err: unknown) => {
          if (err instanceof ClientDocumentUnusable) return host;
          throw err; // a storage failure: the page's 503, not a wrong name
        },
      );
      return { ...k, clientName: name, documentHost: host };
    }),
  );
}
