// The bench's section of docs/benchmarks.md ("Latest run") and its console summary.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { bigLabel } from './growth.mjs';
import { consoleTable, fmt, markdownTable, writeSection } from './report.mjs';
import { targetRatio } from './rounds.mjs';
import { GROWTH, MAIN, TARGETS } from './scenarios.mjs';
import { BIG, CONNECTIONS, DURATION, REPORT, ROOT, ROUNDS, WARMUP } from './settings.mjs';

export function stealRange(results) {
  const v = Object.values(results)
    .flatMap((r) => r.rounds ?? [])
    .map((r) => r.stealPct)
    .filter((x) => x !== undefined);
  return v.length ? `${fmt(Math.min(...v), 1)}–${fmt(Math.max(...v), 1)} %` : '–';
}

export function writeBenchReport(m, sizes, results, g, startedAt, elapsedS) {
  const ceiling = results.ceiling?.rps;
  const rounds = (r) => (r.rounds?.length > 1 ? r.rounds.map((x) => fmt(x.rps)).join(' / ') : '');
  const rows = [...MAIN, ...GROWTH]
    .filter((sc) => results[sc.id])
    .map((sc) => {
      const r = results[sc.id];
      const label = sc.label.replace('BIG', bigLabel());
      if (r.todo) return [`\`${sc.id}\``, label, `not measured: ${r.todo}`, '', '', '', '', '', ''];
      if (r.failed) return [`\`${sc.id}\``, label, `FAILED: ${r.failed.replace(/\|/g, '/')}`, '', '', '', '', '', ''];
      return [
        `\`${sc.id}\``,
        label,
        fmt(r.rps),
        rounds(r),
        fmt(r.p50, 1),
        fmt(r.p99, 1),
        fmt(r.cpuUs),
        fmt(r.non2xx + r.errors + r.timeouts),
        ceiling ? fmt(r.rps / ceiling, 2) : '–',
      ];
    });
  const targetRows = TARGETS.map((t) => {
    const label = t.label.replace('BIG', bigLabel());
    const n = results[t.num];
    const d = results[t.den];
    if (!n?.rps || !d?.rps) return [label, '–', '', '', n?.todo ? `not measured (${n.todo})` : 'not measured'];
    const r = targetRatio(n, d);
    const spread = r.per.length > 1 ? `${fmt(r.min, 2)}–${fmt(r.max, 2)}` : '';
    const cpu = r.cpu !== undefined ? fmt(r.cpu, 2) : '';
    if (t.info) return [label, fmt(r.ratio, 2), spread, cpu, 'not a target'];
    const met = t.min !== undefined ? r.ratio >= t.min : r.ratio <= t.max;
    const miss =
      t.min !== undefined
        ? `${fmt((1 - r.ratio / t.min) * 100)} % short`
        : `${fmt((r.ratio / t.max - 1) * 100)} % over`;
    return [label, fmt(r.ratio, 2), spread, cpu, met ? '**met**' : `**not met** (${miss})`];
  });
  const body = [
    `## Latest run`,
    ``,
    `Run ${startedAt} with \`${process.env.npm_lifecycle_event === 'bench' ? 'npm run bench' : 'node bench/run.mjs'}\` ` +
      `(BENCH_ROUNDS=${ROUNDS}, BENCH_DURATION=${DURATION}, BENCH_WARMUP=${WARMUP}, BENCH_CONNECTIONS=${CONNECTIONS}, BENCH_GROWTH_TOKENS=${BIG}); ${fmt(elapsedS)} s in all.`,
    ``,
    `Machine: ${m.nproc} CPUs (\`nproc\`; ${m.cpu}), ${m.memGiB} GiB memory (${m.freeGiB} GiB free at the end), shared with other ` +
      `work while this ran, so absolute numbers are noisy; ratios between scenarios of the same run are what we compare. ` +
      `Node ${m.node}, workerd ${m.workerd} (miniflare ${m.miniflare}, wrangler ${m.wrangler}), autocannon ${m.autocannon}, ` +
      `@cloudflare/workers-oauth-provider ${m.wop}, oidc-provider ${m.oidc}. ` +
      `Steal time (CPU the hypervisor gave other guests, /proc/stat) was ${fmt(m.stealPct, 1)} % of the machine's CPU time over the ` +
      `whole run, ${stealRange(results)} per measured window: where it is high, req/s and even CPU µs/req of neighbouring ` +
      `windows differ by more than the code under test does.`,
    ``,
    `${ROUNDS} rounds; in each, every scenario in the order below: ${WARMUP} s warm-up, then ${DURATION} s measured with ${CONNECTIONS} ` +
      `connections (one request in flight each). req/s counts successful responses only and is the median of the rounds (each ` +
      `round's figure follows it); p50/p99 and CPU are medians too; "errors" is non-2xx + socket errors + timeouts, summed over ` +
      `the measured windows. "CPU µs/req" is the serving process's user+system CPU time per request (workerd, which also runs ` +
      `the local D1/KV/R2 simulators, or oidc-provider's Node process; not the load generator's). "× ceiling" divides by the ` +
      `ceiling's median.`,
    ``,
    markdownTable(
      ['id', 'scenario', 'req/s', 'per round', 'p50 ms', 'p99 ms', 'CPU µs/req', 'errors', '× ceiling'],
      rows,
    ),
    ``,
    `### Targets (issue 6)`,
    ``,
    `"ratio" is the median of the per-round ratios (numerator ÷ the denominator measured next to it in the same round); ` +
      `"range" is their lowest and highest; "by CPU time" is the denominator's CPU µs/req ÷ the numerator's (how much server ` +
      `CPU each request costs, for reading: the verdict is on req/s, as the issue asks).`,
    ``,
    markdownTable(['target', 'ratio', 'range over rounds', 'by CPU time', 'result'], targetRows),
    ``,
    `### Bundle size`,
    ``,
    `\`wrangler deploy --dry-run --outdir\` of the product (src/index.ts): ${fmt(sizes.product.rawBytes)} bytes, ` +
      `**${fmt(sizes.product.gzipBytes / 1024, 1)} KiB gzipped** (target < 150 KB: ${sizes.product.gzipBytes < 150_000 ? '**met**' : '**not met**'}). ` +
      `For comparison the workers-oauth-provider peer Worker bundles to ${fmt(sizes.wop.gzipBytes / 1024, 1)} KiB gzipped.`,
    ``,
    ...(g
      ? [
          `### Growth seeding`,
          ``,
          `10,000 clients inserted in each of the two product copies' databases in ${fmt(g.clientsMs)} ms (one INSERT … SELECT over a recursive CTE each). Refresh tokens: ` +
            g.stages
              .map(
                (st) =>
                  `${st.name === 'big' ? `\`product_big\`, ${bigLabel()}` : '`product`, 1k'}: ${fmt(st.added)} rows added in ${fmt(st.ms)} ms, ${fmt(st.rows)} rows in the table when the scenarios started`,
              )
              .join('; ') +
            `. Background rows have random 256-bit hashes (as scattered in the primary-key index as real ones) spread over the 10,000 clients; ` +
            `the rotations of each run add their own rows on top.`,
        ]
      : [`Growth stages skipped (BENCH_GROWTH_TOKENS=0).`]),
  ].join('\n');
  mkdirSync(join(ROOT, 'docs'), { recursive: true });
  writeSection(REPORT, 'results', 'Benchmarks', body);
  console.log(
    `\n${consoleTable(
      ['id', 'req/s', 'per round', 'p50', 'p99', 'CPU us', 'errors', 'x ceiling'],
      rows.map((r) => [r[0].replace(/`/g, ''), ...r.slice(2)]),
    )}`,
  );
  console.log(
    `\n${consoleTable(
      ['target', 'ratio', 'range', 'by CPU', 'result'],
      targetRows.map((r) => r.map((c) => c.replace(/\*\*/g, ''))),
    )}`,
  );
}
