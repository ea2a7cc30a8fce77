// Formatting the results: a console table and Markdown sections of docs/benchmarks.md. Each run replaces
// only its own section (between HTML comment markers), so `npm run bench` and `npm run soak` can both write
// to the one document.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';

export const fmt = (n, digits = 0) =>
  n === undefined || n === null || Number.isNaN(n)
    ? '–'
    : n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });

export function markdownTable(headers, rows) {
  const line = (cells) => `| ${cells.join(' | ')} |`;
  return [line(headers), line(headers.map(() => '---')), ...rows.map(line)].join('\n');
}

export function consoleTable(headers, rows) {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => String(r[i]).length)));
  const line = (cells) => cells.map((c, i) => String(c).padEnd(widths[i])).join('  ');
  return [line(headers), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n');
}

/** Replaces (or appends) the section `name` of `file`. */
export function writeSection(file, name, title, body) {
  const start = `<!-- bench:${name}:start -->`;
  const end = `<!-- bench:${name}:end -->`;
  const block = `${start}\n${body.trim()}\n${end}`;
  let doc = existsSync(file) ? readFileSync(file, 'utf8') : `# ${title}\n\n`;
  const i = doc.indexOf(start);
  const j = doc.indexOf(end);
  doc = i !== -1 && j > i ? doc.slice(0, i) + block + doc.slice(j + end.length) : `${doc.trimEnd()}\n\n${block}\n`;
  writeFileSync(file, doc);
}

/** The soaks' memory cells: workerd RSS at the start, after the warm-up, at the end and its maximum (KiB in). */
export function rssCells({ first, afterWarm, last, max }) {
  return [first, afterWarm, last, max].map((kib) => `${fmt(kib / 1024, 1)} MiB`);
}

/** The soaks' verdict cell: pass, or fail naming the checks that did not hold (`checks`: [what, held] pairs). */
export function verdictCell(checks) {
  const failed = checks.filter(([, held]) => !held).map(([what]) => what);
  return failed.length === 0 ? '**pass**' : `**fail** (${failed.join(', ')})`;
}

/** The soaks' RSS samples, "s→MiB" each. */
export function rssSamples(samples) {
  return samples.map((x) => `${x.t}→${fmt(x.kib / 1024, 1)}`).join(', ');
}
