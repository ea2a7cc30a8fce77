/**
 * The MCP tools over the caller's images in the product's R2 bucket. Ownership is the product's rule
 * (src/files/paths.ts): an object lives under `c/<client_id>/`, the namespace of the client the token was issued
 * to, taken from the token the binding verified, never from the tool's arguments.
 */
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { z } from 'zod';
import { clientNamespace, objectKey, parseImagePath } from '../../src/files/paths';
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
};

const LINK_TTL = 300;
const text = (t: string) => ({ content: [{ type: 'text' as const, text: t }] });
const fail = (t: string) => ({ ...text(t), isError: true });

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
      const max = Number(env.MAX_UPLOAD_BYTES ?? 10_485_760);
      if (bytes.length > max) return fail(`The image is larger than ${max} bytes.`);
      await env.FILES.put(objectKey(caller.clientId, p), bytes, { httpMetadata: { contentType } });
      return text(JSON.stringify({ path: p, size: bytes.length }));
    },
  );
  return server;
}
