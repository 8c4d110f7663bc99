/**
 * A client's mistake on leadtrail's own endpoints (`/_leadtrail/…`) is a 400 (404 for an unknown id)
 * with an MX envelope naming what was wrong, never a 500: 500 is LeadSquared's convention for its
 * own API's application errors, not for ours (docs/journal.md, docs/webhooks.md, docs/faults.md).
 * A fresh-eyes run found `/_leadtrail/webhooks/deliveries?limit=abc` answering 500 and the journal
 * taking `from=2026-02-30` (a day V8 rolls over into March); a review of the OpenAPI document found
 * offsets and epoch milliseconds past a BIGINT answering 500. Runs on both engines.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { expectMx } from '../helpers/lsq.js';
import { started, type CallInit, type TestServer } from '../helpers/server.js';

let s: TestServer;

beforeAll(async () => {
  s = await started({ LEADTRAIL_FAULTS: 'true', LEADTRAIL_SANDBOX: 'true' });
});

type Bad = [method: string, path: string, body: unknown, init: CallInit | undefined, status: number, type: string, message: RegExp];

const BAD: Bad[] = [
  ['GET', '/_leadtrail/webhooks/deliveries?limit=abc', undefined, undefined, 400, 'MXInvalidInputException', /'limit' must be a whole number from 1 to 1000; got 'abc'/],
  ['GET', '/_leadtrail/webhooks/deliveries?limit=0', undefined, undefined, 400, 'MXInvalidInputException', /'limit'/],
  ['GET', '/_leadtrail/webhooks/deliveries?limit=1001', undefined, undefined, 400, 'MXInvalidInputException', /'limit'/],
  ['GET', '/_leadtrail/webhooks/deliveries?offset=-1', undefined, undefined, 400, 'MXInvalidInputException', /'offset' must be a whole number from 0 to 9007199254740991; got '-1'/],
  // Numbers past what a database's BIGINT holds were a 500 MXSystemException on both engines.
  ['GET', '/_leadtrail/webhooks/deliveries?offset=1e300', undefined, undefined, 400, 'MXInvalidInputException', /'offset' must be a whole number/],
  ['GET', '/_leadtrail/webhooks/deliveries?offset=99999999999999999999', undefined, undefined, 400, 'MXInvalidInputException', /'offset' must be a whole number/],
  // The document says integer: text in another notation is refused, not read as a number.
  ['GET', '/_leadtrail/webhooks/deliveries?limit=0x10', undefined, undefined, 400, 'MXInvalidInputException', /'limit'/],
  ['GET', '/_leadtrail/webhooks/deliveries?offset=1.5', undefined, undefined, 400, 'MXInvalidInputException', /'offset'/],
  ['POST', '/_leadtrail/webhooks/deliveries/resend', undefined, undefined, 400, 'MXInvalidInputException', /'id' \(a delivery id\) is mandatory/],
  ['POST', '/_leadtrail/webhooks/deliveries/resend', {}, undefined, 400, 'MXInvalidInputException', /'id'/],
  ['POST', '/_leadtrail/webhooks/deliveries/resend?id=00000000-0000-0000-0000-000000000000', undefined, undefined, 404, 'MXInvalidEntityException', /No delivery/],
  ['GET', '/_leadtrail/journal?from=2026-02-30', undefined, undefined, 400, 'MXInvalidInputException', /'from' must be epoch milliseconds or an ISO 8601 date\/time; got '2026-02-30'/],
  ['GET', '/_leadtrail/journal?to=2026-04-31T10:00:00Z', undefined, undefined, 400, 'MXInvalidInputException', /'to'/],
  ['GET', '/_leadtrail/journal?limit=abc', undefined, undefined, 400, 'MXInvalidInputException', /'limit'/],
  // Epoch milliseconds past a Date's range were a 500 MXSystemException on PostgreSQL.
  ['GET', '/_leadtrail/journal?from=99999999999999999999999', undefined, undefined, 400, 'MXInvalidInputException', /'from' in epoch milliseconds must be at most 8640000000000000/],
  ['GET', '/_leadtrail/journal?to=99999999999999999999999', undefined, undefined, 400, 'MXInvalidInputException', /'to'/],
  ['GET', '/_leadtrail/journal/00000000-0000-0000-0000-000000000000', undefined, undefined, 404, 'MXInvalidEntityException', /was not found/],
  ['POST', '/_leadtrail/faults', { path: '/v2/x', status: 'abc' }, undefined, 400, 'MXInvalidInputException', /status/i],
  ['POST', '/_leadtrail/faults', undefined, { raw: '{"path": oops' }, 400, 'MXInvalidJsonException', /./],
];

describe("leadtrail's own endpoints", () => {
  it.each(BAD)('%s %s: %i %s', async (method, path, body, init, status, type, message) => {
    expectMx(await s.call(method, path, body, init), status, type, message);
  });

  it('the journal still takes real days: 29 February of a leap year, and the last day of each month', async () => {
    for (const from of ['2024-02-29', '2026-01-31', '2026-04-30T23:59:59Z', '1712000000000']) {
      expect((await s.call('GET', `/_leadtrail/journal?from=${from}&limit=1`)).status, from).toBe(200);
    }
  });
});
