/**
 * The Worker for the browser test: `wrangler dev` on a free port with its own secrets, local D1/KV/R2 in a
 * temporary directory, migrations applied and the demo user seeded (scripts/local.mjs `startLocalWorker`).
 */
import { startLocalWorker } from '../../scripts/local.mjs';

export { freePort } from '../../scripts/local.mjs';

export interface WorkerServer {
  origin: string;
  user: { email: string; password: string };
  /** The demo client of `npm start` (redirect URIs http://127.0.0.1/demo/callback and http://127.0.0.1/callback). */
  demoClient: { id: string; secret: string };
  stop(): Promise<void>;
}

export async function startWorker(): Promise<WorkerServer> {
  const { origin, creds, stop } = await startLocalWorker();
  return {
    origin,
    user: { email: creds.username, password: creds.password },
    demoClient: { id: creds.client_id, secret: creds.client_secret },
    stop,
  };
}
