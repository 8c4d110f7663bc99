/**
 * `rowsParameters` (storage/sql/compiled.ts): the parameters of a multi-row INSERT, row after row.
 * The rows' values reach the database through it (journal entries, lead keys and values, async
 * requests); the contract suites store and read them back on both engines.
 */
import { describe, expect, it } from 'vitest';
import { rowsParameters } from '../../src/storage/sql/compiled.js';

describe('rowsParameters', () => {
  const rows = [
    ['a', 1, null],
    ['b', 2, Buffer.from('x')],
    ['c', 3, undefined],
    ['d', 4, 'z'],
  ];

  it('lays the chosen rows out in order, values kept as they are', () => {
    expect(rowsParameters(rows, 0, 4, 3)).toEqual(['a', 1, null, 'b', 2, Buffer.from('x'), 'c', 3, undefined, 'd', 4, 'z']);
    expect(rowsParameters(rows, 1, 3, 3)).toEqual(['b', 2, Buffer.from('x'), 'c', 3, undefined]);
    expect(rowsParameters(rows, 2, 2, 3)).toEqual([]);
  });

  it('refuses a short row and a long row that together have the right number of values', () => {
    // With the rows flattened into one list, the statement got as many parameters as it expects
    // and every value after the short row landed one column early.
    expect(() => rowsParameters([['a', 1], ['b'], ['c', 3, 'x']], 0, 3, 2)).toThrow(RangeError);
    expect(rowsParameters([['a', [1, 2]], ['b', 'c']], 0, 2, 2)).toEqual(['a', [1, 2], 'b', 'c']);
  });

  it('refuses a row of another length than the columns', () => {
    expect(() => rowsParameters([['a', 1], ['b']], 0, 2, 2)).toThrow(/a row of 1 values for 2 columns/);
    expect(() => rowsParameters([['a', 1, 2]], 0, 1, 2)).toThrow(RangeError);
  });
});
