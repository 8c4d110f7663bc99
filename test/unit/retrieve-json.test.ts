/**
 * `retrieveAnswerJson` (wire/shapes.ts): a `Retrieve` answer's JSON text from a compiled serializer
 * must be exactly `JSON.stringify`'s, for every activity activityToWire can make: a property its
 * schema did not name would be left out of the answer without a word.
 */
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import type { ActivityType, FieldValue, ListedActivity } from '../../src/domain/types.js';
import { ACTIVITY_WIRE_PROPERTIES, activityToWire, retrieveAnswerJson, type RetrieveAnswer } from '../../src/wire/shapes.js';

const TEXTS = ['', 'plain', 'quote " and \\ backslash', 'controls \u0000\u0001\u001f\t\n\r', 'line \u2028 separators \u2029', 'lone \ud800 surrogate \udfff', 'pair 😀', 'é 漢字 ß', '</script>', '\u007f', 'x'.repeat(300)];
const VALUES: FieldValue[] = [...TEXTS, null, 0, -1.5, 2 ** 53 + 2, true, false, { Nested: 'v', N: null }, ['a', 1]] as FieldValue[];

function listed(i: number): ListedActivity {
  const fields: Record<string, FieldValue> = {};
  for (let k = 0; k < i % 5; k++) fields[k % 2 ? `mx_Custom_${k}` : TEXTS[(i + k) % TEXTS.length] || `f${k}`] = VALUES[(i * 3 + k) % VALUES.length];
  return {
    id: `0190f1c2-0000-7000-8000-${String(i).padStart(12, '0')}`,
    seq: i,
    eventCode: [201, 12000, 0, 211][i % 4],
    note: TEXTS[i % TEXTS.length],
    occurredAt: [0, 1_733_300_000_123, -62_135_596_800_001, 253_402_300_800_000][i % 4],
    ownerEmail: i % 3 ? null : 'owner@x.io',
    fields,
    score: [0, -3, 7, 1.5][i % 4],
    requestId: null,
  };
}

const types: (ActivityType | null)[] = [
  null,
  { accountId: 'a', code: 201, name: 'Name "quoted" \ud800', displayName: 'd', description: '', score: 0, direction: 1, isSystem: true, fields: [], settings: {}, createdOn: 0 },
  { accountId: 'a', code: 201, name: 'Plain', displayName: 'd', description: '', score: 0, direction: 0, isSystem: false, fields: [], settings: {}, createdOn: 0 },
];

describe('retrieveAnswerJson', () => {
  it("writes exactly JSON.stringify's text for pages of every kind of activity", () => {
    for (let n = 0; n < 60; n++) {
      const answer: RetrieveAnswer = { RecordCount: [0, 25, 1_000_000, 2 ** 40][n % 4], ProspectActivities: Array.from({ length: n % 26 }, (_, i) => activityToWire(listed(n * 7 + i), types[(n + i) % types.length])) };
      expect(retrieveAnswerJson(answer)).toBe(JSON.stringify(answer));
    }
  });

  it("names every property activityToWire gives, in its order (one added there and not to the schema would be dropped)", () => {
    for (let i = 0; i < 8; i++) expect(Object.keys(activityToWire(listed(i), types[i % types.length]))).toEqual(ACTIVITY_WIRE_PROPERTIES);
  });
});

describe('the serializer library', () => {
  it('is loaded at the first Retrieve answer, not by every process that imports the wire shapes (the CLI, the writer thread)', () => {
    // The build, as `npm start` and the CLI load it (npm test builds first).
    const shapes = fileURLToPath(new URL('../../dist/wire/shapes.js', import.meta.url));
    const loaded = (call: boolean) =>
      execFileSync(process.execPath, ['--input-type=module', '-e', `
        import { createRequire } from 'node:module';
        const shapes = await import(${JSON.stringify(shapes)});
        ${call ? 'shapes.retrieveAnswerJson({ RecordCount: 0, ProspectActivities: [] });' : ''}
        const cache = createRequire(import.meta.url).cache;
        process.stdout.write(String(Object.keys(cache).some((k) => k.includes('fast-json-stringify'))));
      `], { encoding: 'utf8' });
    expect(loaded(false)).toBe('false');
    expect(loaded(true)).toBe('true');
  });
});
