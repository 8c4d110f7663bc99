/**
 * leadtrail's own pages (console, API docs): each is an encapsulated Fastify scope registered beside
 * LeadSquared's, under a prefix listed in OWN_PAGE_PREFIXES (server.ts), with its own body parsers,
 * error pages and routing rules. LeadSquared's quirks never reach them.
 */
import type { FastifyInstance } from 'fastify';
import { consoleScope } from '../console/plugin.js';
import type { Services } from '../services.js';
import { docsPages } from './docs.js';

export type PageScope = (app: FastifyInstance) => Promise<void>;

/** The page scopes an API process serves (a worker-only process serves none). */
export function ownPages(s: Services): PageScope[] {
  return [consoleScope(s), docsPages()];
}
