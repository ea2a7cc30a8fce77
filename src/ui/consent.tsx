/** The consent page: who is asking, for what, in plain words; Allow or Deny (RFC 6749 §4.1.1, RFC 9700 §4.7). */
import type { FC } from 'hono/jsx';
import type { ResourceServer } from '../oauth/resource-target';
import { isScope, SCOPE_DESCRIPTIONS } from '../oauth/scopes';
import type { Client } from '../storage/clients';
import { Layout } from './layout';

export interface ConsentPageProps {
  csrf: string;
  email: string;
  client: Client;
  scopes: string[];
  /** RFC 8707: the resources the request named (none: our own API, not shown). */
  resources: ResourceServer[];
  redirectUri: string;
  /** The authorization request's parameters, carried through unchanged (`resource` may repeat). */
  params: [string, string][];
  /** The user allowed these scopes before; shown to a public client, which must be confirmed every time. */
  remembered?: boolean;
}

export const AppIdentity: FC<{ client: Pick<Client, 'name' | 'logoUrl' | 'siteUrl'> }> = ({ client }) => (
  <div class="app">
    {client.logoUrl ? (
      <img src={client.logoUrl} alt="" width={64} height={64} />
    ) : (
      <div class="logo-placeholder" aria-hidden="true">
        {client.name.slice(0, 1).toUpperCase()}
      </div>
    )}
    <div>
      <strong>{client.name}</strong>
      {client.siteUrl && /^https?:\/\//i.test(client.siteUrl) && (
        <div>
          <a href={client.siteUrl} rel="noopener noreferrer" target="_blank">
            {client.siteUrl}
          </a>
        </div>
      )}
    </div>
  </div>
);

/** A scope in plain words: /v1's described, another resource server's by name and the server it belongs to. */
function scopeText(scope: string, resources: ResourceServer[]): string {
  if (isScope(scope) && (resources.length === 0 || resources.some((r) => r.builtin))) return SCOPE_DESCRIPTIONS[scope];
  const owners = resources.filter((r) => !r.builtin && r.scopes.includes(scope)).map((r) => r.name);
  return `Use the permission “${scope}” at ${owners.join(', ')}`;
}

/** The host a redirect URI sends the user to ("" for a private-use scheme: then the scheme). */
function redirectHost(uri: string): string {
  try {
    const u = new URL(uri);
    return u.host || u.protocol;
  } catch {
    return uri;
  }
}

const LOOPBACK_HOSTS = ['localhost', '127.0.0.1', '[::1]'];

/**
 * Issue 13: a client described by a Client ID Metadata Document chose its own name: the page shows where the user
 * will be sent (the redirect URI's host) and who published the document (the client_id's host) prominently, and warns
 * when every redirect URI is on this computer (any local program could be listening there).
 */
const DocumentClientNotice: FC<{ client: Client; redirectUri: string }> = ({ client, redirectUri }) => {
  const allLocal = client.redirectUris.every((u) => {
    try {
      return LOOPBACK_HOSTS.includes(new URL(u).hostname);
    } catch {
      return false;
    }
  });
  return (
    <div id="document-client">
      <p>
        You will be sent back to <strong id="redirect-host">{redirectHost(redirectUri)}</strong>. This application
        describes itself at <strong>{redirectHost(client.id)}</strong>; its name is its own claim, not checked by this
        server.
      </p>
      {allLocal && (
        <p class="muted" id="localhost-warning">
          Warning: this application only returns to a program on your own computer (localhost). Allow it only if you
          just started it yourself.
        </p>
      )}
    </div>
  );
};

export const ConsentPage: FC<ConsentPageProps> = ({
  csrf,
  email,
  client,
  scopes,
  resources,
  redirectUri,
  params,
  remembered,
}) => (
  <Layout title={`Allow ${client.name}?`} user={{ email, csrf }}>
    <div class="card">
      <AppIdentity client={client} />
      {client.metadataDocument && <DocumentClientNotice client={client} redirectUri={redirectUri} />}
      <h1>Allow {client.name} to use your account?</h1>
      {client.description && <p class="muted">{client.description}</p>}
      <p>
        You are signed in as <strong>{email}</strong>. If you allow it, <strong>{client.name}</strong> will be able to:
      </p>
      <ul class="scopes">
        {scopes.map((s) => (
          <li>{scopeText(s, resources)}.</li>
        ))}
        {scopes.length === 0 && <li>Call the services below on your behalf.</li>}
      </ul>
      {resources.length > 0 && (
        <div id="resources">
          <p>These permissions are only for:</p>
          <ul class="resources">
            {resources.map((r) => (
              <li>
                <strong>{r.name}</strong> <code>{r.uri}</code>
              </li>
            ))}
          </ul>
        </div>
      )}
      {remembered && (
        <p class="muted" id="remembered">
          You allowed this before. {client.name} has no secret of its own, so another program could pretend to be it:
          confirm that you started this just now.
        </p>
      )}
      <p class="muted">
        You will then be sent back to <code>{redirectUri}</code>. You can withdraw this permission at any time on the{' '}
        <a href="/apps">applications page</a>.
      </p>
      <form method="post" action="/oauth2/authorize">
        <input type="hidden" name="csrf" value={csrf} />
        {params.map(([name, value]) => (
          <input type="hidden" name={name} value={value} />
        ))}
        <div class="actions">
          <button type="submit" name="decision" value="allow">
            Allow
          </button>
          <button type="submit" name="decision" value="deny" class="secondary">
            Deny
          </button>
        </div>
      </form>
    </div>
  </Layout>
);
