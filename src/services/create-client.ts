/**
 * Creating a client: the one implementation behind the admin API (POST /admin/clients), dynamic registration
 * (RFC 7591 §3, POST /oauth2/register) and the portal (POST /apps). One D1 batch (one transaction): the client row,
 * its registration access token when registered dynamically (RFC 7592 §1), and the audit row, so a failure leaves
 * neither a client nobody audited nor an audit row for a client that does not exist. The KV client cache is cleared
 * after the batch (a cached "unknown id" marker must not outlive the creation).
 */

import { nowSeconds } from '../lib/clock';
import { auditStatement } from '../storage/audit';
import { newRegistration } from '../storage/client-registrations';
import { type Client, invalidateClient, type NewClient, newClientStatement } from '../storage/clients';
import { markOpenlyRegisteredStatement } from '../storage/open-clients';

export interface CreateClientAudit {
  /** Who created it: "admin", "registration" or the owner's user id. */
  actor: string;
  detail: Record<string, unknown>;
  requestId?: string;
}

export interface CreatedClient {
  client: Client;
  /** Shown once to the creator; only its hash is stored. Null for a public client. */
  secret: string | null;
  /** RFC 7592 §1 registration access token, when `registration` was asked for. */
  registrationToken?: string;
}

/** Creates a client (and, with `registration`, its RFC 7592 registration access token) with its audit row. */
export async function createClient(
  env: Env,
  input: NewClient,
  audit: CreateClientAudit,
  options: { registration?: boolean; openly?: boolean } = {},
): Promise<CreatedClient> {
  const db = env.DB;
  const { statement, client, secret } = await newClientStatement(db, input);
  const reg = options.registration ? await newRegistration(db, client.id) : undefined;
  await db.batch([
    statement,
    ...(reg ? [reg.statement] : []),
    // Issue 13: registered without an initial access token, so it expires when idle (src/jobs/cleanup.ts).
    ...(options.openly ? [markOpenlyRegisteredStatement(db, client.id, nowSeconds())] : []),
    auditStatement(db, 'client_created', {
      actor: audit.actor,
      subject: client.id,
      detail: audit.detail,
      requestId: audit.requestId,
    }),
  ]);
  // The only KV copy a new id can have is a 60 s "unknown client" marker: if KV is down (issue 16, docs/reliability.md)
  // the client is created all the same and other isolates see it within that minute. (A change or deletion, where a
  // stale copy could still authenticate, keeps failing on a KV error: src/services/delete-client.ts and the others.)
  await invalidateClient(env.CACHE, client.id).catch((err: unknown) =>
    console.warn(
      JSON.stringify({ level: 'warn', event: 'client_cache_drop_failed', message: String(err).slice(0, 200) }),
    ),
  );
  if (options.openly) client.registeredOpenly = true;
  return { client, secret, ...(reg ? { registrationToken: reg.token } : {}) };
}
