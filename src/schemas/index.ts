/**
 * Every endpoint's schemas, one definition per endpoint (src/schemas/<area>.ts). The route table
 * (http/routes.ts) says who may call a path and which handler answers; this list says what it reads
 * and answers. The OpenAPI document (http/docs.ts) joins the two by method and path.
 */
import { ADMIN } from './admin.js';
import { ASYNC } from './async.js';
import { routeKey, type Endpoint } from './endpoint.js';
import { LEAD_MANAGEMENT } from './lead-management.js';
import { PROSPECT_ACTIVITY } from './prospect-activity.js';
import { WEBHOOKS } from './webhooks.js';

export const ENDPOINTS: Endpoint[] = [...PROSPECT_ACTIVITY, ...LEAD_MANAGEMENT, ...ASYNC, ...WEBHOOKS, ...ADMIN];

/** The endpoints by routeKey(method, path). */
export const ENDPOINT_BY_ROUTE: ReadonlyMap<string, Endpoint> = new Map(ENDPOINTS.map((e) => [routeKey(e.method, e.path), e]));
