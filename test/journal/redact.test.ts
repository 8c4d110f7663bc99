/** What the journal stores of a call's text: keys masked wherever they are, bodies cut between characters. */
import { describe, expect, it } from 'vitest';
import { linksOf } from '../../src/journal/links.js';
import { keptBody } from '../../src/journal/entry.js';
import { cap, isCredentialName, redactBody, redactQuery, secretValues, storable } from '../../src/journal/redact.js';

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
    // `;` does not split a query: a `;name=value` named like a credential is masked inside the value it stands in.
    expect(redactQuery('q=a;secretKey=s1;n=2;%74oken=t2&pin;x=1', secrets)).toBe('q=a;secretKey=***;n=2;%74oken=***&pin;x=1');
    // A value there runs to the next `;`, `&` or `#`: `/` and `?` are a query value's own (a base64 token).
    expect(redactQuery('key=a;token=abc/def+ghi==;n=1&x=1;api_key=k?k', secrets)).toBe('key=a;token=***;n=1&x=1;api_key=***');
    // In free text only names that unmistakably name a credential: `;pin=` is a postal code there.
    expect(redactQuery('addr=MG+Road;pin=560001;otp=1;auth=x;BasicAuth=y', secrets)).toBe('addr=MG+Road;pin=560001;otp=1;auth=x;BasicAuth=***');
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

  // Each of these was stored in clear: the cheap test before the search asked for the words unbroken,
  // while the names are judged with `-`, `_`, `.` and spaces removed (as docs/journal.md says).
  it('masks names with `-`, `_`, `.` or spaces inside the words, and names isCredentialName reads through a look-alike', () => {
    const names = ['Access Key', 'Pass_Word', 'pass word', 'private key', 'x-api key', 'pass phrase', 'to_ken', 'Sec.Ret', 'Pass\u00a0Word', 'to\u212Aen', 'AUTH_ORIZATION'];
    for (const name of names) {
      expect(isCredentialName(name), name).toBe(true);
      expect(JSON.parse(redactBody(JSON.stringify({ Note: 'n', [name]: 'LEAK' }), [])), name).toEqual({ Note: 'n', [name]: '***' });
    }
    // A lead field so named, as a name/value pair, and a name written with a JSON escape of a look-alike.
    expect(JSON.parse(redactBody('[{"Attribute":"mx_Pass_Word","Value":"LEAK"},{"Attribute":"EmailAddress","Value":"a@b.c"}]', []))).toEqual([
      { Attribute: 'mx_Pass_Word', Value: '***' },
      { Attribute: 'EmailAddress', Value: 'a@b.c' },
    ]);
    expect(redactBody('{"to\\u212Aen":"LEAK"}', [])).toBe('{"to\\u212Aen":"***"}');
  });

  it('masks a property exactly when isCredentialName judges its name one, for names built from its words broken anywhere', () => {
    // A seeded generator: the same names on every run.
    let seed = 20261207;
    const rand = (n: number) => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed % n;
    };
    const words = ['password', 'passwd', 'passphrase', 'secret', 'token', 'accesskey', 'apikey', 'privatekey', 'pwd', 'auth', 'author', 'authoriz', 'signature', 'credential', 'key', 'pass', 'word', 'sign', 'pin', 'otp', 'cookie', 'subscriptionkey', 'authentication', 'authentic', 'setcookie', 'secretary', 'oauth'];
    const breaks = ['-', '_', '.', ' ', '\t', '\u00a0', '', '', '', '', 'x', '1'];
    for (let i = 0; i < 3000; i++) {
      let name = ['', 'mx_', 'x-', 'client ', '_', '-', 'a'][rand(7)];
      for (const c of words[rand(words.length)]) name += (rand(2) ? c.toUpperCase() : c) + (rand(4) === 0 ? breaks[rand(breaks.length)] : '');
      name += ['', 'Hash', '_id', 's', '_', '-', '2'][rand(7)];
      const masked = JSON.parse(redactBody(JSON.stringify({ Note: 'n', [name]: 'v' }), []));
      expect(masked[name], JSON.stringify(name)).toBe(isCredentialName(name) ? '***' : 'v');
    }
  });

  // Found by a fresh-eyes run (the forty-eighth session's): each of these was stored in clear.
  it('masks names real clients give credentials: authorization and auth keys, cookies, api keys in the plural, pass, pin, otp', () => {
    const credentials = ['pass', 'api_keys', 'apiKeys', 'authKey', 'basicAuth', 'authorizationHeader', 'privateKeyPem', 'pin', 'otp', 'cookie', 'Set-Cookie', 'Proxy-Authorization', 'X-Authorization', 'X-Auth-Key', 'Ocp-Apim-Subscription-Key', 'X-Hub-Signature-256', 'Authentication', 'oauth_client_secret'];
    for (const name of credentials) {
      expect(isCredentialName(name), name).toBe(true);
      expect(JSON.parse(redactBody(JSON.stringify({ Note: 'n', [name]: 'LEAK' }), [])), name).toEqual({ Note: 'n', [name]: '***' });
    }
    // Not credentials: an author, an authority, an Indian postal code, LeadSquared's web session and quick-search key.
    // Nor lead fields a second fresh-eyes run found masked: a consent, a state, a secretary.
    for (const name of ['AuthorName', 'Authority', 'mx_PinCode', 'SessionId', 'key', 'mx_Keyword', 'Compass', 'Spinner', 'mx_Otp_Sent_On', 'mx_Cookie_Consent', 'mx_Is_Authenticated', 'mx_Unauthorized_Attempts', 'mx_Authenticity', 'mx_Secretary_Name', 'mx_OAuth_Provider', 'mx_Auth_Method']) {
      expect(isCredentialName(name), name).toBe(false);
    }
  });

  it("masks a masked value wherever else the text repeats it: an error that quotes it, an async status answer's reason", () => {
    const masked: string[] = [];
    const status = JSON.stringify({ TaskStatus: { RequestBody: JSON.stringify([{ Attribute: 'mx_Secret_Pin', Value: 'PIN-LEAK-1' }]), StatusReason: "Value 'PIN-LEAK-1' is not a whole number" } });
    const out = redactBody(status, [], masked);
    expect(out).not.toContain('PIN-LEAK-1');
    expect(JSON.parse(JSON.parse(out).TaskStatus.RequestBody)).toEqual([{ Attribute: 'mx_Secret_Pin', Value: '***' }]);
    expect(masked).toContain('PIN-LEAK-1');
    // A form body's masked values too.
    expect(redactBody('password=abcd1234&note=abcd1234&pin=12&x=12', [])).toBe('password=***&note=***&pin=***&x=12');
    // Only where it stands whole, and only 8 characters or more: a value that is also part of an
    // id, a date, a word or a property name leaves them alone (a fresh-eyes run found "***Address"
    // and "***-12-07" journaled).
    expect(redactBody('{"token":"2026","CreatedOn":"2026-12-07","n":"1234x","pwd":"1234x"}', [])).toBe('{"token":"***","CreatedOn":"2026-12-07","n":"1234x","pwd":"***"}');
    expect(redactBody('{"Attribute":"mx_Api_Token","Value":"EmailAddress"},{"EmailAddress":"x@y.z","Note":"EmailAddressBook, EmailAddress."}', [])).toBe(
      '{"Attribute":"mx_Api_Token","Value":"***"},{"EmailAddress":"x@y.z","Note":"EmailAddressBook, ***."}',
    );
  });

  it("masks a lead search's LookupValue when its LookupName names a credential, in either order", () => {
    expect(JSON.parse(redactBody(JSON.stringify({ Parameter: { LookupName: 'mx_Portal_Password', LookupValue: 'HUNTER2', SqlOperator: '=' } }), []))).toEqual({
      Parameter: { LookupName: 'mx_Portal_Password', LookupValue: '***', SqlOperator: '=' },
    });
    expect(JSON.parse(redactBody(JSON.stringify({ Parameter: { LookupValue: ['a', 'b'], LookupName: 'mx_Api_Token' } }), []))).toEqual({ Parameter: { LookupValue: '***', LookupName: 'mx_Api_Token' } });
    // The pair's own value property only: a lead field's Value beside it is another pair's.
    expect(JSON.parse(redactBody(JSON.stringify({ LookupName: 'mx_City', LookupValue: 'Pune' }), []))).toEqual({ LookupName: 'mx_City', LookupValue: 'Pune' });
    expect(JSON.parse(redactBody(JSON.stringify([{ Attribute: 'mx_Portal_Password', LookupValue: 'kept', Value: 'LEAK' }]), []))).toEqual([{ Attribute: 'mx_Portal_Password', LookupValue: 'kept', Value: '***' }]);
  });

  it('masks a name written with a JSON escape also in JSON held in a JSON string (an async status answer repeats the accepted body)', () => {
    const accepted = '{"EmailAddress":"ada@example.com","pass\\u0077ord":"ESC-LEAK"}';
    const status = JSON.stringify({ TaskStatus: { RequestBody: accepted } });
    const out = redactBody(status, []);
    expect(out).not.toContain('ESC-LEAK');
    expect(JSON.parse(JSON.parse(out).TaskStatus.RequestBody)).toEqual({ EmailAddress: 'ada@example.com', password: '***' });
  });

  // Found by a fresh-eyes run: each of these was stored in clear.
  it('masks credential-named properties whatever their value: numbers, objects, arrays, and names written with escapes', () => {
    const body =
      '{"password":123456789,"token":{"value":"T","n":[1,{"a":"}"}]},"apiKey":["K",2],"api_token":"X","sessionToken":"S","privateKey":"P",' +
      '"pwd":"W","passphrase":"Q","credentials":{"u":"x"},"signature":"sig","pass\\u0077ord":"esc","passwordHash":"h","ok":true,' +
      '"mx_Keyword":"kept","Key":"ActivityEvent_Note","monkey":"kept"}';
    const masked = JSON.parse(redactBody(body, []));
    for (const name of ['password', 'token', 'apiKey', 'api_token', 'sessionToken', 'privateKey', 'pwd', 'passphrase', 'credentials', 'signature', 'passwordHash']) {
      expect(masked[name], name).toBe('***');
    }
    expect(masked['pass\u0077ord']).toBe('***');
    expect([masked.ok, masked.mx_Keyword, masked.Key, masked.monkey]).toEqual([true, 'kept', 'ActivityEvent_Note', 'kept']);
  });

  it('leaves null as null: a credential-named field that holds nothing does not read as one that holds something (found by a fresh-eyes run)', () => {
    const body = '{"password": null,"mx_Portal_Password":null,"token":"T","Leads":[{"Attribute":"mx_Portal_Password","Value":null},{"Attribute":"mx_Portal_Password","Value":"S"}]}';
    const masked = JSON.parse(redactBody(body, []));
    expect([masked.password, masked.mx_Portal_Password, masked.token]).toEqual([null, null, '***']);
    expect(masked.Leads.map((p: { Value: string | null }) => p.Value)).toEqual([null, '***']);
  });

  it('masks bodies that are not valid JSON: cut off, single-quoted, and form-encoded', () => {
    expect(redactBody('{"EmailAddress":"f2@example.com","password":"FLEAK-4', [])).toBe('{"EmailAddress":"f2@example.com","password":"***"');
    expect(redactBody('{"a":1,"token":{"x":[1,2', [])).toBe('{"a":1,"token":"***"');
    expect(redactBody("{'password':'x y','a':'b'}", [])).toBe("{'password':'***','a':'b'}");
    expect(redactBody('EmailAddress=f1%40example.com&password=FLEAK-1&token=FLEAK-2&apiKey=FLEAK-3&note=ak-1234', secrets)).toBe(
      'EmailAddress=f1%40example.com&password=***&token=***&apiKey=***&note=***',
    );
    // Forms written by hand (a fresh-eyes run): a leading line break, fields on lines of their own or
    // between `;`, a space in a name.
    expect(redactBody('\nEmailAddress=a%40b.c&mx_Portal_Password=LEAK-1', [])).toBe('\nEmailAddress=a%40b.c&mx_Portal_Password=***');
    expect(redactBody('EmailAddress=a\r\nmx_Portal_Password=LEAK-2\ntoken=LEAK-3', [])).toBe('EmailAddress=a\r\nmx_Portal_Password=***\ntoken=***');
    expect(redactBody('EmailAddress=a;pwd=LEAK-4', [])).toBe('EmailAddress=a;pwd=***');
    expect(redactBody('First Name=Ada&Portal Password=LEAK-5&note=ak-1234', secrets)).toBe('First Name=Ada&Portal Password=***&note=***');
    // JSON after white space is still JSON.
    expect(redactBody('  {"password":"x","a":"b=c"}', [])).toBe('  {"password":"***","a":"b=c"}');
    // Inside a string value, a masked name in single quotes keeps the JSON readable.
    expect(JSON.parse(redactBody(`{"note":"it's 'pwd': hunter2, ok"}`, [])).note).toBe("it's 'pwd': '***', ok");
  });

  it("masks the Value of a name/value pair whose name is a credential's: lead fields, activity fields, webhook headers (found by a fresh-eyes run)", () => {
    const lead = JSON.stringify([
      { Attribute: 'EmailAddress', Value: 's@ex.com' },
      { Attribute: 'mx_Portal_Password', Value: 'LEADPW-s3cr3t-111' },
      { Value: 'before-its-name', Attribute: 'mx_Api_Key' },
      { Attribute: 'mx_Keyword', Value: 'kept' },
    ]);
    expect(JSON.parse(redactBody(lead, []))).toEqual([
      { Attribute: 'EmailAddress', Value: 's@ex.com' },
      { Attribute: 'mx_Portal_Password', Value: '***' },
      { Value: '***', Attribute: 'mx_Api_Key' },
      { Attribute: 'mx_Keyword', Value: 'kept' },
    ]);
    const hook = '{"URL":"http://h/x","CustomHeaders":[{"Key":"Authorization","Value":"Bearer HDR-222"},{ "Key" : "x-api-key" , "Value" : {"nested":"RECV-444"} },{"Key":"X-Trace","Value":"t-1"}],"SigningSecret":"x"}';
    expect(JSON.parse(redactBody(hook, []))).toEqual({
      URL: 'http://h/x',
      CustomHeaders: [
        { Key: 'Authorization', Value: '***' },
        { Key: 'x-api-key', Value: '***' },
        { Key: 'X-Trace', Value: 't-1' },
      ],
      SigningSecret: '***',
    });
    const activity = JSON.stringify({ ActivityEvent: 201, Fields: [{ SchemaName: 'mx_Custom_Token', Value: 'TOK-9' }, { SchemaName: 'mx_Custom_1', Value: 'kept' }] });
    expect(JSON.parse(redactBody(activity, [])).Fields).toEqual([
      { SchemaName: 'mx_Custom_Token', Value: '***' },
      { SchemaName: 'mx_Custom_1', Value: 'kept' },
    ]);
    // Held in a JSON string (an async status answer), and in a body that is not valid JSON.
    const held = JSON.parse(redactBody(JSON.stringify({ Request: lead }), []));
    expect(JSON.parse(held.Request)[1]).toEqual({ Attribute: 'mx_Portal_Password', Value: '***' });
    expect(JSON.parse(held.Request)[2]).toEqual({ Value: '***', Attribute: 'mx_Api_Key' });
    expect(redactBody("[{'Attribute':'mx_Password','Value':'pw-1'},{'Attribute':'x'", [])).toBe("[{'Attribute':'mx_Password','Value':'***'},{'Attribute':'x'");
  });

  it('masks JSON held in a JSON string, as an async status answer holds the body it accepted', () => {
    const accepted = JSON.stringify({ EmailAddress: 'a@x.com', apiKey: 'PW', nested: { token: 'T2', list: ['a', { password: 'q"uo\\te' }] }, Note: 'kept "quoted"' });
    const answer = JSON.stringify({ Status: 'Success', Request: accepted, Other: 'x' });
    const out = JSON.parse(redactBody(answer, []));
    expect(out.Other).toBe('x');
    const inner = JSON.parse(out.Request);
    expect(inner).toEqual({ EmailAddress: 'a@x.com', apiKey: '***', nested: { token: '***', list: ['a', { password: '***' }] }, Note: 'kept "quoted"' });
    // Cut off inside the held string: masked up to where that string ends.
    const cut = '{"Request":"{\\"password\\":\\"abc","Other":"x"}';
    expect(JSON.parse(redactBody(cut, []))).toEqual({ Request: '{"password":"***"', Other: 'x' });
  });

  it("keeps query parameters that are not credentials, LeadSquared's quick-search `key` among them, and masks a key sent as a name", () => {
    expect(redactQuery('key=Ada&mx_Keyword=spring&monkey=1&accessKey=x&api_token=t&pwd=p&passphrase=q', [])).toBe(
      'key=Ada&mx_Keyword=spring&monkey=1&accessKey=***&api_token=***&pwd=***&passphrase=***',
    );
    const keys = secretValues(['sk-secret-123']);
    expect(redactQuery('a=1&sk%2Dsecret%2D123&%73k-secret-123=2&b=2', keys)).toBe('a=1&***&***&b=2');
    expect(['accessKey', 'x-lsq-secretkey', 'API_KEY', 'client.secret', 'Authorization', 'refreshToken'].every(isCredentialName)).toBe(true);
    expect(['key', 'Key', 'mx_Keyword', 'monkey', 'keys', 'author', 'EmailAddress'].some(isCredentialName)).toBe(false);
  });

  it('judges names the same when asked again, after hundreds of other names, and for names past 64 characters', () => {
    // isCredentialName keeps its answers for names it has seen (at most 512, emptied when full).
    const names = Array.from({ length: 1_200 }, (_, i) => (i % 3 === 0 ? `field${i}_token` : i % 3 === 1 ? `mx_Field${i}` : `x${i}-api.key`));
    const first = names.map(isCredentialName);
    expect(first.filter(Boolean)).toHaveLength(800);
    expect(names.map(isCredentialName)).toEqual(first);
    expect([...names].reverse().map(isCredentialName)).toEqual([...first].reverse());
    const long = `${'a'.repeat(70)}secret`;
    expect([isCredentialName(long), isCredentialName(long), isCredentialName('a'.repeat(70))]).toEqual([true, true, false]);
    // Decoding is skipped only where there is nothing to decode: `+` and `%` still count.
    expect(redactQuery('api+key=1&api%5Fkey=2&apikey=3&id=4', [])).toBe('api+key=***&api%5Fkey=***&apikey=***&id=4');
  });

  it('keeps a body within its cap after NUL becomes U+FFFD (three bytes): made storable before the cut', () => {
    const text = 'x'.repeat(150) + '\u0000' + 'y'.repeat(48) + '\u0000\u0000zz';
    const kept = keptBody(text, [], 200);
    expect(Buffer.byteLength(kept)).toBeLessThanOrEqual(200);
    expect(kept.startsWith('x'.repeat(150) + '\uFFFD')).toBe(true);
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
