/**
 * Request bodies (src/wire/json-body.ts). The message for a body that is not JSON: the first offending character,
 * its JSON path in Newtonsoft's notation, its line and column (from 1), and never more of the body.
 */
import { describe, expect, it } from 'vitest';
import { jsonSyntaxMessage, parseJsonBody } from '../../src/wire/json-body.js';

const at = (ch: string, path: string, line: number, col: number) => `Unexpected character encountered while parsing value: ${ch}. Path '${path}', line ${line}, position ${col}.`;
const end = (path: string, line: number, col: number) => `Unexpected end when parsing JSON. Path '${path}', line ${line}, position ${col}.`;

describe('jsonSyntaxMessage', () => {
  it.each([
    ['{"a":', end('a', 1, 6)],
    ['"abc', end('', 1, 5)],
    ['{"LeadDetails": [', end('LeadDetails[0]', 1, 18)],
    ['{not json', at('n', '', 1, 2)],
    ["{'a':1}", at("'", '', 1, 2)],
    ['[1,2,]', at(']', '[2]', 1, 6)],
    ['{"a":tru}', at('t', 'a', 1, 6)],
    ['01', at('1', '', 1, 2)],
    ['NaN', at('N', '', 1, 1)],
    ['{"x y":[1, {"z": @}]}', at('@', "['x y'][1].z", 1, 18)],
    ['{"a":"x\\qy"}', at('q', 'a', 1, 9)],
    ['{"a":"x\\u12g4"}', at('u', 'a', 1, 9)],
    ['["ok", "a\u0002b"]', at('\\u0002', '[1]', 1, 10)],
    ['{"a":"b\n"}', at('\\u000a', 'a', 1, 8)],
    ['  \n  [1 2]', at('2', '[0]', 2, 6)],
    // Columns count characters, not UTF-16 units: the emoji is one.
    ['{"a":"😀"x}', at('x', 'a', 1, 9)],
  ])('%j', (text, message) => {
    expect(() => JSON.parse(text)).toThrow();
    expect(jsonSyntaxMessage(text)).toBe(message);
  });

  it('quotes one character of a value at most (property names only in the path), and a long path cut', () => {
    const secret = 'sk-live-0123456789abcdef';
    expect(jsonSyntaxMessage(secret)).not.toContain('sk-');
    expect(jsonSyntaxMessage(`{"secretKey": ${secret}}`)).toBe(at('s', 'secretKey', 1, 15));
    const long = `{"${'n'.repeat(5000)}": ?}`;
    expect(jsonSyntaxMessage(long).length).toBeLessThan(400);
  });

  it('answers a body nested too deep to scan with the message that gives no place', () => {
    expect(jsonSyntaxMessage('['.repeat(200_000))).toBe('Unexpected character encountered while parsing value. The request body is not valid JSON.');
    expect(jsonSyntaxMessage(`${'['.repeat(50)}x`)).toBe(at('x', `${'[0]'.repeat(50)}`, 1, 51));
  });
});

describe('parseJsonBody', () => {
  it('keeps numbers a double cannot hold as their text, and gives every other number as JSON.parse does', () => {
    const body = '{"Value":12345678901234567890,"Id":9007199254740993,"Pi":3.14159265358979323846,"Small":42,"Half":0.5,"Big":1e21,"Neg":-1234567890123456789,"Exp":1.2345678901234567e5,"Text":"12345678901234567890"}';
    expect(parseJsonBody(body)).toEqual({
      Value: '12345678901234567890',
      Id: '9007199254740993',
      Pi: '3.14159265358979323846',
      Small: 42,
      Half: 0.5,
      Big: 1e21,
      Neg: '-1234567890123456789',
      Exp: '1.2345678901234567e5',
      Text: '12345678901234567890',
    });
    // 15 significant digits always survive a double.
    expect(parseJsonBody('[123456789012345, 0.000123456789012345, 100000000000000000000]')).toEqual([123456789012345, 0.000123456789012345, 1e20]);
  });

  it('is JSON.parse otherwise: the last of a key given twice, __proto__ an own key, errors thrown', () => {
    expect(parseJsonBody('{"a":12345678901234567890,"a":2}')).toEqual({ a: 2 });
    const o = parseJsonBody('{"__proto__":{"x":12345678901234567890}}') as Record<string, unknown>;
    expect(Object.getPrototypeOf(o)).toBe(Object.prototype);
    expect(Object.keys(o)).toEqual(['__proto__']);
    expect(() => parseJsonBody('{"a":12345678901234567890')).toThrow(SyntaxError);
  });
});
