// Bench-only baselines: one bare storage read per request, no authentication, on the product's own bindings
// (same local D1 database, KV namespace and R2 bucket). They show what a single round trip to each local
// storage simulator costs on this runtime, so product scenarios can be read as "floor + crypto + storage".
//   GET /r2/<key>   one R2 get, body streamed back (baseline of the image-GET scenario)
//   GET /kv/<key>   one KV get (the product's client-cache read; the bench reads `bench:kv-baseline`, a copy of the
//                   client record stored without expiry, so that it cannot expire mid-run as the cache entry did)
//   GET /d1/<id>    one D1 SELECT of a user row by primary key (the read /v1/me does for a user token)
export default {
  async fetch(request, env) {
    const { pathname } = new URL(request.url);
    const [, kind, ...rest] = pathname.split('/');
    const key = decodeURIComponent(rest.join('/'));
    if (kind === 'r2') {
      const object = await env.FILES.get(key);
      if (!object) return new Response('not found', { status: 404 });
      const headers = new Headers();
      object.writeHttpMetadata(headers);
      headers.set('ETag', object.httpEtag);
      return new Response(object.body, { headers });
    }
    if (kind === 'kv') {
      const value = await env.CACHE.get(key, { type: 'json', cacheTtl: 60 });
      return value ? Response.json(value) : new Response('not found', { status: 404 });
    }
    if (kind === 'd1') {
      const row = await env.DB.prepare('SELECT * FROM users WHERE id = ?1').bind(key).first();
      return row ? Response.json({ id: row.id }) : new Response('not found', { status: 404 });
    }
    return new Response('not found', { status: 404 });
  },
};
