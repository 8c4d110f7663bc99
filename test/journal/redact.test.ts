/** What the journal stores of a call's text: keys masked wherever they are, bodies cut between characters. */
import { describe, expect, it } from 'vitest';
import { linksOf } from '../../src/journal/links.js';
import { cap, redactBody, redactQuery, secretValues, storable } from '../../src/journal/redact.js';

describe('journal redaction', () => {
  const secrets = secretValues(['ak-1234', 'sk/with space', null, 'abc']);

  it('masks every key-like query parameter and the call keys anywhere, keeping the rest as sent', () => {
    expect(redactQuery('accessKey=ak-1234&secretKey=sk%2Fwith%20space&leadId=L1&X-Api-Key=z&api_token=t&q=a%20b', secrets)).toBe(
      'accessKey=***&secretKey=***&leadId=L1&X-Api-Key=***&api_token=***&q=a%20b',
    );
    // The key given under another name, raw or URL-encoded, is masked too; a too-short value is not hunted.
    expect(redactQuery('note=ak-1234&other=sk%2Fwith%20space&x=abc', secrets)).toBe('note=***&other=***&x=abc');
    // In any percent-encoding (%2D for "-", lower-case escapes, + for a space): the value is masked whole.
    expect(redactQuery('id=ak%2D1234&n=%61k-1234x&s=sk%2fwith+space&x=1', secrets)).toBe('id=***&n=***&s=***&x=1');
    expect(redactQuery('', secrets)).toBe('');
    expect(redactQuery('%E0%A4%A=1&flag', secrets)).toBe('%E0%A4%A=1&flag');
  });

  it('masks credential-named JSON properties and the call keys in bodies, not lead fields that mention "key"', () => {
    const body = JSON.stringify({ accessKey: 'x', SecretKey: 'y"z', 'x-api-key': 'q', password: 'p', mx_Keyword: 'kept', Note: 'my key is ak-1234' });
    expect(JSON.parse(redactBody(body, secrets))).toEqual({ accessKey: '***', SecretKey: '***', 'x-api-key': '***', password: '***', mx_Keyword: 'kept', Note: 'my key is ***' });
  });

  it('masks every credential property name it knows, whatever else the body holds', () => {
    // Bodies are searched only when they contain one of a few words; each of these names must be one.
    const names = ['apikey', 'API_Key', 'x-api-key', 'access-key', 'lsq-accesskey', 'x-lsq-secretkey', 'secret_key', 'client-secret', 'secret', 'token', 'refresh_token', 'access-token', 'passwd', 'Password', 'authorization'];
    for (const name of names) {
      const body = JSON.stringify({ Data: [{ Key: 'ActivityEvent_Note', Value: 'n' }], [name]: 'v' });
      expect(JSON.parse(redactBody(body, [])), name).toEqual({ Data: [{ Key: 'ActivityEvent_Note', Value: 'n' }], [name]: '***' });
    }
  });

  it('cuts at a byte limit without splitting a character, and reports the whole size', () => {
    expect(cap('abc', 10)).toEqual({ text: 'abc', size: 3 });
    const e = 'é'.repeat(10); // 2 bytes each
    expect(cap(e, 5)).toEqual({ text: 'éé', size: 20 });
    const emoji = '😀'.repeat(3); // 4 bytes each
    expect(cap(emoji, 7)).toEqual({ text: '😀', size: 12 });
    expect(storable('a\u0000b')).toBe('a\uFFFDb');
  });

  it('links nothing from an answer of an unexpected shape, and only from answers of successful calls', () => {
    const create = '/v2/ProspectActivity.svc/Create';
    expect(linksOf(create, { query: {}, body: null, answer: 'text', ok: true })).toEqual({ leadId: null, activityId: null, requestId: null });
    expect(linksOf(create, { query: {}, body: { relatedprospectid: 'L' }, answer: { Message: { Id: 'A', RelatedId: 'L2' } }, ok: false })).toEqual({ leadId: 'L', activityId: null, requestId: null });
    expect(linksOf(create, { query: {}, body: {}, answer: { Message: { Id: 'A', RelatedId: 'L2' } }, ok: true })).toEqual({ leadId: 'L2', activityId: 'A', requestId: null });
    expect(linksOf('/unknown', { query: { leadid: 'L' }, body: {}, answer: {}, ok: true })).toEqual({ leadId: null, activityId: null, requestId: null });
  });
});
