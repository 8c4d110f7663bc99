import type { FastifyRequest } from 'fastify';

/**
 * The route a request is counted under in the metrics: the route table's path as written there
 * (`config.label`), else Fastify's route pattern; never the raw URL (no ids or keys in labels).
 * Undefined for a request that matched no route.
 */
export function routeLabel(req: FastifyRequest): string | undefined {
  return (req.routeOptions.config as { label?: string } | undefined)?.label ?? req.routeOptions.url;
}
