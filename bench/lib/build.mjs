// Bundles a Worker exactly as production does (`wrangler deploy --dry-run --outdir`), so the bench runs
// the same code that would be deployed and reports that bundle's gzipped size.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';

/** Builds the Worker of `configPath` into `outdir`; returns the bundle path and its raw and gzipped sizes. */
export function buildWorker(root, configPath, outdir) {
  execFileSync(
    join(root, 'node_modules/.bin/wrangler'),
    ['deploy', '--dry-run', '--outdir', outdir, '-c', configPath],
    {
      cwd: root,
      env: { ...process.env, WRANGLER_SEND_METRICS: 'false', WRANGLER_LOG: 'error' },
      stdio: ['ignore', 'ignore', 'inherit'],
    },
  );
  const script = join(outdir, 'index.js');
  const bytes = readFileSync(script);
  return { script, rawBytes: bytes.length, gzipBytes: gzipSync(bytes, { level: 9 }).length };
}
