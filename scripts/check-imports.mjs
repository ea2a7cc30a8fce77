// `npm run check:imports`: the folders of src/ must not import each other in a cycle (issue 12).
// Reads every relative import of src/**/*.ts(x), maps each file to its top folder (src/oauth/grants/x.ts → oauth;
// a file directly in src/ counts as its own unit), and prints each strongly connected group of folders, with one
// import that closes it. Exit code 1 when there is a cycle. Type-only imports count too: they are a dependency of
// the design even when the bundle drops them.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

const SRC = resolve(fileURLToPath(new URL('../src', import.meta.url)));
const files = (dir) =>
  readdirSync(dir).flatMap((n) => {
    const p = join(dir, n);
    return statSync(p).isDirectory() ? files(p) : /\.tsx?$/.test(n) ? [p] : [];
  });
const unit = (file) => {
  const parts = relative(SRC, file).split(sep);
  return parts.length > 1 ? parts[0] : parts[0].replace(/\.tsx?$/, '');
};

/** folder → folder → one example "from → to" import. */
const edges = new Map();
for (const file of files(SRC)) {
  const text = readFileSync(file, 'utf8');
  for (const m of text.matchAll(/(?:^|\n)\s*(?:import|export)[^'"]*?from\s+['"](\.[^'"]+)['"]/g)) {
    const target = resolve(dirname(file), m[1]);
    if (!target.startsWith(SRC)) continue;
    const [a, b] = [unit(file), unit(target)];
    if (a === b) continue;
    if (!edges.has(a)) edges.set(a, new Map());
    if (!edges.get(a).has(b)) edges.get(a).set(b, `${relative(SRC, file)} → ${m[1]}`);
  }
}

// Tarjan's strongly connected components over the folder graph.
const nodes = [...new Set([...edges.keys(), ...[...edges.values()].flatMap((m) => [...m.keys()])])].sort();
const index = new Map();
const low = new Map();
const stack = [];
const onStack = new Set();
const groups = [];
let next = 0;
function visit(v) {
  index.set(v, next);
  low.set(v, next++);
  stack.push(v);
  onStack.add(v);
  for (const w of edges.get(v)?.keys() ?? []) {
    if (!index.has(w)) {
      visit(w);
      low.set(v, Math.min(low.get(v), low.get(w)));
    } else if (onStack.has(w)) low.set(v, Math.min(low.get(v), index.get(w)));
  }
  if (low.get(v) === index.get(v)) {
    const g = [];
    let w;
    do {
      w = stack.pop();
      onStack.delete(w);
      g.push(w);
    } while (w !== v);
    if (g.length > 1) groups.push(g.sort());
  }
}
for (const v of nodes) if (!index.has(v)) visit(v);

if (groups.length === 0) {
  console.log(`src/: ${nodes.length} folders, no import cycle between them.`);
  process.exit(0);
}
for (const g of groups) {
  console.log(`cycle between ${g.join(', ')}:`);
  for (const a of g)
    for (const [b, example] of edges.get(a) ?? []) if (g.includes(b)) console.log(`  ${a} → ${b} (${example})`);
}
process.exit(1);
