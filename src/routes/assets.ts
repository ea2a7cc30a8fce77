/** Static assets for the pages: the one stylesheet (the CSP forbids inline style). */
import { Hono } from 'hono';
import type { AppEnv } from '../types';
import { STYLESHEET } from '../ui/style';

export const assetRoutes = new Hono<AppEnv>();

assetRoutes.get('/style.css', (c) => {
  c.header('Content-Type', 'text/css; charset=utf-8');
  c.header('Cache-Control', 'public, max-age=3600');
  c.header('X-Content-Type-Options', 'nosniff');
  return c.body(STYLESHEET);
});
