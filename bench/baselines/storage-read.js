// Bench-only baselines: one bare storage read per request, no authentication, on the product's own bindings
// (same local D1 database, KV namespace and R2 bucket). They show what a single round trip to each local
// storage simulator costs on this runtime, so product scenarios can be read as "floor + crypto + storage".
//   GET /r2/<key>   one R2 get, body streamed back (baseline of the image-GET scenario)
//   GET /kv/<key>   one KV get (the product's client-cache read; the bench reads `bench:kv-baseline`, a copy of the
//                   client record stored without expiry, so that it cannot expire mid-run as the cache entry did)
//   GET /d1/<id>    one D1 SELECT of a user row by primary key (the read /v1/me does for a user token)
//   GET /r2cached/<key>  the cold edge-cache floor: one Cache API miss, the R2 get, the body teed and one cache put
//                   after the response (what any Worker that fronts R2 with the Cache API pays for a first reader;
//                   in Miniflare the cache simulator runs in the same workerd process, so its put is in this CPU)
export default {
  async fetch(request, env, ctx) {
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
    if (kind === 'r2cached') {
      // A URL never stored, so the match is a real miss; the put goes to another URL (the next match still misses).
      if (await caches.default.match('https://floor.invalid/never-stored')) throw new Error('unexpected hit');
      const object = await env.FILES.get(key);
      if (!object) return new Response('not found', { status: 404 });
      const headers = new Headers();
      object.writeHttpMetadata(headers);
      headers.set('ETag', object.httpEtag);
      const [toClient, toCache] = object.body.tee();
      const copy = new Headers(headers);
      copy.set('Cache-Control', 'max-age=300');
      copy.set('Content-Length', String(object.size));
      ctx.waitUntil(caches.default.put(`https://floor.invalid/${key}`, new Response(toCache, { headers: copy })));
      return new Response(toClient, { headers });
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
