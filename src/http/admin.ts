/** leadtrail's own endpoints (not LeadSquared's): health for orchestrators and load balancers. */
import type { Handler } from './routes.js';

export const health: Handler = async (s) => {
  await s.store.accounts.count();
  return { status: 'ok', role: s.config.role, store: s.store.engine };
};
