/**
 * The admin API under /admin (JSON), authenticated by the ADMIN_TOKEN secret; driven by `npm run admin`
 * (scripts/admin.mjs). See docs/operations.md.
 */
import { Hono } from 'hono';
import { requireAdmin } from '../../middleware/admin-auth';
import type { AppEnv } from '../../types';
import { adminClientRoutes } from './clients';
import { adminResourceRoutes } from './resources';
import { adminSystemRoutes } from './system';
import { adminUserRoutes } from './users';

export const adminRoutes = new Hono<AppEnv>();

adminRoutes.use('*', requireAdmin());
adminRoutes.use('*', async (c, next) => {
  await next();
  if (!c.res.headers.has('Cache-Control')) c.header('Cache-Control', 'no-store');
});
adminRoutes.route('/clients', adminClientRoutes);
adminRoutes.route('/users', adminUserRoutes);
adminRoutes.route('/resources', adminResourceRoutes);
adminRoutes.route('/', adminSystemRoutes);
