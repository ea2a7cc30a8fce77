// Bench-only baseline: an unauthenticated read of one R2 object (GET /<key>), bound to the same bucket as
// the product Worker, so the image-GET scenario (token check + R2 read) can be compared with the bare read.
export default {
  async fetch(request, env) {
    const key = decodeURIComponent(new URL(request.url).pathname.slice(1));
    const object = await env.FILES.get(key);
    if (!object) return new Response('not found', { status: 404 });
    const headers = new Headers();
    object.writeHttpMetadata(headers);
    headers.set('ETag', object.httpEtag);
    return new Response(object.body, { headers });
  },
};
