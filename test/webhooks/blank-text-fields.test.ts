/**
 * Webhook.svc Create and Update read a blank `Method` or `ContentType` (`""`, spaces, null) as left
 * out, each the same way: Update had taken `"ContentType":""` as absent and refused `"Method":""`,
 * and Create refused both (a fresh-eyes run). `Method` other than POST is still refused, and
 * nothing is changed by a refused call. Over HTTP, both engines.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { expectMx, expectOk } from '../helpers/lsq.js';
import { started, type TestServer } from '../helpers/server.js';

const WH = '/v2/Webhook.svc';
let s: TestServer;

const one = async (id: string) => expectOk(await s.call('POST', `${WH}/Retrieve`, { Parameter: { WebhookId: id } })).Response[0];

beforeAll(async () => {
  s = await started();
});

describe('blank Method and ContentType', () => {
  it.each(['', '   ', null])('Create takes %j as left out: POST, application/json', async (blank) => {
    const id = expectOk(await s.call('POST', `${WH}/Create`, { URL: 'https://example.com/blank', WebhookEvent: 3, Method: blank, ContentType: blank })).Message.Id;
    expect(await one(id)).toMatchObject({ Method: 'POST', ContentType: 'application/json' });
  });

  it.each(['', '   ', null])('Update takes %j as left out: the stored values stay', async (blank) => {
    const id = expectOk(await s.call('POST', `${WH}/Create`, { URL: 'https://example.com/kept', WebhookEvent: 3, ContentType: 'text/plain' })).Message.Id;
    expectOk(await s.call('POST', `${WH}/Update`, { WebhookId: id, Method: blank, ContentType: blank, Description: 'updated' }));
    expect(await one(id)).toMatchObject({ Method: 'POST', ContentType: 'text/plain', Description: 'updated' });
  });

  it('POST in any case with spaces is taken; another method is refused on both, changing nothing', async () => {
    const id = expectOk(await s.call('POST', `${WH}/Create`, { URL: 'https://example.com/method', WebhookEvent: 3, Method: ' post ' })).Message.Id;
    expectMx(await s.call('POST', `${WH}/Create`, { URL: 'https://example.com/get', WebhookEvent: 3, Method: 'GET' }), 500, 'MXInvalidInputException', 'Method must be POST.');
    expectMx(await s.call('POST', `${WH}/Update`, { WebhookId: id, Method: 'PUT', Description: 'not saved' }), 500, 'MXInvalidInputException', 'Method must be POST.');
    expect(await one(id)).toMatchObject({ Method: 'POST', Description: '' });
  });
});
