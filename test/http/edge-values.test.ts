/**
 * Inputs a tester found mishandled (each a kind of fault, fixed where it can happen), on both engines:
 * an unpinned CreateType after a pinned code, a plain value sent to a custom field set, values of
 * only spaces in typed fields, and the year 0000.
 */
import { describe, expect, it } from 'vitest';
import { LM, PA, createLead, createType, expectMx, expectOk, getLead } from '../helpers/lsq.js';
import { started } from '../helpers/server.js';

describe('CreateType without a pinned code', () => {
  it('steps over codes already taken (a system type, a pinned type) instead of failing on them for good', async () => {
    const s = await started();
    // 3002 is the system type Lead Stage Change: after 3001 the next free code is 3003.
    expect(await createType(s, { ActivityEventName: 'Pinned 3001', ActivityEvent: 3001 })).toBe(3001);
    expect(await createType(s, { ActivityEventName: 'After 3001' })).toBe(3003);
    expect(await createType(s, { ActivityEventName: 'Pinned 12000', ActivityEvent: 12000 })).toBe(12000);
    expect(await createType(s, { ActivityEventName: 'Pinned 11999', ActivityEvent: 11999 })).toBe(11999);
    // The next after 11999 is 12000, taken: 12001, and on from there.
    expect(await createType(s, { ActivityEventName: 'After 11999' })).toBe(12001);
    expect(await createType(s, { ActivityEventName: 'And the next' })).toBe(12002);
  });
});

describe('field values', () => {
  it('a plain value for a custom field set is refused (it was stored as an empty set), on activities and leads', async () => {
    const s = await started();
    const code = await createType(s, { ActivityEventName: 'Sets', Fields: [{ SchemaName: 'mx_Custom_1', DataType: 'CustomObject', Fields: [{ SchemaName: 'mx_CustomObject_1' }] }] });
    const lead = await createLead(s, { FirstName: 'Set', EmailAddress: 'set@example.com' });
    expectMx(
      await s.call('POST', `${PA}/Create`, { RelatedProspectId: lead, ActivityEvent: code, Fields: [{ SchemaName: 'mx_Custom_1', Value: 'plain' }] }),
      500,
      'MXInvalidInputException',
      /mx_Custom_1.*custom field set.*nested 'Fields'/,
    );
    // Nested Fields, and an empty plain value beside them, are fine.
    expectOk(await s.call('POST', `${PA}/Create`, { RelatedProspectId: lead, ActivityEvent: code, Fields: [{ SchemaName: 'mx_Custom_1', Value: '', Fields: [{ SchemaName: 'mx_CustomObject_1', Value: 'kept' }] }] }));
    // A lead field set (made by its first use with nested Fields), then a plain value.
    expectOk(await s.call('POST', `${LM}/Lead.Update?leadId=${lead}`, [{ Attribute: 'mx_KYC', Value: '', Fields: [{ Attribute: 'mx_CustomObject_1', Value: 'doc' }] }]));
    expectMx(await s.call('POST', `${LM}/Lead.Update?leadId=${lead}`, [{ Attribute: 'mx_KYC', Value: 'plain' }]), 500, 'MXInvalidInputException', /mx_KYC.*custom field set/);
    expect(JSON.parse((await getLead(s, lead))!.mx_KYC!)).toEqual({ mx_CustomObject_1: 'doc' });
  });

  it('only spaces in a typed field is no value: it clears a lead field, and a SearchBy field given so is missing', async () => {
    const s = await started();
    const lead = await createLead(s, { FirstName: 'Spaces', Phone: '+91-9800000001', Website: 'example.com', Revenue: '10', DoNotEmail: 'true' });
    expectOk(await s.call('POST', `${LM}/Lead.Update?leadId=${lead}`, ['Phone', 'Website', 'Revenue', 'DoNotEmail'].map((Attribute) => ({ Attribute, Value: '   ' }))));
    expect(await getLead(s, lead)).toMatchObject({ Phone: null, Website: null, Revenue: null, DoNotEmail: '0' });
    expectMx(
      await s.call('POST', `${LM}/Lead.CreateOrUpdate`, [{ Attribute: 'Phone', Value: '   ' }, { Attribute: 'SearchBy', Value: 'Phone' }]),
      500,
      'MXMandatoryAttributeMissingException',
    );
    const code = await createType(s, { ActivityEventName: 'Typed', Fields: [{ SchemaName: 'mx_Custom_1', DataType: 'Number' }] });
    const posted = expectOk(await s.call('POST', `${PA}/Create`, { RelatedProspectId: lead, ActivityEvent: code, Fields: [{ SchemaName: 'mx_Custom_1', Value: '  ' }] }));
    expect(posted.Message.Id).toEqual(expect.any(String));
  });

  it('the year 0000 is not a date (.NET dates start at 0001): refused as ActivityDateTime and as a Date field', async () => {
    const s = await started();
    const code = await createType(s, { ActivityEventName: 'Dates', Fields: [{ SchemaName: 'mx_Custom_1', DataType: 'Date' }] });
    const lead = await createLead(s, { FirstName: 'Dated' });
    expectMx(await s.call('POST', `${PA}/Create`, { RelatedProspectId: lead, ActivityEvent: code, ActivityDateTime: '0000-01-01 00:00:00' }), 500, 'MXInvalidInputException');
    expectMx(await s.call('POST', `${PA}/Create`, { RelatedProspectId: lead, ActivityEvent: code, Fields: [{ SchemaName: 'mx_Custom_1', Value: '0000-06-01' }] }), 500, 'MXInvalidInputException');
    expectOk(await s.call('POST', `${PA}/Create`, { RelatedProspectId: lead, ActivityEvent: code, ActivityDateTime: '0001-01-01 00:00:00', Fields: [{ SchemaName: 'mx_Custom_1', Value: '0001-06-01' }] }));
  });
});
