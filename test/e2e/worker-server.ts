/**
 * Starts the Worker for the browser test: `wrangler dev` on a free port, with its own secrets, local
 * D1/KV/R2 persisted to a temporary directory, migrations applied and the demo user seeded.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { applyMigrations, makeSecrets, root, seedDemo, wrangler } from '../../scripts/local.mjs';

export interface WorkerServer {
  origin: string;
  user: { email: string; password: string };
  stop(): Promise<void>;
}

/** A TCP port that was free a moment ago (the OS picks it). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
  });
}

async function waitUntilUp(origin: string, child: ChildProcess, log: () => string): Promise<void> {
  for (let i = 0; i < 240; i++) {
    if (child.exitCode !== null) throw new Error(`wrangler dev exited (${child.exitCode}):\n${log()}`);
    try {
      const res = await fetch(`${origin}/.well-known/oauth-authorization-server`);
      if (res.ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 500));
  }
  throw new Error(`wrangler dev did not start:\n${log()}`);
}

export async function startWorker(): Promise<WorkerServer> {
  const dir = mkdtempSync(join(tmpdir(), 'edge-oauth-e2e-'));
  const persistTo = join(dir, 'state');
  const envFile = join(dir, '.dev.vars');
  const secrets = await makeSecrets();
  writeFileSync(envFile, Object.entries(secrets).map(([k, v]) => `${k}=${v}`).join('\n') + '\n', { mode: 0o600 });
  const port = await freePort();
  const origin = `http://localhost:${port}`;
  await applyMigrations({ persistTo });
  // (a variable, not a literal: the JS helper's inferred parameter type omits persistTo)
  const seedOptions = { path: join(dir, 'demo-credentials.json'), persistTo };
  const creds = await seedDemo(origin, seedOptions);

  let output = '';
  const child = spawn(
    process.execPath,
    [
      wrangler, 'dev', '--port', String(port), '--ip', '127.0.0.1', '--persist-to', persistTo, '--env-file', envFile,
      '--var', `ISSUER:${origin}`, '--var', `ACCESS_TOKEN_AUDIENCE:${origin}/v1`, '--show-interactive-dev-session=false',
      '--inspector-port', String(await freePort()),
    ],
    { cwd: root, env: { ...process.env, WRANGLER_SEND_METRICS: 'false', CI: 'true', NO_COLOR: '1' }, detached: true, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  child.stdout?.on('data', (d) => { output += String(d); if (process.env.E2E_DEBUG) process.stdout.write(String(d)); });
  child.stderr?.on('data', (d) => (output += String(d)));
  const stop = async () => {
    if (child.exitCode === null && child.pid) {
      const exited = new Promise((r) => child.once('exit', r));
      process.kill(-child.pid, 'SIGTERM'); // the process group this test started (wrangler and its workerd)
      await Promise.race([exited, new Promise((r) => setTimeout(r, 5000))]);
    }
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    await waitUntilUp(origin, child, () => output);
  } catch (err) {
    await stop();
    throw err;
  }
  return { origin, user: { email: creds.username, password: creds.password }, stop };
}
