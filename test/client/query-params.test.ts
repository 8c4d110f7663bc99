/**
 * The query parameters the document declares for the lead writes are the ones the server takes: each
 * `LeadUpdateBehavior` value the document names (its examples, from domain/capture.ts) is taken by
 * Lead.Capture and the async /lead/capture, and `postUpdatedLead` (LeadSquared's, accepted and
 * ignored) is declared wherever the server takes it, so that the typed client can send it. A
 * fresh-eyes trial found the document naming `UpdateAll`, which the server refuses, and
 * `postUpdatedLead` missing from Lead.Update and /lead/update (the client's types refused it).
 */
import fs from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { createClient, LeadSquaredError, type Client } from '../../src/client/index.js';
import { ROOT } from '../../openapi/generate.js';
import { KEYS, started, type TestServer } from '../helpers/server.js';

type Parameter = { name: string; in: string; schema?: { examples?: string[] } };
const doc = JSON.parse(fs.readFileSync(path.join(ROOT, 'openapi/leadtrail.json'), 'utf8')) as { paths: Record<string, Record<string, { operationId: string; parameters?: Parameter[] }>> };
const operations = Object.values(doc.paths).flatMap((item) => Object.values(item));
const parameter = (operationId: string, name: string) => operations.find((o) => o.operationId === operationId)?.parameters?.find((p) => p.in === 'query' && p.name === name);

describe('the lead writes\' query parameters, as the document declares them', () => {
  let s: TestServer;
  let lsq: Client;
  const stamp = Date.now();
  beforeAll(async () => {
    s = await started();
    lsq = createClient({ baseUrl: s.url, ...KEYS });
  });

  const behaviors = parameter('leadCapture', 'LeadUpdateBehavior')?.schema?.examples ?? [];

  it('names the same LeadUpdateBehavior values on Lead.Capture and /lead/capture, Update among them', () => {
    expect(behaviors).toContain('Update');
    expect(behaviors).not.toContain('UpdateAll');
    expect(parameter('asyncLeadCapture', 'LeadUpdateBehavior')?.schema?.examples).toEqual(behaviors);
  });

  it('each LeadUpdateBehavior the document names, and its lower case, is taken by Lead.Capture and /lead/capture', async () => {
    for (const [i, value] of behaviors.flatMap((b) => [b, b.toLowerCase()]).entries()) {
      const email = `behavior-${stamp}-${i}@example.com`;
      const sync = await lsq.leadCapture({ query: { LeadUpdateBehavior: value }, body: [{ Attribute: 'EmailAddress', Value: email }] });
      expect(sync.Message.IsCreated, value).toBe(true);
      const done = await lsq.waitFor.asyncLeadCapture({ query: { LeadUpdateBehavior: value }, body: [{ Attribute: 'EmailAddress', Value: email }, { Attribute: 'Company', Value: 'Again' }] }, { pollMs: 50 });
      expect(done.status.TaskStatus.Status, value).toBe('Success');
    }
    // A value the server does not take is refused, naming those it takes.
    const refused = await lsq.leadCapture({ query: { LeadUpdateBehavior: 'UpdateAll' }, body: [{ Attribute: 'EmailAddress', Value: `refused-${stamp}@example.com` }] }).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(LeadSquaredError);
    expect(refused).toMatchObject({ status: 500, exceptionType: 'MXInvalidInputException' });
    for (const b of behaviors) expect((refused as Error).message).toContain(b);
  });

  it('declares postUpdatedLead on every lead write that takes it, and each takes it', async () => {
    const declaring = ['leadUpdate', 'leadCreateOrUpdate', 'asyncLeadUpdate', 'asyncLeadCapture'];
    expect(declaring.filter((id) => !parameter(id, 'postUpdatedLead'))).toEqual([]);
    const email = `posted-${stamp}@example.com`;
    const made = await lsq.leadCreateOrUpdate({ query: { postUpdatedLead: 'true' }, body: [{ Attribute: 'EmailAddress', Value: email }] });
    const leadId = made.Message.Id;
    expect((await lsq.leadUpdate({ query: { leadId, postUpdatedLead: 'true' }, body: [{ Attribute: 'LastName', Value: 'Rao' }] })).Message.AffectedRows).toBe(1);
    expect((await lsq.waitFor.asyncLeadUpdate({ query: { leadId, postUpdatedLead: 'false' }, body: [{ Attribute: 'Company', Value: 'Pune Traders' }] }, { pollMs: 50 })).status.TaskStatus.Status).toBe('Success');
    expect((await lsq.waitFor.asyncLeadCapture({ query: { postUpdatedLead: 'true' }, body: [{ Attribute: 'EmailAddress', Value: email }, { Attribute: 'JobTitle', Value: 'Founder' }] }, { pollMs: 50 })).status.TaskStatus.Status).toBe('Success');
  });
});
