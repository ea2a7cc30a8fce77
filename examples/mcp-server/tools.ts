/**
 * The MCP tools over the caller's images in the product's R2 bucket. Ownership is the product's rule
 * (src/files/paths.ts): an object lives under `c/<client_id>/`, the namespace of the client the token was issued
 * to, taken from the token the binding verified, never from the tool's arguments.
 */
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { z } from 'zod';
import { declaredImageType, IMAGE_TYPES, sniffImageType } from '../../src/files/magic';
import { clientNamespace, objectKey, parseImagePath } from '../../src/files/paths';
import { ClientDocumentError, fetchPublicBytes } from '../../src/lib/safe-fetch';
import { signLink } from './links';

export interface Caller {
  clientId: string;
  scopes: string[];
}

export interface ToolEnv {
  FILES: R2Bucket;
  LINK_SECRET: string;
  MAX_UPLOAD_BYTES?: string;
}

/** Each tool's scope (RFC 6750 §3.1 insufficient_scope when missing; checked in worker.ts before the call). */
export const TOOL_SCOPES: Record<string, string> = {
  list_images: 'files',
  get_image_link: 'files',
  upload_image: 'upload_files',
  upload_image_from_url: 'upload_files',
};

/** A slow or stalling host must not hold the tool call (and the MCP client) for long. */
export const URL_FETCH_TIMEOUT_MS = 10_000;

const LINK_TTL = 300;
const text = (t: string) => ({ content: [{ type: 'text' as const, text: t }] });
const fail = (t: string) => ({ ...text(t), isError: true });

const maxUpload = (env: ToolEnv) => Number(env.MAX_UPLOAD_BYTES ?? 10_485_760);

/**
 * The product's rule for an image (src/files/magic.ts, as PUT /v1/img): the bytes must be an accepted image type,
 * recognised by its magic number, and agree with the type declared; returns the type, or why not.
 */
function imageTypeOf(bytes: Uint8Array, declared: string | null): { type: string } | { problem: string } {
  const sniffed = sniffImageType(bytes);
  if (!sniffed) return { problem: `The bytes are not an image of an accepted type (${IMAGE_TYPES.join(', ')}).` };
  if (declared !== null && declared !== sniffed)
    return { problem: `The bytes are ${sniffed}, not the declared ${declared.slice(0, 60)}.` };
  return { type: sniffed };
}

function safePath(p: string): string | null {
  try {
    return parseImagePath(p.split('/').map(encodeURIComponent).join('/'));
  } catch {
    return null;
  }
}

export function buildServer(env: ToolEnv, caller: Caller, origin: string): McpServer {
  const server = new McpServer({ name: 'edge-oauth-images', version: '0.1.0' });
  const ns = clientNamespace(caller.clientId);

  server.registerTool(
    'list_images',
    { description: "List the signed-in user's images.", inputSchema: { prefix: z.string().max(512).optional() } },
    async ({ prefix }) => {
      const listed = await env.FILES.list({ prefix: ns + (prefix ?? ''), limit: 100 });
      const images = listed.objects.map((o) => ({ path: o.key.slice(ns.length), size: o.size, uploaded: o.uploaded }));
      return text(JSON.stringify({ images }));
    },
  );

  server.registerTool(
    'get_image_link',
    { description: 'A link to one image, valid 5 minutes.', inputSchema: { path: z.string().min(1).max(512) } },
    async ({ path }) => {
      const p = safePath(path);
      if (!p) return fail('Invalid path.');
      const key = objectKey(caller.clientId, p);
      if (!(await env.FILES.head(key))) return fail('No such image.');
      return text(await signLink(origin, env.LINK_SECRET, key, LINK_TTL));
    },
  );

  server.registerTool(
    'upload_image',
    {
      description: 'Upload an image given as base64.',
      inputSchema: {
        path: z.string().min(1).max(512),
        base64: z.string().min(1),
        contentType: z.string().regex(/^image\/[a-z0-9.+-]+$/),
      },
    },
    async ({ path, base64, contentType }) => {
      const p = safePath(path);
      if (!p) return fail('Invalid path.');
      let bytes: Uint8Array;
      try {
        bytes = Uint8Array.from(atob(base64), (c) => c.charCodeAt(0));
      } catch {
        return fail('base64 is not valid base64.');
      }
      const max = maxUpload(env);
      if (bytes.length > max) return fail(`The image is larger than ${max} bytes.`);
      const kind = imageTypeOf(bytes, contentType);
      if ('problem' in kind) return fail(kind.problem);
      await env.FILES.put(objectKey(caller.clientId, p), bytes, { httpMetadata: { contentType: kind.type } });
      return text(JSON.stringify({ path: p, size: bytes.length }));
    },
  );

  // Issue 14 part 3: the URL is the MCP client's (so, possibly, a prompt's): fetched only through the product's
  // SSRF-safe fetcher (src/lib/safe-fetch.ts: https only, no private or internal host, no redirect, streamed size
  // cap, timeout), and stored only if the bytes are an accepted image whose type agrees with the Content-Type.
  server.registerTool(
    'upload_image_from_url',
    {
      description: 'Upload an image fetched from a public https URL.',
      inputSchema: { path: z.string().min(1).max(512), url: z.string().min(1).max(2048) },
    },
    async ({ path, url }) => {
      const p = safePath(path);
      if (!p) return fail('Invalid path.');
      const max = maxUpload(env);
      let fetched: { bytes: Uint8Array; contentType: string | null };
      try {
        fetched = await fetchPublicBytes(url, {
          maxBytes: max,
          timeoutMs: URL_FETCH_TIMEOUT_MS,
          accept: IMAGE_TYPES.join(', '),
          what: 'image',
        });
      } catch (err) {
        if (err instanceof ClientDocumentError) return fail(err.reason);
        throw err;
      }
      // A generic or missing Content-Type (application/octet-stream) leaves the bytes to decide; an image type must agree.
      const declared = declaredImageType(fetched.contentType);
      const header = (fetched.contentType ?? '').split(';')[0].trim().toLowerCase();
      if (!declared && header.startsWith('image/'))
        return fail(`The URL serves ${header.slice(0, 60)}, not an accepted image type (${IMAGE_TYPES.join(', ')}).`);
      const kind = imageTypeOf(fetched.bytes, declared);
      if ('problem' in kind) return fail(kind.problem);
      await env.FILES.put(objectKey(caller.clientId, p), fetched.bytes, { httpMetadata: { contentType: kind.type } });
      return text(JSON.stringify({ path: p, size: fetched.bytes.length, contentType: kind.type }));
    },
  );
  return server;
}
