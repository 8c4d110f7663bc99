/**
 * The README's configuration table is the user's view of src/config.ts OPTIONS: same options, same
 * order, same variable names, flags and defaults. Adding an option without documenting it fails here.
 */
import fs from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { OPTIONS } from '../../src/config.js';

const README = fs.readFileSync(fileURLToPath(new URL('../../README.md', import.meta.url)), 'utf8');

interface Row {
  env: string;
  flags: string[];
  default: string;
  meaning: string;
}

/** Splits a Markdown table row on `|`, leaving escaped `\|` inside cells. */
function cells(line: string): string[] {
  return line
    .trim()
    .replace(/^\||\|$/g, '')
    .split(/(?<!\\)\|/)
    .map((c) => c.trim());
}

const codeSpans = (cell: string) => [...cell.matchAll(/`([^`]+)`/g)].map((m) => m[1]);

function configTable(markdown: string): Row[] {
  const lines = markdown.split('\n');
  const start = lines.findIndex((l) => /^\|\s*Environment variable\s*\|\s*Flag\s*\|\s*Default\s*\|\s*Meaning\s*\|$/.test(l.trim()));
  if (start < 0) throw new Error('README has no "| Environment variable | Flag | Default | Meaning |" table');
  const rows: Row[] = [];
  for (const line of lines.slice(start + 2)) {
    if (!line.trim().startsWith('|')) break;
    const [env, flag, def, meaning] = cells(line);
    rows.push({
      env: codeSpans(env)[0] ?? env,
      flags: codeSpans(flag),
      default: def === '—' ? '' : (codeSpans(def)[0] ?? def),
      meaning,
    });
  }
  return rows;
}

describe('README configuration table', () => {
  const rows = configTable(README);

  it('lists every option of src/config.ts, in the same order, and nothing else', () => {
    expect(rows.map((r) => r.env)).toEqual(OPTIONS.map((o) => o.env));
  });

  it('gives each option its flag and default', () => {
    for (const o of OPTIONS) {
      const row = rows.find((r) => r.env === o.env);
      expect(row, o.env).toBeDefined();
      expect(row!.flags[0], `${o.env} flag`).toBe(o.flag);
      expect(row!.default, `${o.env} default`).toBe(o.default ?? '');
      expect(row!.meaning.length, `${o.env} meaning`).toBeGreaterThan(10);
    }
  });

  it('names the --no- form of every true/false option', () => {
    for (const o of OPTIONS.filter((x) => x.default === 'true' || x.default === 'false')) {
      const row = rows.find((r) => r.env === o.env)!;
      expect(row.flags, o.env).toContain(`--no-${o.flag.slice(2)}`);
    }
  });

  it('reads a real README table (the parser is not vacuous)', () => {
    const fake = configTable('| Environment variable | Flag | Default | Meaning |\n|---|---|---|---|\n| `PORT` | `--port` | `1` | a \\| b meaning |\n| `X` | `--x` | — | none given here |\n');
    expect(fake).toEqual([
      { env: 'PORT', flags: ['--port'], default: '1', meaning: 'a \\| b meaning' },
      { env: 'X', flags: ['--x'], default: '', meaning: 'none given here' },
    ]);
  });
});
