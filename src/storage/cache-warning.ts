/**
 * The one log line for a failed read or write of a KV cache (issue 16, docs/reliability.md): KV is only a cache, so
 * the caller goes on (a read falls back to D1 or to the document's fetch, a write is skipped) and says so here.
 * Returns null, what a failed cache read stands for.
 */
export function cacheWarning(event: string, err: unknown, key?: string): null {
  console.warn(
    JSON.stringify({ level: 'warn', event, ...(key === undefined ? {} : { key }), message: String(err).slice(0, 200) }),
  );
  return null;
}
