/**
 * The OpenAPI document: built from the route table and the endpoint schemas, committed as
 * openapi/leadtrail.json (kept fresh by `npm run openapi`), served without keys at /openapi.json,
 * and shown by /docs from this server alone.
 */
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { chromium } from 'playwright-core';
import { buildOpenApi, openApiJson } from '../../src/http/docs.js';
import { ROUTES } from '../../src/http/routes.js';
import { ENDPOINT_BY_ROUTE } from '../../src/schemas/index.js';
import { openApiPath, routeKey } from '../../src/schemas/endpoint.js';
import { started } from '../helpers/server.js';
import { ROOT, generatedFiles } from '../../openapi/generate.js';
import { ACTIVITY_WIRE_PROPERTIES } from '../../src/wire/shapes.js';

const FILE = new URL('../../openapi/leadtrail.json', import.meta.url);

describe('the OpenAPI document', () => {
  it('has an endpoint schema for every route in the route table', () => {
    const missing = ROUTES.filter((r) => !ENDPOINT_BY_ROUTE.has(routeKey(r.method, r.path))).map((r) => `${r.method} ${r.path}`);
    expect(missing, 'routes in src/http/routes.ts without endpoint(...) in src/schemas/').toEqual([]);
  });

  it('lists every route of the route table under its path and method', () => {
    const doc = buildOpenApi() as { paths: Record<string, Record<string, unknown>> };
    const missing = ROUTES.filter((r) => !doc.paths[openApiPath(r.path)]?.[r.method.toLowerCase()]).map((r) => `${r.method} ${r.path}`);
    expect(missing, 'routes missing from the OpenAPI document').toEqual([]);
    const ids = Object.values(doc.paths).flatMap((item) => Object.values(item).map((op) => (op as { operationId: string }).operationId));
    expect(new Set(ids).size, 'operationIds are unique').toBe(ids.length);
  });

  it('names a route without a schema when the document is built', () => {
    ROUTES.push({ method: 'GET', path: '/v2/Nowhere.svc/Missing', auth: 'sync', handler: async () => null });
    try {
      expect(() => buildOpenApi()).toThrow('route GET /v2/Nowhere.svc/Missing (src/http/routes.ts) has no schema');
    } finally {
      ROUTES.pop();
    }
  });

  it('is committed up to date, with the client generated from it (run `npm run openapi`)', async () => {
    const files = await generatedFiles();
    expect(Object.keys(files)).toEqual(['openapi/leadtrail.json', 'src/client/openapi.ts', 'src/client/operations.ts']);
    expect(files['openapi/leadtrail.json']).toBe(openApiJson());
    for (const [file, content] of Object.entries(files)) {
      expect(fs.readFileSync(path.join(ROOT, file), 'utf8'), `${file} is stale: run \`npm run openapi\``).toBe(content);
    }
  });

  it("describes every property of a listed activity (Retrieve, RetrieveRecentlyModified), so a generated client need not cast them", () => {
    const doc = buildOpenApi() as any;
    const listed = doc.components.schemas.ListedActivity;
    expect(Object.keys(listed.properties)).toEqual(ACTIVITY_WIRE_PROPERTIES);
    expect(listed.required).toEqual(ACTIVITY_WIRE_PROPERTIES);
    expect(doc.paths['/v2/ProspectActivity.svc/Retrieve'].post.responses['200'].content['application/json'].schema.properties.ProspectActivities.items.$ref).toBe('#/components/schemas/ListedActivity');
    const recent = doc.paths['/v2/ProspectActivity.svc/RetrieveRecentlyModified'].post.responses['200'].content['application/json'].schema.properties.ProspectActivities.items;
    expect(Object.keys(recent.properties)).toEqual([...ACTIVITY_WIRE_PROPERTIES, 'RelatedProspectId', 'ModifiedOn']);
  });

  it('declares X-LeadTrail-Ignored-Properties on the answers of every route that reads a body, and only there', () => {
    const doc = buildOpenApi() as any;
    expect(doc.components.headers.IgnoredProperties.schema.type).toBe('string');
    for (const r of ROUTES) {
      const op = doc.paths[openApiPath(r.path)][r.method.toLowerCase()];
      const reads = ENDPOINT_BY_ROUTE.get(routeKey(r.method, r.path))?.body !== undefined;
      for (const status of ['200', '400', '500']) {
        const h = op.responses[status]?.headers?.['X-LeadTrail-Ignored-Properties'];
        if (status === '200' || op.responses[status]) expect(h?.$ref, `${r.method} ${r.path} ${status}`).toBe(reads ? '#/components/headers/IgnoredProperties' : undefined);
      }
    }
  });

  it("names a nested custom-field-set entry by SchemaName or Attribute, as the server reads it", async () => {
    const doc = buildOpenApi() as any;
    const nested: Record<string, unknown>[] = [];
    const walk = (node: any): void => {
      if (!node || typeof node !== 'object') return;
      if (node.properties?.SchemaName && node.properties?.Attribute && node.properties?.Fields?.items) nested.push(node.properties.Fields.items.properties);
      for (const v of Object.values(node)) walk(v);
    };
    walk(doc.paths);
    expect(nested.length).toBeGreaterThan(10);
    // Was SchemaName and Value only: a typed client refused `Attribute` there (TS2353), which the server takes.
    // And `Fields`, which a nested entry may send as null (not nested further): read, so not ignored.
    for (const props of nested) expect(Object.keys(props)).toEqual(['SchemaName', 'Attribute', 'Value', 'Fields']);
    const s = await started();
    const type = await s.call('POST', '/v2/ProspectActivity.svc/CreateType', {
      ActivityEventName: 'Nested attribute',
      Fields: [{ SchemaName: 'mx_Custom_1', DataType: 'CustomObject', Fields: [{ SchemaName: 'mx_CustomObject_1', DisplayName: 'File', DataType: 'String' }] }],
    });
    expect(type.status).toBe(200);
    const posted = await s.call('POST', '/v2/ProspectActivity.svc/Create', {
      EmailAddress: 'nested-attribute@example.com',
      ActivityEvent: type.body.Message.Id,
      Fields: [{ SchemaName: 'mx_Custom_1', Value: '', Fields: [{ Attribute: 'mx_CustomObject_1', Value: 'f.pdf' }] }],
    });
    expect(posted.status, posted.text).toBe(200);
  });

  it("types an activity field definition's OptionSet and names the MaxFieldLength and Options the server also reads", async () => {
    const doc = buildOpenApi() as any;
    for (const path of ['/v2/ProspectActivity.svc/CreateType', '/v2/ProspectActivity.svc/CustomActivityType/Update']) {
      const top = doc.paths[path].post.requestBody.content['application/json'].schema.properties.Fields.items.properties;
      for (const props of [top, top.Fields.items.properties]) {
        // OptionSet was untyped: `unknown` to a generated client, and {} or true passed a document check yet got 400.
        expect(props.OptionSet.type, path).toEqual(['array', 'string', 'null']);
        expect(props.Options.type, path).toEqual(['array', 'string', 'null']);
        expect(props.MaxFieldLength.type, path).toEqual(props.MaxLength.type);
      }
    }
    const s = await started();
    const created = await s.call('POST', '/v2/ProspectActivity.svc/CreateType', {
      ActivityEventName: 'Option set names',
      Fields: [{ SchemaName: 'mx_Custom_1', DataType: 'Dropdown', Options: ['a', { Value: 'b', Text: 'B' }] }, { SchemaName: 'mx_Custom_2', MaxFieldLength: 10 }],
    });
    expect(created.status, created.text).toBe(200);
    const code = created.body.Message.Id;
    // A definition read from GetActivitySetting (MaxFieldLength, OptionSet as JSON text) goes back as it is.
    const setting = await s.call('GET', `/v2/ProspectActivity.svc/CustomActivity/GetActivitySetting?code=${code}`);
    expect(setting.body.Fields.map((f: any) => [f.SchemaName, f.MaxFieldLength, JSON.parse(f.OptionSet || '[]').map((o: any) => o.Value)])).toEqual([
      ['mx_Custom_1', null, ['a', 'b']],
      ['mx_Custom_2', 10, []],
    ]);
    const updated = await s.call('POST', '/v2/ProspectActivity.svc/CustomActivityType/Update', { ID: code, Fields: setting.body.Fields });
    expect(updated.status, updated.text).toBe(200);
    const refused = await s.call('POST', '/v2/ProspectActivity.svc/CreateType', { ActivityEventName: 'Option set object', Fields: [{ SchemaName: 'mx_Custom_1', OptionSet: {} }] });
    expect(refused.status).toBe(400);
  });

  it("types each row of the lead bulk bodies as Lead.Create's body, which is how the server reads it", async () => {
    const doc = buildOpenApi() as any;
    const body = (path: string) => doc.paths[path].post.requestBody.content['application/json'].schema;
    const single = body('/v2/LeadManagement.svc/Lead.Create');
    for (const path of ['/v2/LeadManagement.svc/Lead/Bulk/Create', '/v2/LeadManagement.svc/Lead/Bulk/CreateOrUpdate']) {
      // Was `{ description }` alone: `unknown[]` to a generated client, which then took any value as a row.
      expect(body(path).items.anyOf, path).toEqual(single.anyOf);
    }
    const s = await started();
    const rows = await s.call('POST', '/v2/LeadManagement.svc/Lead/Bulk/Create', [
      [{ Attribute: 'EmailAddress', Value: 'bulk-row-a@example.com' }],
      { LeadDetails: [{ Attribute: 'EmailAddress', Value: 'bulk-row-b@example.com' }] },
    ]);
    expect(rows.status, rows.text).toBe(200);
    expect(rows.body.map((r: any) => r.LeadCreated)).toEqual([true, true]);
    expect((await s.call('POST', '/v2/LeadManagement.svc/Lead/Bulk/Create', [42])).status).toBe(400);
  });

  it('describes both auth schemes and the error envelope of every LeadSquared path', () => {
    const doc = buildOpenApi() as any;
    expect(Object.keys(doc.components.securitySchemes)).toEqual(expect.arrayContaining(['accessKeyQuery', 'secretKeyQuery', 'accessKeyHeader', 'secretKeyHeader', 'apiKey']));
    const create = doc.paths['/v2/LeadManagement.svc/Lead.Create'].post;
    expect(create.security).toEqual([{ accessKeyQuery: [], secretKeyQuery: [] }, { accessKeyHeader: [], secretKeyHeader: [] }]);
    for (const status of ['400', '401', '413', '429', '500', '503']) {
      expect(create.responses[status].content['application/json'].schema.$ref, status).toBe('#/components/schemas/ErrorEnvelope');
    }
    expect(doc.paths['/activity/create'].post.security[0]).toEqual({ apiKey: [], accessKeyQuery: [], secretKeyQuery: [] });
    expect(doc.paths['/activity/create'].post.responses['403'].content['application/json'].schema.$ref).toBe('#/components/schemas/Forbidden');
    expect(doc.paths['/lead/status'].get.security).toEqual([{ apiKey: [] }]);
    expect(doc.paths['/lead/status'].get.responses['404']).toBeDefined();
  });
});

describe('served', () => {
  it('GET /openapi.json needs no keys and is the committed document', async () => {
    const s = await started();
    const res = await fetch(`${s.url}/openapi.json`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^application\/json/);
    expect(await res.text()).toBe(fs.readFileSync(FILE, 'utf8'));
  });

  it('/docs may not be framed by another site (clickjacking), as the console may not', async () => {
    const s = await started();
    const res = await fetch(`${s.url}/docs`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-security-policy')).toContain("frame-ancestors 'none'");
  });

  it('/docs renders every path from this server alone (no outside requests)', async () => {
    const s = await started();
    const browser = await chromium.launch({ executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium' });
    try {
      const page = await browser.newPage();
      const urls: string[] = [];
      page.on('request', (r) => urls.push(r.url()));
      const res = await page.goto(`${s.url}/docs`);
      expect(res?.status()).toBe(200);
      expect(res?.headers()['content-security-policy']).toContain("default-src 'self'");
      await page.waitForSelector('.opblock', { timeout: 60_000 });
      const shown = await page.$$eval('.opblock-summary-path', (els) => els.map((e) => e.getAttribute('data-path')));
      expect(new Set(shown)).toEqual(new Set([...new Set(ROUTES.map((r) => openApiPath(r.path))), '/openapi.json']));
      const outside = urls.filter((u) => !u.startsWith(s.url) && !u.startsWith('data:'));
      expect(outside).toEqual([]);
      expect(urls).toContain(`${s.url}/openapi.json`);
    } finally {
      await browser.close();
    }
  }, 120_000);
});

describe('answers', () => {
  it('name every property they carry: no answer object is open to undocumented ones, but the maps and ListedActivity', () => {
    const doc = buildOpenApi() as any;
    const open: string[] = [];
    const seen = new Set<unknown>();
    const walk = (node: any, where: string): void => {
      if (!node || typeof node !== 'object' || seen.has(node)) return;
      seen.add(node);
      if (typeof node.$ref === 'string') {
        const name = node.$ref.split('/').pop();
        // Retrieve's activities stay open (LeadSquared's own may carry more); the test above holds their names to the wire's.
        if (name !== 'ListedActivity') walk(doc.components.schemas[name], name);
        return;
      }
      if (node.properties && node.additionalProperties !== false) open.push(where);
      for (const [k, v] of Object.entries(node)) if (typeof v === 'object') walk(v, `${where}.${k}`);
    };
    for (const [p, item] of Object.entries(doc.paths as Record<string, Record<string, any>>)) {
      for (const [method, op] of Object.entries(item)) {
        walk(op.responses['200']?.content?.['application/json']?.schema, `${method} ${p}`);
      }
    }
    // RetrieveRecentlyModified's activities extend ListedActivity (names held equal above);
    // RetrieveByActivityEvent's carry the activity's fields by name after their fixed properties.
    expect(open).toEqual([
      'post /v2/ProspectActivity.svc/CustomActivity/RetrieveByActivityEvent.properties.List.items',
      'post /v2/ProspectActivity.svc/RetrieveRecentlyModified.properties.ProspectActivities.items',
    ]);
  });
});
