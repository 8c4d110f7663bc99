import type { Store } from '../store.js';

export async function openPostgresStore(_url: string, _opts: { poolSize: number; statementTimeoutMs: number }): Promise<Store> {
  throw new Error('PostgreSQL support is being built (issue 4).');
}
