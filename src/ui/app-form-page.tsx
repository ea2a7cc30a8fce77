/** The portal's register and edit form (seed 003): name, site, description, logo, redirect URLs, type, scopes, refresh-token policy. */
import type { FC } from 'hono/jsx';
import type { AppInput } from '../oauth/app-form';
import { SCOPE_DESCRIPTIONS, SCOPES, type Scope } from '../oauth/scopes';
import { type Client, refreshPolicyOf } from '../storage/clients';
import { Layout } from './layout';
import type { UserProps } from './portal';

export const EMPTY_APP: AppInput = {
  name: '',
  siteUrl: '',
  description: '',
  logoUrl: '',
  redirectUris: '',
  scopes: ['base'],
  clientType: 'confidential',
  refreshTokenPolicy: 'rotate',
};

export function inputFromClient(c: Client): AppInput {
  return {
    name: c.name,
    siteUrl: c.siteUrl ?? '',
    description: c.description ?? '',
    logoUrl: c.logoUrl ?? '',
    redirectUris: c.redirectUris.join('\n'),
    scopes: SCOPES.filter((s) => c.scopes.includes(s)),
    clientType: c.confidential ? 'confidential' : 'public',
    refreshTokenPolicy: refreshPolicyOf(c),
  };
}

const Errors: FC<{ errors?: string[] }> = ({ errors }) =>
  errors && errors.length > 0 ? (
    <div class="error" role="alert">
      <p>Please correct the following:</p>
      <ul>
        {errors.map((e) => (
          <li>{e}</li>
        ))}
      </ul>
    </div>
  ) : null;

export const AppFormPage: FC<UserProps & { input: AppInput; errors?: string[]; client?: Client }> = ({
  user,
  input,
  errors,
  client,
}) => {
  const editing = client !== undefined;
  const action = editing ? `/apps/${encodeURIComponent(client.id)}` : '/apps';
  return (
    <Layout title={editing ? `Edit ${client.name}` : 'Register an application'} user={user}>
      <div class="card">
        <h1>{editing ? `Edit ${client.name}` : 'Register an application'}</h1>
        <Errors errors={errors} />
        <form method="post" action={action}>
          <input type="hidden" name="csrf" value={user.csrf} />
          <label for="name">Application name</label>
          <input id="name" name="name" type="text" required maxlength={100} value={input.name} />
          <label for="site_url">
            Site URL <span class="hint">Optional. Shown to people when your app asks for access.</span>
          </label>
          <input id="site_url" name="site_url" type="url" placeholder="https://example.com" value={input.siteUrl} />
          <label for="description">
            Description <span class="hint">Optional. What your application does, in one or two sentences.</span>
          </label>
          <textarea id="description" name="description" maxlength={500}>
            {input.description}
          </textarea>
          <label for="logo_url">
            Logo URL <span class="hint">Optional. An https link to a square image.</span>
          </label>
          <input
            id="logo_url"
            name="logo_url"
            type="url"
            placeholder="https://example.com/logo.png"
            value={input.logoUrl}
          />
          <label for="redirect_uris">
            Redirect URLs
            <span class="hint">
              One per line. People are sent back to one of these after they allow access (success) or deny it (failure):
              list your success and failure pages. Use https; http only for http://127.0.0.1 or http://[::1]; a native
              app may use its own scheme such as com.example.app:/callback. Exact addresses only: no wildcards, no
              #fragment.
            </span>
          </label>
          <textarea id="redirect_uris" name="redirect_uris" required placeholder="https://example.com/oauth/callback">
            {input.redirectUris}
          </textarea>
          <fieldset>
            <legend>Permissions your application may ask for</legend>
            {SCOPES.map((s: Scope) => (
              <label>
                <input type="checkbox" name={`scope_${s}`} value="1" checked={input.scopes.includes(s)} />
                <span>
                  <code>{s}</code>: {SCOPE_DESCRIPTIONS[s]}
                </span>
              </label>
            ))}
          </fieldset>
          {!editing && (
            <fieldset>
              <legend>Application type</legend>
              <label>
                <input
                  type="radio"
                  name="client_type"
                  value="confidential"
                  checked={input.clientType === 'confidential'}
                />
                <span>Web application with a server that can keep a secret</span>
              </label>
              <label>
                <input type="radio" name="client_type" value="public" checked={input.clientType === 'public'} />
                <span>Mobile, desktop or browser application (no secret; it must use PKCE)</span>
              </label>
            </fieldset>
          )}
          {input.clientType === 'confidential' && (
            <fieldset>
              <legend>Refresh tokens</legend>
              <label>
                <input
                  type="radio"
                  name="refresh_token_policy"
                  value="rotate"
                  checked={input.refreshTokenPolicy !== 'reuse'}
                />
                <span>A new refresh token every time (recommended): store the refresh_token of every response</span>
              </label>
              <label>
                <input
                  type="radio"
                  name="refresh_token_policy"
                  value="reuse"
                  checked={input.refreshTokenPolicy === 'reuse'}
                />
                <span>
                  Keep the same refresh token until it expires (web applications only; for integrations that store only
                  the first one)
                </span>
              </label>
            </fieldset>
          )}
          <div class="actions">
            <button type="submit">{editing ? 'Save changes' : 'Register application'}</button>
            <a class="button secondary" href="/apps">
              Cancel
            </a>
          </div>
        </form>
      </div>
      {editing && (
        <div class="card">
          <h2>Credentials</h2>
          <p>
            Client ID: <code>{client.id}</code>
          </p>
          {client.confidential && (
            <form method="post" action={`/apps/${encodeURIComponent(client.id)}/rotate`}>
              <input type="hidden" name="csrf" value={user.csrf} />
              <p class="muted">A new secret replaces the current one at once: update your application right after.</p>
              <button type="submit" class="secondary">
                Generate a new client secret
              </button>
            </form>
          )}
          <h2>Delete this application</h2>
          <form method="post" action={`/apps/${encodeURIComponent(client.id)}/delete`}>
            <input type="hidden" name="csrf" value={user.csrf} />
            <p class="muted">Deleting it stops every token it holds from working. This cannot be undone.</p>
            <button type="submit" class="danger">
              Delete {client.name}
            </button>
          </form>
        </div>
      )}
    </Layout>
  );
};
