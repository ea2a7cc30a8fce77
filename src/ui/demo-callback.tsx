/**
 * The local demo's callback page (/demo/callback, src/routes/demo.ts): shows what the authorization response
 * carried (RFC 6749 §4.1.2 code and state, or §4.1.2.1 error; RFC 9207 iss) and the token request that
 * exchanges the code (RFC 6749 §4.1.3). Every value is text, escaped by hono/jsx; the page has no script.
 */
import type { FC } from 'hono/jsx';
import { Layout } from './layout';

export interface DemoCallbackProps {
  /** Parameters of the authorization response, as received (possibly hostile: shown as text only). */
  code?: string;
  state?: string;
  iss?: string;
  error?: string;
  errorDescription?: string;
  /** This server's issuer: RFC 9207 §2.4, a client compares `iss` with it before using the code. */
  issuer: string;
  /** The shell command that exchanges the code, or null without a code. */
  curl: string | null;
}

const Row: FC<{ name: string; value?: string }> = ({ name, value }) =>
  value === undefined ? null : (
    <>
      <dt>{name}</dt>
      <dd>{value}</dd>
    </>
  );

export const DemoCallbackPage: FC<DemoCallbackProps> = ({
  code,
  state,
  iss,
  error,
  errorDescription,
  issuer,
  curl,
}) => (
  <Layout title="Demo callback" wide>
    <div class="card">
      <h1>
        {error
          ? 'The authorization request was refused'
          : code
            ? 'An authorization code came back'
            : 'Nothing came back'}
      </h1>
      <p class="muted">
        This page stands in for the demo client's redirect URI. It exists only on the local server started by npm start.
      </p>
      <dl class="secret" id="response">
        <Row name="code" value={code} />
        <Row name="state" value={state} />
        <Row name="iss" value={iss} />
        <Row name="error" value={error} />
        <Row name="error_description" value={errorDescription} />
      </dl>
      {iss !== undefined && iss !== issuer && (
        <div class="error" role="alert" id="iss-mismatch">
          The iss value is not this server's issuer ({issuer}): a client must not use this response (RFC 9207).
        </div>
      )}
      {!code && !error && (
        <p>Start the code flow from the README: the server sends the browser here with the result.</p>
      )}
      {curl && (
        <>
          <h2>Exchange the code</h2>
          <p>
            Run this from the project directory within a minute (codes expire quickly and work once). The code_verifier
            is the README's example: use your own if you sent another code_challenge.
          </p>
          {/* prettier-ignore */}
          <pre id="curl">
            <code>{curl}</code>
          </pre>
        </>
      )}
    </div>
  </Layout>
);
