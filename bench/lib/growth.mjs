// The growth stages: the same scenarios against a product with 10k clients and 1k, then BIG, refresh tokens.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fmt } from './report.mjs';
import { runRounds } from './rounds.mjs';
import { GROWTH } from './scenarios.mjs';
import {
  applyMigrations,
  countRows,
  fillClients,
  fillRefreshTokens,
  insertClient,
  insertRefreshTokens,
  insertUser,
} from './seed.mjs';
import { BIG, log, POOL, ROOT } from './settings.mjs';

/**
 * Growth: `product` keeps 10k clients and 1k refresh tokens, `product_big` (the same bundle on its own D1 database in
 * the same workerd) gets 10k clients and BIG refresh tokens; their scenarios then interleave round by round.
 */
export async function growth(mf, db, s, dir, results) {
  const g = { stages: [] };
  const big = await mf.getD1Database('DB', 'product_big');
  await applyMigrations(big, join(ROOT, 'migrations'));
  const p = s.product;
  await insertClient(big, {
    id: p.clientId,
    secret: p.secret,
    grantTypes: ['client_credentials', 'password', 'refresh_token', 'authorization_code'],
    scopes: ['base', 'files', 'upload_files'],
  });
  await insertUser(big, { id: p.userId, email: p.email, password: p.password });
  await db.prepare('DELETE FROM refresh_tokens').run();
  g.clientsMs = 0;
  const pools = {};
  for (const stage of [
    { name: '1k', pool: 'small', db, tokens: 1000 },
    { name: 'big', pool: 'big', db: big, tokens: BIG },
  ]) {
    g.clientsMs += await fillClients(stage.db, { count: 10_000 });
    pools[stage.pool] = join(dir, `growth-${stage.name}-pool.json`);
    writeFileSync(
      pools[stage.pool],
      JSON.stringify(await insertRefreshTokens(stage.db, { count: POOL, clientId: p.clientId, userId: p.userId })),
    );
    const fill = Math.max(0, stage.tokens - (await countRows(stage.db, 'refresh_tokens')));
    const ms = await fillRefreshTokens(stage.db, { count: fill, clients: 10_000 });
    const rows = await countRows(stage.db, 'refresh_tokens');
    log(
      `growth ${stage.name}: ${fmt(fill)} refresh tokens added in ${fmt(ms)} ms (${fmt(fill / (ms / 1000))} rows/s); table holds ${fmt(rows)}`,
    );
    g.stages.push({ name: stage.name, added: fill, ms, rows });
  }
  await runRounds(GROWTH, { ...s, growthPools: pools }, s.pids, results);
  return g;
}

export function bigLabel() {
  return BIG >= 1_000_000 ? `${BIG / 1_000_000}M` : BIG >= 1000 ? `${BIG / 1000}k` : String(BIG);
}
