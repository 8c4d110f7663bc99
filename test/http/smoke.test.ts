import { beforeAll, describe, expect, it } from 'vitest';
import { started, type TestServer } from '../helpers/server.js';

let s: TestServer;
beforeAll(async () => {
  s = await started();
});

describe('smoke', () => {
  it('posts an activity by email, creating the lead, and reads it back', async () => {
    const t = await s.call('POST', '/v2/ProspectActivity.svc/CreateType', { ActivityEventName: 'Smoke', Score: 3 });
    expect(t.status, t.text).toBe(200);
    const code = t.body.Message.Id;
    const r = await s.call('POST', '/v2/ProspectActivity.svc/Create', { EmailAddress: 'smoke@example.com', FirstName: 'S', ActivityEvent: code });
    expect(r.status, r.text).toBe(200);
    expect(r.body.Status).toBe('Success');
    const lead = await s.call('GET', '/v2/LeadManagement.svc/Leads.GetByEmailaddress?emailaddress=SMOKE@example.com');
    expect(lead.body).toHaveLength(1);
    expect(lead.body[0].Score).toBe('3');
  });
});
