import { describe, expect, it } from 'vitest';
import { routingUrl } from '../../src/http/server.js';

describe('routingUrl: LeadSquared paths match in any case, leadtrail pages exactly as written', () => {
  it('lower-cases a LeadSquared path and keeps its query as sent', () => {
    expect(routingUrl('/V2/ProspectActivity.svc/Create?accessKey=AbC&secretKey=XyZ')).toBe('/v2/prospectactivity.svc/create?accessKey=AbC&secretKey=XyZ');
    expect(routingUrl('/Activity/Create')).toBe('/activity/create');
    expect(routingUrl('/_LeadTrail/Reset')).toBe('/_leadtrail/reset');
  });

  it("leaves the console's and the API docs' paths (and their ids) as written", () => {
    expect(routingUrl('/console/leads/AbC-123?Page=2')).toBe('/console/leads/AbC-123?Page=2');
    expect(routingUrl('/docs/Index.html')).toBe('/docs/Index.html');
    expect(routingUrl('/openapi.json')).toBe('/openapi.json');
  });

  it('does not take a path that merely starts with the same letters for a page', () => {
    expect(routingUrl('/consoleX/Y')).toBe('/consolex/y');
    expect(routingUrl('/Docs')).toBe('/docs');
  });
});
