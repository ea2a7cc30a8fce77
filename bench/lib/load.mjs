// Runs one scenario's load in a separate Node process (bench/lib/load-child.mjs), so the load generator
// never shares an event loop with Miniflare; returns the parsed result.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const CHILD = fileURLToPath(new URL('./load-child.mjs', import.meta.url));

export function runLoad(spec) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CHILD], {
      env: { ...process.env, BENCH_SPEC: JSON.stringify(spec) },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.on('error', reject);
    child.on('close', (code) => {
      if (code !== 0) return reject(new Error(`load generator exited with ${code}`));
      try {
        resolve(JSON.parse(out.trim().split('\n').pop()));
      } catch (err) {
        reject(new Error(`load generator printed no result: ${out.slice(0, 200)} (${err.message})`));
      }
    });
  });
}
