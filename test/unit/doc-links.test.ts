/** Links in the README and docs/ point at files and headings that exist. */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const FILES = ['README.md', ...fs.readdirSync(path.join(ROOT, 'docs')).filter((f) => f.endsWith('.md')).map((f) => `docs/${f}`)];

/** GitHub's heading anchors: lower case, punctuation dropped, spaces to hyphens. */
const slug = (heading: string) =>
  heading
    .trim()
    .toLowerCase()
    .replace(/[`*_]/g, '')
    .replace(/[^\p{L}\p{N} -]/gu, '')
    .replace(/ /g, '-');

function anchors(file: string): Set<string> {
  const text = fs.readFileSync(path.join(ROOT, file), 'utf8').replace(/```[\s\S]*?```/g, '');
  return new Set([...text.matchAll(/^#{1,6} (.+)$/gm)].map((m) => slug(m[1])));
}

describe('documentation links', () => {
  it('resolve to existing files and headings', () => {
    const broken: string[] = [];
    let checked = 0;
    for (const file of FILES) {
      const text = fs.readFileSync(path.join(ROOT, file), 'utf8').replace(/```[\s\S]*?```/g, '');
      for (const [, target] of text.matchAll(/\]\(([^)\s]+)\)/g)) {
        if (/^[a-z]+:/i.test(target)) continue;
        checked++;
        const [rel, hash] = target.split('#');
        const dest = rel === '' ? file : path.relative(ROOT, path.resolve(path.dirname(path.join(ROOT, file)), rel));
        if (!fs.existsSync(path.join(ROOT, dest))) broken.push(`${file}: ${target} (no file)`);
        else if (hash && dest.endsWith('.md') && !anchors(dest).has(hash)) broken.push(`${file}: ${target} (no heading)`);
      }
    }
    expect(checked).toBeGreaterThan(10);
    expect(broken).toEqual([]);
  });
});
