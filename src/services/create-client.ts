/**
 * Creating a client: the one implementation behind the admin API (POST /admin/clients), dynamic registration
 * (RFC 7591 §3, POST /oauth2/register) and the portal (POST /apps). One D1 batch (one transaction): the client row,
 * its registration access token when registered dynamically (RFC 7592 §1), and the audit row, so a failure leaves
 * neither a client nobody audited nor an audit row for a client that does not exist. The KV client cache is cleared
 * after the batch (a cached "unknown id" marker must not outlive the creation).
 */

import { nowSeconds } from '../lib/clock';
import { auditStatement, auditStatementIf } from '../storage/audit';
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
  return (await insertClient(env, input, audit, options, null)) as CreatedClient;
}

/**
 * RFC 7591 §3 with an initial access token: the token's use is spent in the same batch as the client (issue 16), so a
 * failure leaves neither a use spent without its client (a single-use token lost to our outage) nor a client without
 * its use. Null when the token is unknown, expired or used up (nothing written).
 */
export async function createClientSpending(
  env: Env,
  input: NewClient,
  audit: CreateClientAudit,
  spend: D1PreparedStatement,
): Promise<CreatedClient | null> {
  return insertClient(env, input, audit, { registration: true }, spend);
}

async function insertClient(
  env: Env,
  input: NewClient,
  audit: CreateClientAudit,
  options: { registration?: boolean; openly?: boolean },
  spend: D1PreparedStatement | null,
): Promise<CreatedClient | null> {
  const db = env.DB;
  // After `spend`, the client's INSERT runs only if the spend matched; the rows after it only beside the client.
  const { statement, client, secret } = await newClientStatement(db, input, spend ? 'changes() = 1' : undefined);
  const reg = options.registration ? await newRegistration(db, client.id) : undefined;
  const auditFields = { actor: audit.actor, subject: client.id, detail: audit.detail, requestId: audit.requestId };
  const results = await db.batch([
    ...(spend ? [spend] : []),
    statement,
    ...(reg ? [reg.statement] : []),
    // Issue 13: registered without an initial access token, so it expires when idle (src/jobs/cleanup.ts).
    ...(options.openly ? [markOpenlyRegisteredStatement(db, client.id, nowSeconds())] : []),
    spend
      ? auditStatementIf(db, 'client_created', auditFields, {
          sql: 'EXISTS (SELECT 1 FROM clients WHERE id = ?7)',
          params: [client.id],
        })
      : auditStatement(db, 'client_created', auditFields),
  ]);
  if (spend && (results[1].meta.changes ?? 0) === 0) return null;
  await dropCachedCopy(env, client.id, input.id !== undefined);
  if (options.openly) client.registeredOpenly = true;
  return { client, secret, ...(reg ? { registrationToken: reg.token } : {}) };
}

/**
 * Clears a cached "unknown id" marker. A generated id is 128 random bits nobody can have asked for yet, so no cache
 * entry can exist and a failing KV delete changes nothing: it must not fail a creation that is done (issue 16: the
 * client's retry would create a second client, or find its single-use initial access token spent). A fixed id
 * (seeding) may have been asked for, so there a failure stays a 503 and the retry clears it.
 */
async function dropCachedCopy(env: Env, id: string, fixed: boolean): Promise<void> {
  if (fixed) return invalidateClient(env.CACHE, id);
  await invalidateClient(env.CACHE, id).catch((err: unknown) =>
    console.warn(
      JSON.stringify({ level: 'warn', event: 'client_cache_clear_failed', message: String(err).slice(0, 200) }),
    ),
  );
}
