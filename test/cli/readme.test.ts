/**
 * The README's "First requests" run as written (bash + curl) against `leadtrail serve` started with
 * the README's keys, and each answer must match the output the README shows: same keys, same
 * values, except GUIDs and timestamps, which differ from run to run.
 */
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it, vi } from 'vitest';
import { tempDir } from '../helpers/server.js';
import { CLI, freePort, serve } from './cli-runner.js';

vi.setConfig({ testTimeout: 180_000, hookTimeout: 120_000 });

const README = fs.readFileSync(fileURLToPath(new URL('../../README.md', import.meta.url)), 'utf8');
const ROOT = fileURLToPath(new URL('../..', import.meta.url));

interface Block {
  lang: string;
  text: string;
}

function section(md: string, heading: string): string {
  const start = md.indexOf(`\n## ${heading}\n`);
  if (start < 0) throw new Error(`README has no "## ${heading}" section`);
  const end = md.indexOf('\n## ', start + 4);
  return md.slice(start, end < 0 ? undefined : end);
}

function blocks(md: string): Block[] {
  return [...md.matchAll(/```(\w*)\n([\s\S]*?)```/g)].map((m) => ({ lang: m[1], text: m[2] }));
}

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const TIMESTAMP = /^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}(\.\d{3})?$/;

function parseMaybe(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/**
 * Compares what the README shows with what the server said. Records README GUID → real GUID so that
 * later commands quoting a shown id (the RequestID) can be given the real one.
 */
function sameShape(shown: unknown, got: unknown, where: string, ids: Map<string, string>): void {
  if (typeof shown === 'string' && typeof got === 'string') {
    if (GUID.test(shown)) {
      expect(got, where).toMatch(GUID);
      ids.set(shown, got);
      return;
    }
    if (TIMESTAMP.test(shown)) return void expect(got, where).toMatch(TIMESTAMP);
    const a = parseMaybe(shown);
    if (a !== undefined && typeof a === 'object') return sameShape(a, parseMaybe(got), `${where} (JSON string)`, ids);
    return void expect(got, where).toBe(shown);
  }
  if (Array.isArray(shown)) {
    expect(Array.isArray(got), where).toBe(true);
    expect((got as unknown[]).length, where).toBe(shown.length);
    shown.forEach((v, i) => sameShape(v, (got as unknown[])[i], `${where}[${i}]`, ids));
    return;
  }
  if (shown !== null && typeof shown === 'object') {
    expect(got !== null && typeof got === 'object', where).toBe(true);
    expect(Object.keys(got as object), where).toEqual(Object.keys(shown));
    for (const [k, v] of Object.entries(shown)) sameShape(v, (got as Record<string, unknown>)[k], `${where}.${k}`, ids);
    return;
  }
  expect(got, where).toBe(shown);
}

/** Runs in the repository folder (the README's relative paths), with the CLI's database in the environment. */
function bash(script: string, env: Record<string, string>): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile('bash', ['-c', script], { timeout: 60_000, cwd: ROOT, env: { ...process.env, ...env } }, (err, stdout, stderr) =>
      err ? reject(new Error(`${err.message}\n${stderr}`)) : resolve(stdout),
    );
  });
}

describe('README first requests', () => {
  it('run as written and answer what the README shows, and again after the reset they end with', async () => {
    const all = blocks(section(README, 'First requests'));
    const [setup, ...rest] = all;
    expect(setup.lang).toBe('bash');
    const keyOf = (name: string) => new RegExp(`^${name}='([^']+)'`, 'm').exec(setup.text)?.[1];
    const keys = { LEADTRAIL_ACCESS_KEY: keyOf('AK')!, LEADTRAIL_SECRET_KEY: keyOf('SK')!, LEADTRAIL_API_KEY: keyOf('APIKEY')! };
    expect(Object.values(keys).every(Boolean), 'AK, SK and APIKEY set in the first block').toBe(true);
    // The README's keys are the ones printed in its quick start.
    const quick = section(README, 'Quick start');
    for (const k of Object.values(keys)) expect(quick).toContain(k);

    const db = path.join(tempDir('leadtrail-readme-'), 'leadtrail.db');
    const s = await serve(['--port', String(await freePort()), '--db', db], keys);
    const prelude = setup.text.replace(/^LSQ=.*$/m, `LSQ=${s.url}`);
    expect(prelude).toContain(`LSQ=${s.url}`);

    // `npx leadtrail …` is this checkout's CLI, on the server's database.
    const cliEnv = { LEADTRAIL_DB: db, LEADTRAIL_LOG_LEVEL: 'warn' };
    const ids = new Map<string, string>();
    let ran = 0;
    const steps = rest.flatMap((b, i) => (b.lang === 'bash' ? [i] : []));
    expect(rest[steps[steps.length - 1]].text, 'the walkthrough ends with npx leadtrail reset').toMatch(/^npx leadtrail reset\b/m);
    // Twice: after the reset it ends with, the walkthrough must run again as shown.
    for (let pass = 0; pass < 2; pass++) {
      for (const i of steps) {
        const shown = rest[i + 1];
        expect(shown, `output shown after command ${i}`).toBeDefined();
        let command = rest[i].text;
        for (const [from, to] of ids) command = command.replaceAll(from, to);
        command = command.replace(/^npx leadtrail\b/gm, `node ${JSON.stringify(CLI)}`);
        // Async processing takes a moment: a status command is retried until it is no longer queued.
        let out = '';
        for (let attempt = 0; attempt < 100; attempt++) {
          out = await bash(`${prelude}\n${command}`, cliEnv);
          if (!out.includes('"In-Queue"')) break;
          await new Promise((r) => setTimeout(r, 100));
        }
        const m = / HTTP (\d{3})\s*$/.exec(out);
        const shownStatus = / HTTP (\d{3})\s*$/.exec(shown.text);
        expect(Boolean(m), `HTTP status printed iff shown (pass ${pass + 1}): ${command}`).toBe(Boolean(shownStatus));
        if (m && shownStatus) expect(m[1]).toBe(shownStatus[1]);
        const shownJson = JSON.parse(shown.text.replace(/ HTTP \d{3}\s*$/, ''));
        sameShape(shownJson, JSON.parse(out.replace(/ HTTP \d{3}\s*$/, '')), `pass ${pass + 1}: ${command.split('\n')[0]}`, ids);
        ran++;
      }
    }
    expect(ran).toBeGreaterThanOrEqual(12);
    await s.stop();
  });
});
