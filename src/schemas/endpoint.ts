/**
 * What an endpoint is, for validation and for the OpenAPI document: its query, body and answer
 * schemas and the error statuses it answers beyond those every route of its auth kind has
 * (schemas/openapi.ts adds 401/403/429/503 from the route table's auth kind, 400/413 for a body).
 *
 * To describe a new route: add `endpoint(method, path, {...})` to the area's file in src/schemas/
 * and list it in that file's export array; test/openapi names any route of src/http/routes.ts
 * that has none.
 */
import { z } from 'zod';
import 'zod-openapi';
import { parseInput, parseQuery } from './lsq.js';

export type Method = 'GET' | 'POST' | 'DELETE';

export interface EndpointSpec<Q extends z.ZodObject | undefined, B extends z.ZodType | undefined, P extends z.ZodObject | undefined = z.ZodObject | undefined> {
  /** Unique, camelCase: the client's method name and the document's operationId. */
  operationId: string;
  summary: string;
  description?: string;
  tag: string;
  query?: Q;
  /** Path parameters (`:name` in the route table's path, `{name}` in the document). */
  params?: P;
  body?: B;
  /** The body must be sent (most writes); otherwise an empty body is read as the schema allows. */
  bodyRequired?: boolean;
  /** The 200 answer. */
  answer: z.ZodType;
  /** Error statuses this endpoint answers with the MX envelope, beyond the auth kind's (e.g. 500, 404). */
  errors?: number[];
}

export interface Endpoint<
  Q extends z.ZodObject | undefined = z.ZodObject | undefined,
  B extends z.ZodType | undefined = z.ZodType | undefined,
  P extends z.ZodObject | undefined = z.ZodObject | undefined,
> extends EndpointSpec<Q, B, P> {
  method: Method;
  path: string;
}

export function endpoint<Q extends z.ZodObject | undefined = undefined, B extends z.ZodType | undefined = undefined, P extends z.ZodObject | undefined = undefined>(
  method: Method,
  path: string,
  spec: EndpointSpec<Q, B, P>,
): Endpoint<Q, B, P> {
  return { method, path, ...spec };
}

/** A route table path (`/x/:id`) as the document writes it (`/x/{id}`). */
export const openApiPath = (path: string) => path.replace(/:(\w+)/g, '{$1}');

/** The key the route table and the endpoint list share: method and path, the path lower-cased. */
export const routeKey = (method: string, path: string) => `${method} ${path.toLowerCase()}`;

/** Whether the character code `c` is one of RFC 3986's unreserved characters: A–Z, a–z, 0–9, `-`, `.`, `_`, `~`. */
const unreserved = (c: number) =>
  (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a) || (c >= 0x30 && c <= 0x39) || c === 0x2d || c === 0x2e || c === 0x5f || c === 0x7e;

/**
 * `path` with its percent-encoded unreserved characters decoded (`Lead%2ECreate` → `Lead.Create`,
 * `%4Ceads` → `Leads`): they name the same resource as the characters themselves (RFC 3986
 * §6.2.2.2), and LeadSquared's servers (IIS) decode them before matching a route. Every other
 * escape (`%2F`, `%20`, `%25`, non-ASCII) is left as sent: one pass, so `%254C` stays `%254C`.
 * A path with a `%` that starts no escape is left whole: decoded, `%%34%43` became `%4C`, a new
 * escape that the router then decoded again (a review). So decoding twice gives what decoding once
 * gave. Lower-casing a path before this had made `%4C` an `L` that no lower-cased route matched.
 */
export function decodeUnreserved(path: string): string {
  if (path.indexOf('%') === -1 || /%(?![0-9A-Fa-f]{2})/.test(path)) return path;
  return path.replace(/%([0-9A-Fa-f]{2})/g, (escape, hex: string) => {
    const c = parseInt(hex, 16);
    return unreserved(c) ? String.fromCharCode(c) : escape;
  });
}

/**
 * A LeadSquared path as its routes match it, for every comparison of a path as a client sent it
 * with a route table path (the 405 and switched-off answers, forced-fault rules, the ignored-property
 * finder): the query left out, unreserved escapes decoded (decodeUnreserved), doubled slashes made
 * one, trailing slashes dropped, lower case. `/v2//LeadManagement.svc/Lead%2ECreate/?x=1` →
 * `/v2/leadmanagement.svc/lead.create`; an empty path → `/`.
 */
export function pathKey(path: string): string {
  const q = path.indexOf('?');
  const key = decodeUnreserved(q === -1 ? path : path.slice(0, q))
    .replace(/\/{2,}/g, '/')
    .replace(/\/+$/, '')
    .toLowerCase();
  return key === '' ? '/' : key;
}

/** The request's query read by the endpoint's query schema (names in any case), or its MxError thrown. */
export function readQuery<Q extends z.ZodObject>(e: Endpoint<Q, z.ZodType | undefined>, q: Record<string, string>): z.output<Q> {
  return parseQuery(e.query!, q);
}

/** The request's path parameters (Fastify's `req.params`) read by the endpoint's params schema, or its MxError thrown. */
export function readParams<P extends z.ZodObject>(e: Endpoint<z.ZodObject | undefined, z.ZodType | undefined, P>, params: unknown): z.output<P> {
  return parseInput(e.params!, params);
}

/** The request's body read by the endpoint's body schema, or its MxError thrown. */
export function readBody<B extends z.ZodType>(e: Endpoint<z.ZodObject | undefined, B>, body: unknown): z.output<B> {
  return parseInput(e.body!, body);
}

// Shapes shared by several answers.

export const ErrorEnvelope = z
  .object({
    Status: z.literal('Error'),
    ExceptionType: z.string().meta({ description: 'LeadSquared exception type, e.g. MXInvalidInputException', example: 'MXInvalidInputException' }),
    ExceptionMessage: z.string(),
  })
  .meta({ id: 'ErrorEnvelope', description: "LeadSquared's error envelope, answered for every error of its API." });

export const Forbidden = z
  .object({ message: z.literal('Forbidden') })
  .meta({ id: 'Forbidden', description: 'The async gateway answers a missing or wrong x-api-key as AWS API Gateway does.' });

export const success = <M extends z.ZodType>(message: M) => z.object({ Status: z.literal('Success'), Message: message });

export const Lead = z
  .record(z.string(), z.string().nullable())
  .meta({ id: 'Lead', description: 'A lead as every lead read returns it: a flat object of string or null values (ProspectID, FirstName, EmailAddress, … and custom mx_ fields).' });

export const FieldsAny = z.record(z.string(), z.unknown());
