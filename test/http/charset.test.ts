/**
 * Body charsets and content encodings, over real HTTP: a charset declared on the Content-Type is
 * honoured (latin-1, windows-1252, UTF-16), UTF-8 and no charset read as always, an unknown charset
 * or a compressed body is 415 before anything is parsed or stored.
 */
import { gzipSync } from 'node:zlib';
import iconv from 'iconv-lite';
import { beforeAll, describe, expect, it } from 'vitest';
import { LM, accountIdOf, counts, expectMx, leadByEmail } from '../helpers/lsq.js';
import { KEYS, resultOf, started, type CallResult, type TestServer } from '../helpers/server.js';

let s: TestServer;
let accountId: string;

beforeAll(async () => {
  s = await started();
  accountId = await accountIdOf(s);
});

const leadBody = (email: string, firstName: string) =>
  JSON.stringify([
    { Attribute: 'EmailAddress', Value: email },
    { Attribute: 'FirstName', Value: firstName },
  ]);

/** Lead.Create with these exact bytes and headers (no Content-Type unless given). */
async function send(bytes: Uint8Array, headers: Record<string, string> = {}, keys: { accessKey: string; secretKey: string } = KEYS): Promise<CallResult> {
  const res = await fetch(`${s.url}${LM}/Lead.Create?accessKey=${keys.accessKey}&secretKey=${keys.secretKey}`, {
    method: 'POST',
    headers,
    body: new Blob([Uint8Array.from(bytes)]),
  });
  return resultOf(res);
}

/** Sends, expects 200, and returns the FirstName read back by email. */
async function created(email: string, bytes: Uint8Array, headers: Record<string, string> = {}): Promise<string | null | undefined> {
  const r = await send(bytes, headers);
  expect(r.status, r.text).toBe(200);
  return (await leadByEmail(s, email))?.FirstName;
}

/** Runs `act` and asserts no lead was stored, neither the one named nor any other. */
async function expectNothingStored(email: string, act: () => Promise<void>): Promise<void> {
  const before = await counts(s, accountId);
  await act();
  expect(await counts(s, accountId)).toEqual(before);
  expect(await leadByEmail(s, email)).toBeNull();
}

describe('a declared charset is honoured', () => {
  it('latin-1 with charset=iso-8859-1 is read as latin-1 (José, not Jos\\uFFFD)', async () => {
    const email = 'latin1@example.com';
    const bytes = Buffer.from(leadBody(email, 'José'), 'latin1');
    expect(bytes.includes(0xe9)).toBe(true); // é is one byte, not UTF-8
    expect(await created(email, bytes, { 'content-type': 'application/json; charset=iso-8859-1' })).toBe('José');
  });

  it('charset names match in any case, quoted or not, among other parameters', async () => {
    const variants = ['application/json; charset=ISO-8859-1', 'application/json;charset="latin1"', 'text/plain; format=flowed; Charset = "Latin1"'];
    for (const [i, ct] of variants.entries()) {
      const email = `latin1-${i}@example.com`;
      expect(await created(email, Buffer.from(leadBody(email, 'Zoë Müller'), 'latin1'), { 'content-type': ct }), ct).toBe('Zoë Müller');
    }
  });

  it('windows-1252 is read as windows-1252 (its € and curly quote are not latin-1)', async () => {
    const email = 'cp1252@example.com';
    const json = leadBody(email, 'X');
    // "José’s €5": é = 0xE9, ’ = 0x92, € = 0x80 in windows-1252.
    const name = Buffer.from([0x4a, 0x6f, 0x73, 0xe9, 0x92, 0x73, 0x20, 0x80, 0x35]);
    const [head, tail] = json.split('"X"');
    const bytes = Buffer.concat([Buffer.from(`${head}"`, 'latin1'), name, Buffer.from(`"${tail}`, 'latin1')]);
    expect(await created(email, bytes, { 'content-type': 'application/json; charset=windows-1252' })).toBe('José’s €5');
  });

  it('UTF-16LE with charset=utf-16le is read as UTF-16, with or without a byte-order mark', async () => {
    const email = 'utf16@example.com';
    expect(await created(email, Buffer.from(leadBody(email, 'José 日本'), 'utf16le'), { 'content-type': 'application/json; charset=utf-16le' })).toBe('José 日本');
    const bom = 'utf16-bom@example.com';
    const withBom = Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(leadBody(bom, 'José'), 'utf16le')]);
    expect(await created(bom, withBom, { 'content-type': 'application/json; charset=UTF-16LE' })).toBe('José');
  });

  it('UTF-32 and the other charsets iconv-lite knows are read too', async () => {
    const email = 'utf32@example.com';
    expect(await created(email, iconv.encode(leadBody(email, 'José'), 'utf-32le'), { 'content-type': 'application/json; charset="UTF-32LE"' })).toBe('José');
    const sjis = 'sjis@example.com';
    expect(await created(sjis, iconv.encode(leadBody(sjis, '山田'), 'shift_jis'), { 'content-type': 'application/json; charset=Shift_JIS' })).toBe('山田');
  });

  it('malformed JSON in a declared charset is still the 400 for invalid JSON', async () => {
    expectMx(await send(Buffer.from('{not json', 'latin1'), { 'content-type': 'application/json; charset=iso-8859-1' }), 400, 'MXInvalidJsonException', /Unexpected character/);
  });
});

describe('UTF-8 and no charset read as before', () => {
  it('charset=utf-8 (any case, quoted, "utf8") reads UTF-8', async () => {
    const variants = ['application/json; charset=utf-8', 'application/json; charset="UTF-8"', 'application/json; charset=utf8', 'text/plain;charset=UTF8'];
    for (const [i, ct] of variants.entries()) {
      const email = `utf8-${i}@example.com`;
      expect(await created(email, Buffer.from(leadBody(email, 'José 😀'), 'utf8'), { 'content-type': ct }), ct).toBe('José 😀');
    }
  });

  it('no Content-Type, or one without a charset, reads UTF-8, and a UTF-8 byte-order mark is skipped', async () => {
    expect(await created('none@example.com', Buffer.from(leadBody('none@example.com', 'José'), 'utf8'))).toBe('José');
    expect(await created('plain@example.com', Buffer.from(leadBody('plain@example.com', 'José'), 'utf8'), { 'content-type': 'application/json' })).toBe('José');
    const bom = Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(leadBody('bom@example.com', 'José'), 'utf8')]);
    expect(await created('bom@example.com', bom, { 'content-type': 'application/json; charset=utf-8' })).toBe('José');
  });

  it('without a charset, bytes that are not UTF-8 still become U+FFFD (the charset must be declared)', async () => {
    const email = 'undeclared@example.com';
    expect(await created(email, Buffer.from(leadBody(email, 'José'), 'latin1'), { 'content-type': 'application/json' })).toBe('Jos\uFFFD');
  });

  it('Content-Encoding: identity is a plain body', async () => {
    const email = 'identity@example.com';
    expect(await created(email, Buffer.from(leadBody(email, 'José'), 'utf8'), { 'content-type': 'application/json', 'content-encoding': 'identity' })).toBe('José');
  });
});

describe('refused before the body is parsed: 415, nothing stored', () => {
  it('an unknown charset (charset=klingon) is 415 naming the charset', async () => {
    const email = 'klingon@example.com';
    await expectNothingStored(email, async () => {
      const r = await send(Buffer.from(leadBody(email, 'José'), 'utf8'), { 'content-type': 'application/json; charset=klingon' });
      expectMx(r, 415, 'MXUnsupportedMediaTypeException', /charset 'klingon'/);
    });
  });

  it('a gzip body with Content-Encoding: gzip is 415 (bodies must be sent uncompressed), not a 400 quoting binary', async () => {
    const email = 'gzip@example.com';
    await expectNothingStored(email, async () => {
      const r = await send(gzipSync(Buffer.from(leadBody(email, 'José'), 'utf8')), { 'content-type': 'application/json', 'content-encoding': 'gzip' });
      expectMx(r, 415, 'MXUnsupportedMediaTypeException', /uncompressed/);
      expect(r.body.ExceptionMessage).toContain("'gzip'");
    });
  });

  it('any other coding is 415 too, even over a body that happens to be plain JSON', async () => {
    const email = 'deflate@example.com';
    await expectNothingStored(email, async () => {
      for (const coding of ['deflate', 'br', 'GZIP', 'identity, gzip']) {
        const r = await send(Buffer.from(leadBody(email, 'José'), 'utf8'), { 'content-encoding': coding });
        expectMx(r, 415, 'MXUnsupportedMediaTypeException', /uncompressed/);
      }
    });
  });

  it('keys are still checked first: wrong keys get 401 whatever the charset or coding', async () => {
    const wrong = { accessKey: KEYS.accessKey, secretKey: 'wrong' };
    const body = Buffer.from('[]', 'utf8');
    expectMx(await send(body, { 'content-type': 'application/json; charset=klingon' }, wrong), 401, 'MXUnAuthorizedAccessException');
    expectMx(await send(body, { 'content-encoding': 'gzip' }, wrong), 401, 'MXUnAuthorizedAccessException');
  });
});
