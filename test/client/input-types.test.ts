/**
 * The client's input types (src/client/openapi.ts, generated from openapi/leadtrail.json) take what
 * the document says each input takes: compiled with tsc, as a user's code using the client is.
 * flag-spellings.ts holds every spelling of a flag the server reads against each flag input; the
 * second check writes, from the document, a value of every input for each enum and const member and
 * each type its schema names, and compiles those.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT } from '../../openapi/generate.js';

type Schema = { [k: string]: any };
const doc = JSON.parse(fs.readFileSync(path.join(ROOT, 'openapi/leadtrail.json'), 'utf8'));

function resolve(s: Schema): Schema {
  while (s && typeof s === 'object' && typeof s.$ref === 'string') {
    s = s.$ref.split('/').slice(1).reduce((o: Schema, k: string) => o[k], doc);
  }
  return s;
}

/** The most values taken from one property's schema (the bodies stay a few thousand). */
const PER_PROPERTY = 400;

/**
 * Values `schema` allows: its enum or const members, one of each type it names (true and false for
 * a boolean), an object for each value of each property (the required ones filled in), a list of
 * each item value, and a property of any name where an object names none.
 */
function values(schema: Schema): unknown[] {
  const s = resolve(schema);
  if (!s || typeof s !== 'object' || Object.keys(s).length === 0) return ['x'];
  if ('const' in s) return [s.const];
  if (Array.isArray(s.enum)) return s.enum;
  if (Array.isArray(s.anyOf)) return s.anyOf.flatMap(values);
  const types: string[] = Array.isArray(s.type) ? s.type : s.type ? [s.type] : [];
  if (types.length === 0) return ['x'];
  return types.flatMap((t): unknown[] => {
    if (t === 'string') return ['x'];
    if (t === 'integer' || t === 'number') return [s.minimum ?? 1];
    if (t === 'boolean') return [true, false];
    if (t === 'null') return [null];
    if (t === 'array') return [[], ...values(s.items ?? {}).slice(0, PER_PROPERTY).map((v) => [v])];
    if (t === 'object') {
      const props: Record<string, Schema> = s.properties ?? {};
      const base = Object.fromEntries((s.required ?? []).map((k: string) => [k, values(props[k] ?? {})[0]]));
      const out: unknown[] = [base];
      for (const [k, p] of Object.entries(props)) for (const v of values(p).slice(0, PER_PROPERTY)) out.push({ ...base, [k]: v });
      const extra = s.additionalProperties;
      if (extra && typeof extra === 'object') for (const v of values(extra).slice(0, PER_PROPERTY)) out.push({ ...base, AnyName: v });
      else if (extra === undefined && Object.keys(props).length === 0) out.push({ ...base, AnyName: 'x' });
      return out;
    }
    throw new Error(`no value written for type ${t}`);
  });
}

/** One statement per input value of every operation, each assigning it to the client's `Args`. */
function inputStatements(): string[] {
  const out: string[] = [];
  const assign = (op: string, part: string, v: unknown) => out.push(`{ const v: NonNullable<Args<'${op}'>['${part}']> = ${JSON.stringify(v)}; void v; }`);
  for (const item of Object.values(doc.paths) as Schema[]) {
    for (const op of Object.values(item) as Schema[]) {
      const body = op.requestBody?.content?.['application/json']?.schema;
      if (body) for (const v of values(body)) assign(op.operationId, 'body', v);
      const params: Schema[] = (op.parameters ?? []).map(resolve);
      for (const where of ['query', 'path']) {
        const mine = params.filter((p) => p.in === where);
        const base = Object.fromEntries(mine.filter((p) => p.required).map((p) => [p.name, values(p.schema)[0]]));
        for (const p of mine) for (const v of values(p.schema)) assign(op.operationId, where, { ...base, [p.name]: v });
      }
    }
  }
  return out;
}

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'leadtrail-input-types-'));
const FLAGS = path.join(ROOT, 'test/client/flag-spellings.ts');
const INPUTS = path.join(dir, 'inputs.ts');
/** tsc's errors, by file, each with the line it names. */
const errors = new Map<string, string[]>([[FLAGS, []], [INPUTS, []]]);

beforeAll(() => {
  const statements = inputStatements();
  fs.writeFileSync(INPUTS, [`import type { Args } from ${JSON.stringify(path.join(ROOT, 'src/client/index.js'))};`, 'export {};', ...statements, ''].join('\n'));
  // The repository's compiler options (`npm run typecheck`), over these two files alone.
  fs.writeFileSync(
    path.join(dir, 'tsconfig.json'),
    JSON.stringify({
      extends: path.join(ROOT, 'tsconfig.json'),
      compilerOptions: { noEmit: true, rootDir: '/', typeRoots: [path.join(ROOT, 'node_modules/@types')] },
      files: [FLAGS, INPUTS],
      include: [],
    }),
  );
  const tsc = spawnSync(process.execPath, [path.join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', path.join(dir, 'tsconfig.json'), '--pretty', 'false'], { encoding: 'utf8' });
  const sources = new Map([[FLAGS, fs.readFileSync(FLAGS, 'utf8').split('\n')], [INPUTS, fs.readFileSync(INPUTS, 'utf8').split('\n')]]);
  for (const line of `${tsc.stdout}${tsc.stderr}`.split('\n').filter(Boolean)) {
    const m = /^(.+?)\((\d+),\d+\): (.*)$/.exec(line);
    const file = m ? [...errors.keys()].find((f) => path.resolve(dir, m[1]) === f || path.resolve(ROOT, m[1]) === f) : undefined;
    if (!m || !file) throw new Error(`tsc: ${line}`);
    errors.get(file)!.push(`${m[3]}\n    at: ${sources.get(file)![Number(m[2]) - 1].trim()}`);
  }
  expect(statements.length, 'input values written from the document').toBeGreaterThan(1000);
}, 120_000);

afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

describe("the client's input types", () => {
  it('take every spelling of a flag the server reads (0 and null too) in each flag input', () => {
    expect(errors.get(FLAGS)).toEqual([]);
  });

  it('take every value the document allows each input: each enum and const member, each type its schema names', () => {
    expect(errors.get(INPUTS)).toEqual([]);
  });
});
