/**
 * Every endpoint that reads a body can name what it ignores (schemas/ignored.ts walks each body
 * schema): a schema helper whose structure the walk does not know would leave an endpoint silently
 * naming nothing. The names themselves are tested over HTTP (test/http/ignored-properties.test.ts).
 */
import { describe, expect, it } from 'vitest';
import { ENDPOINTS } from '../../src/schemas/index.js';
import { ignoredFinder, ignoredFinderFor } from '../../src/schemas/ignored.js';

describe('ignored properties', () => {
  it('every endpoint with a body names an unknown property, as an object or in a list entry', () => {
    const silent = ENDPOINTS.filter((e) => e.body).filter((e) => {
      const find = ignoredFinder(e.body!);
      return find({ NoSuchProperty: 1 }).length === 0 && find([{ NoSuchProperty: 1 }]).length === 0 && find([[{ Attribute: 'A', NoSuchProperty: 1 }]]).length === 0;
    });
    expect(silent.map((e) => `${e.method} ${e.path}`)).toEqual([]);
  });

  it('finds a route by the path as a client sent it', () => {
    for (const path of ['/v2/ProspectActivity.svc/Create', '/V2/PROSPECTACTIVITY.SVC/CREATE/', '//v2//ProspectActivity.svc/Create']) {
      expect(ignoredFinderFor('POST', path)?.({ X: 1 }), path).toEqual(['X']);
    }
    expect(ignoredFinderFor('GET', '/v2/LeadManagement.svc/Leads.GetById')).toBeNull();
    expect(ignoredFinderFor('POST', '/no/such/path')).toBeNull();
  });
});
