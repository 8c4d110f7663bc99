/**
 * The API described to machines and people: the OpenAPI 3.1 document built from the route table
 * (who may call each path) and the endpoint schemas (src/schemas: what each reads and answers),
 * served at `GET /openapi.json` without keys, and `/docs`, Swagger UI served from node_modules
 * (no outside requests: its Content-Security-Policy allows only this origin). Both are leadtrail's
 * own pages: their own Fastify scope, none of LeadSquared's quirks.
 */
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { createDocument, type ZodOpenApiOperationObject, type ZodOpenApiPathsObject, type ZodOpenApiResponsesObject } from 'zod-openapi';
import { ErrorEnvelope, Forbidden, openApiPath, routeKey } from '../schemas/endpoint.js';
import { ENDPOINT_BY_ROUTE } from '../schemas/index.js';
import { IGNORED_HEADER } from '../schemas/ignored.js';
import type { AuthKind } from './auth.js';
import type { PageScope } from './pages.js';
import { ROUTES, SWITCHES, type Route } from './routes.js';

const require = createRequire(import.meta.url);

const ERROR_TEXT: Record<number, string> = {
  400: 'The body is not JSON, or a value has the wrong JSON type (MXInvalidJsonException, MXInvalidInputException)',
  401: 'Missing or wrong accessKey/secretKey (MXUnAuthorizedAccessException)',
  404: 'Not found (MXInvalidEntityException)',
  413: 'The body is larger than the limit (MXRequestTooLargeException)',
  415: 'A Content-Type that is not a media type, a charset that cannot be decoded, or a compressed body (Content-Encoding); bodies are read as JSON whatever the Content-Type (MXUnsupportedMediaTypeException)',
  429: 'Rate limit exceeded, or a 429 forced by /_leadtrail/faults (MXAPIRateLimitExceededException); see Retry-After',
  500: 'A rule refused the input (MXInvalidInputException, MXMandatoryAttributeMissingException for a missing required query parameter, MXInvalidEntityException, …), or an unexpected error (MXSystemException, also forced by /_leadtrail/faults)',
  503: 'The server is starting or shutting down, or another process has held the database writes longer than a write waits (MXServiceUnavailableException); see Retry-After',
};

/**
 * `Retry-After`, which every 429 and every 503 carries: the rate limiter's wait, a forced fault's
 * `retryAfter` (default 1), 1 while starting or stopping, 5 when another process holds the SQLite file
 * (domain/errors.ts, http/faults.ts, http/admin.ts), except /health/live's 503 (only a restart helps).
 */
const RETRY_AFTER = {
  'Retry-After': {
    required: true,
    description: 'Seconds to wait before trying again',
    schema: { type: 'integer' as const, minimum: 0, example: 1 },
  },
};

/** IGNORED_HEADER (schemas/ignored.ts), on the answers of a route that reads a body: 200, and a 400 or 500 refusing it. */
const IGNORED_HEADER_OBJECT = {
  required: false,
  description:
    "leadtrail's own: the body properties this call did not read (a misspelt name, or a LeadSquared property leadtrail does not model), by their path in the body, comma-separated; absent when none",
  schema: { type: 'string' as const, example: 'ActivityNotes, Paging.PageSiz' },
};
/** Once in components.headers, referred to by each answer (it is on some 200 answers of every body route). */
const IGNORED = { [IGNORED_HEADER]: { $ref: '#/components/headers/IgnoredProperties' } };

const SECURITY: Record<AuthKind, Record<string, string[]>[]> = {
  sync: [
    { accessKeyQuery: [], secretKeyQuery: [] },
    { accessKeyHeader: [], secretKeyHeader: [] },
  ],
  bulk: [
    { accessKeyQuery: [], secretKeyQuery: [] },
    { accessKeyHeader: [], secretKeyHeader: [] },
  ],
  admin: [
    { accessKeyQuery: [], secretKeyQuery: [] },
    { accessKeyHeader: [], secretKeyHeader: [] },
  ],
  'async-submit': [
    { apiKey: [], accessKeyQuery: [], secretKeyQuery: [] },
    { apiKey: [], accessKeyHeader: [], secretKeyHeader: [] },
  ],
  'async-read': [{ apiKey: [] }],
  none: [{}],
};

/**
 * The MX error statuses a route answers: its auth kind's, its body's, and its endpoint's own. Every
 * keyed route may answer 500: MXSystemException for anything unexpected (and, on the API paths, a
 * forced fault), and MXMandatoryAttributeMissingException for a required query parameter left out.
 * A keyed POST or DELETE may also answer 400, 413 and 415 for its body.
 */
function errorStatuses(r: Route, hasBody: boolean, own: number[]): number[] {
  const s = new Set(own);
  if (r.auth !== 'none') [400, 401, 500, 503].forEach((x) => s.add(x));
  if (r.auth === 'async-read') s.delete(401);
  // Rate limits hold the sync, bulk and async submits; a forced fault (/_leadtrail/faults) may
  // answer 429 on any API path, the async status and metrics paths included.
  if (r.auth === 'sync' || r.auth === 'bulk' || r.auth === 'async-submit' || r.auth === 'async-read') s.add(429);
  // Every keyed POST or DELETE reads a body sent (even one the endpoint ignores) before its handler
  // runs: Fastify parses DELETE bodies too (DELETE /_leadtrail/faults answered 413 and 415 that the
  // document did not list: a fresh-eyes run).
  if (hasBody || ((r.method === 'POST' || r.method === 'DELETE') && r.auth !== 'none')) [400, 413, 415].forEach((x) => s.add(x));
  return [...s].sort();
}

function operation(r: Route): ZodOpenApiOperationObject {
  const e = ENDPOINT_BY_ROUTE.get(routeKey(r.method, r.path));
  if (!e) throw new Error(`route ${r.method} ${r.path} (src/http/routes.ts) has no schema: add endpoint('${r.method}', '${r.path}', …) to src/schemas/`);
  const readsBody = e.body !== undefined;
  const responses: ZodOpenApiResponsesObject = {
    '200': {
      description: 'Success',
      ...(readsBody ? { headers: IGNORED } : {}),
      content: r.path === '/metrics' ? { 'text/plain': { schema: e.answer } } : { 'application/json': { schema: e.answer } },
    },
  };
  for (const status of errorStatuses(r, readsBody, e.errors ?? [])) {
    responses[String(status) as '400'] = {
      description: ERROR_TEXT[status] ?? 'Error',
      ...(status === 429 || status === 503 ? { headers: RETRY_AFTER } : readsBody && (status === 400 || status === 500) ? { headers: IGNORED } : {}),
      content: { 'application/json': { schema: ErrorEnvelope } },
    };
  }
  if (r.path === '/metrics') {
    responses['401'] = {
      description: 'With LEADTRAIL_METRICS_TOKEN set: a missing or wrong Authorization: Bearer token',
      content: { 'application/json': { schema: z.object({ error: z.literal('unauthorized'), message: z.string() }) } },
    };
  }
  if (r.needs) {
    responses['404'] = {
      description: `The server runs without ${SWITCHES[r.needs]}=true: this route is off (MXAPINotFoundException, naming the setting)`,
      content: { 'application/json': { schema: ErrorEnvelope } },
    };
  }
  if (r.path.startsWith('/health')) {
    // Health answers are plain JSON, never the envelope: 503 carries the same shape as 200.
    responses['503'] = {
      description:
        r.path === '/health/live'
          ? 'status "failed": the store failed for good (restart the process)'
          : 'status "starting", "stopping" or "unavailable" (the database does not answer), with Retry-After',
      ...(r.path === '/health/live' ? {} : { headers: RETRY_AFTER }),
      content: { 'application/json': { schema: e.answer } },
    };
  }
  if (r.auth === 'async-submit' || r.auth === 'async-read') {
    responses['403'] = { description: 'Missing or wrong x-api-key', content: { 'application/json': { schema: Forbidden } } };
  }
  return {
    operationId: e.operationId,
    summary: e.summary,
    ...(e.description ? { description: e.description } : {}),
    tags: [e.tag],
    security: r.path === '/metrics' ? [{}, { metricsToken: [] }] : SECURITY[r.auth],
    ...(e.query || e.params ? { requestParams: { ...(e.query ? { query: e.query } : {}), ...(e.params ? { path: e.params } : {}) } } : {}),
    ...(e.body ? { requestBody: { required: e.bodyRequired ?? false, content: { 'application/json': { schema: e.body } } } } : {}),
    responses,
  };
}

/**
 * The OpenAPI 3.1 document of every route in the route table (including those switched on by
 * config, such as `/_leadtrail/faults`), plus `/openapi.json` itself. Throws naming the first route
 * without an endpoint schema.
 */
export function buildOpenApi(): Record<string, unknown> {
  const paths: ZodOpenApiPathsObject = {};
  for (const r of ROUTES) {
    const item = (paths[openApiPath(r.path)] ??= {});
    (item as Record<string, ZodOpenApiOperationObject>)[r.method.toLowerCase()] = operation(r);
  }
  paths['/openapi.json'] = {
    get: {
      operationId: 'openApiDocument',
      summary: 'This document',
      tags: ['leadtrail'],
      security: [],
      responses: { '200': { description: 'The OpenAPI 3.1 document', content: { 'application/json': { schema: z.record(z.string(), z.unknown()) } } } },
    },
  };
  const pkg = require('../../package.json') as { version: string; license: string };
  return createDocument({
    openapi: '3.1.0',
    info: {
      title: 'leadtrail — LeadSquared Lead & Activity API',
      version: pkg.version,
      license: { name: pkg.license, identifier: pkg.license },
      description:
        "LeadSquared's Lead & Activity API as leadtrail serves it. Paths and query-parameter names match in any case, " +
        'JSON property names in any case, scalars as strings or numbers, flags as true, "true", "True", 1, "1" (and false, "false", "False", 0, "0", ""). ' +
        'Every error of the LeadSquared paths is the envelope {"Status":"Error","ExceptionType":"MX…","ExceptionMessage":…}.',
    },
    servers: [{ url: '/', description: 'This server (sync and async hosts are the same process)' }],
    tags: [
      { name: 'Leads', description: '/v2/LeadManagement.svc' },
      { name: 'Activities', description: '/v2/ProspectActivity.svc' },
      { name: 'Async', description: 'The async API host: submit, then poll the status' },
      { name: 'Webhooks', description: '/v2/Webhook.svc' },
      { name: 'Authentication', description: '/v2/Authentication.svc' },
      { name: 'leadtrail', description: "leadtrail's own endpoints (health, metrics, testing APIs)" },
    ],
    paths,
    components: {
      headers: { IgnoredProperties: IGNORED_HEADER_OBJECT },
      securitySchemes: {
        accessKeyQuery: { type: 'apiKey', in: 'query', name: 'accessKey', description: 'Access key in the query (any case)' },
        secretKeyQuery: { type: 'apiKey', in: 'query', name: 'secretKey', description: 'Secret key in the query (any case)' },
        accessKeyHeader: { type: 'apiKey', in: 'header', name: 'x-LSQ-AccessKey' },
        secretKeyHeader: { type: 'apiKey', in: 'header', name: 'x-LSQ-SecretKey' },
        apiKey: { type: 'apiKey', in: 'header', name: 'x-api-key', description: "The async API's key" },
        metricsToken: { type: 'http', scheme: 'bearer', description: 'LEADTRAIL_METRICS_TOKEN, when set' },
      },
    },
  }) as unknown as Record<string, unknown>;
}

let cached: string | null = null;
/** The document as JSON text, built once per process. */
export function openApiJson(): string {
  return (cached ??= JSON.stringify(buildOpenApi(), null, 2) + '\n');
}

const ASSETS: Record<string, string> = {
  'swagger-ui.css': 'text/css; charset=utf-8',
  'swagger-ui-bundle.js': 'text/javascript; charset=utf-8',
  'swagger-ui-standalone-preset.js': 'text/javascript; charset=utf-8',
  'favicon-32x32.png': 'image/png',
};

const PAGE = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>leadtrail API</title>
<link rel="stylesheet" href="/docs/swagger-ui.css">
<link rel="icon" type="image/png" href="/docs/favicon-32x32.png">
</head>
<body>
<div id="swagger-ui"></div>
<script src="/docs/swagger-ui-bundle.js"></script>
<script src="/docs/init.js"></script>
</body>
</html>
`;

const INIT = `window.ui = SwaggerUIBundle({ url: '/openapi.json', dom_id: '#swagger-ui', validatorUrl: null, deepLinking: true, tryItOutEnabled: false });\n`;

/**
 * Only this origin: the page can load nothing from elsewhere even if the bundle tried. No frames
 * either, as for the console: another site could frame the page (its "Authorize" form, "Try it
 * out") under a decoy and have it clicked.
 */
const CSP = "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; script-src 'self'; connect-src 'self'; frame-ancestors 'none'";

/** `/openapi.json` and `/docs` (Swagger UI from node_modules), a page scope of their own. */
export function docsPages(): PageScope {
  const dir = path.dirname(require.resolve('swagger-ui-dist/package.json'));
  return async (app: FastifyInstance) => {
    app.get('/openapi.json', async (_req, reply) => reply.type('application/json; charset=utf-8').header('access-control-allow-origin', '*').send(openApiJson()));
    app.get('/docs', async (_req, reply) => reply.type('text/html; charset=utf-8').header('content-security-policy', CSP).send(PAGE));
    app.get('/docs/init.js', async (_req, reply) => reply.type('text/javascript; charset=utf-8').send(INIT));
    for (const [file, type] of Object.entries(ASSETS)) {
      app.get(`/docs/${file}`, async (_req, reply) => reply.type(type).header('cache-control', 'public, max-age=3600').send(fs.createReadStream(path.join(dir, file))));
    }
  };
}
