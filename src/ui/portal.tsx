/** App registration portal pages (seed 003): the list with consents, and the credentials shown once. The register and edit form is app-form-page.tsx. */
import type { FC } from 'hono/jsx';
import type { JSX } from 'hono/jsx/jsx-runtime';
import { ALL_SCOPES, SCOPE_DESCRIPTIONS, scopeMask } from '../oauth/scopes';
import type { ConsentedApp } from '../services/consented-apps';
import type { Client } from '../storage/clients';
import { AppIdentity } from './consent';
import { Layout } from './layout';

export interface UserProps {
  user: { email: string; csrf: string };
}

const NOTICES: Record<string, string> = {
  updated: 'Your changes were saved.',
  deleted: 'The application was deleted. Its tokens no longer work.',
  withdrawn: 'Permission withdrawn. That application can no longer act for you.',
};

/**
 * A list of the user's things with an actions column (its header is for screen readers), or a sentence when it is
 * empty: the applications they registered and the applications they allowed.
 */
const ActionTable: FC<{ columns: string[]; empty: string; rows: JSX.Element[] }> = ({ columns, empty, rows }) =>
  rows.length === 0 ? (
    <p class="muted">{empty}</p>
  ) : (
    <table>
      <thead>
        <tr>
          {columns.map((name) => (
            <th scope="col">{name}</th>
          ))}
          <th scope="col">
            <span class="hint">Actions</span>
          </th>
        </tr>
      </thead>
      <tbody>{rows}</tbody>
    </table>
  );

export const AppsPage: FC<UserProps & { apps: Client[]; consents: ConsentedApp[]; notice?: string }> = ({
  user,
  apps,
  consents,
  notice,
}) => (
  <Layout title="Your applications" user={user} wide>
    {notice && NOTICES[notice] && (
      <div class="notice" role="status">
        {NOTICES[notice]}
      </div>
    )}
    <div class="card">
      <h1>Your applications</h1>
      <p>Register an application to let it ask Partners users for access to their account.</p>
      <ActionTable
        columns={['Name', 'Client ID']}
        empty="You have not registered any application yet."
        rows={apps.map((a) => (
          <tr>
            <td>{a.name}</td>
            <td>
              <code>{a.id}</code>
            </td>
            <td>
              <a href={`/apps/${encodeURIComponent(a.id)}`}>Edit</a>
            </td>
          </tr>
        ))}
      />
      <div class="actions">
        <a class="button" href="/apps/new">
          Register a new application
        </a>
      </div>
    </div>
    <div class="card">
      <h2>Applications you have allowed</h2>
      <ActionTable
        columns={['Application', 'It may']}
        empty="You have not allowed any application to use your account."
        rows={consents.map((k) => (
          <tr>
            <td>
              {k.clientName}
              {k.documentHost ? (
                <div class="muted">
                  described by <code>{k.documentHost}</code>
                </div>
              ) : null}
            </td>
            <td>
              <ul class="scopes">
                {ALL_SCOPES.filter((s) => (k.scopeMask & scopeMask([s])) !== 0).map((s) => (
                  <li>{SCOPE_DESCRIPTIONS[s]}</li>
                ))}
                {k.resources.map((uri) => (
                  <li>
                    Use <code>{uri}</code> for you
                  </li>
                ))}
              </ul>
            </td>
            <td>
              <form method="post" action={`/apps/consents/${encodeURIComponent(k.clientId)}/withdraw`}>
                <input type="hidden" name="csrf" value={user.csrf} />
                <button type="submit" class="danger">
                  Withdraw
                </button>
              </form>
            </td>
          </tr>
        ))}
      />
    </div>
  </Layout>
);

/** Shown once, right after registration or rotation: the secret is not stored in readable form. */
export const CredentialsPage: FC<UserProps & { client: Client; secret: string | null; rotated?: boolean }> = ({
  user,
  client,
  secret,
  rotated,
}) => (
  <Layout title="Your credentials" user={user}>
    <div class="card">
      <AppIdentity client={client} />
      <h1>{rotated ? 'Your new client secret' : 'Application registered'}</h1>
      <dl class="secret">
        <dt>Client ID</dt>
        <dd id="client-id">{client.id}</dd>
        {secret && (
          <>
            <dt>Client secret</dt>
            <dd id="client-secret">{secret}</dd>
          </>
        )}
      </dl>
      {secret ? (
        <p>
          <strong>Copy the client secret now.</strong> It is shown only once: we keep only a fingerprint of it. If you
          lose it, generate a new one.
        </p>
      ) : (
        <p>This is a public application: it has no secret and must use PKCE.</p>
      )}
      <div class="actions">
        <a class="button" href="/apps">
          Back to your applications
        </a>
      </div>
    </div>
  </Layout>
);
