/**
 * LEADTRAIL_LOG_FORMAT: JSON lines for machines (the default under a pipe), readable lines for
 * people (`pretty`, and the default at a terminal); keys redacted either way.
 */
import { spawn } from 'node:child_process';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { tempDir } from '../helpers/server.js';
import { CLI, cleanEnv, freePort, http, serve } from './cli-runner.js';

const KEYS = { accessKey: 'fmt-access', secretKey: 'fmt-secret-do-not-log' };
const keyEnv = () => ({ LEADTRAIL_DB: path.join(tempDir('leadtrail-logfmt-'), 'lt.db'), LEADTRAIL_ACCESS_KEY: KEYS.accessKey, LEADTRAIL_SECRET_KEY: KEYS.secretKey });

const isJsonObject = (line: string) => {
  try {
    return typeof JSON.parse(line) === 'object';
  } catch {
    return false;
  }
};

describe('LEADTRAIL_LOG_FORMAT', () => {
  it('pretty: readable lines, no JSON, keys still redacted', async () => {
    const s = await serve(['--port', '0'], { ...keyEnv(), LEADTRAIL_LOG_FORMAT: 'pretty', LEADTRAIL_LOG_LEVEL: 'debug' });
    const r = await http(s.url, 'GET', `/v2/ProspectActivity.svc/ActivityTypes.Get?accessKey=${KEYS.accessKey}&secretKey=${KEYS.secretKey}`);
    expect(r.status).toBe(200);
    await new Promise((done) => setTimeout(done, 200));
    await s.stop();
    const lines = s.stdout().split('\n').filter((l) => l.trim() !== '');
    expect(lines.some((l) => /^\[\d\d:\d\d:\d\d\.\d{3}\] INFO: leadtrail listening$/.test(l))).toBe(true);
    expect(lines.some((l) => /DEBUG: request completed/.test(l))).toBe(true);
    expect(lines.filter(isJsonObject)).toEqual([]);
    // Not coloured when stdout is not a terminal.
    expect(s.stdout()).not.toContain('\u001b[');
    expect(s.stdout()).not.toContain(KEYS.secretKey);
    expect(s.stdout()).toContain('secretKey=***');
  });

  it('default under a pipe: JSON lines', async () => {
    const s = await serve(['--port', '0'], keyEnv());
    await s.stop();
    const lines = s.stdout().split('\n').filter((l) => l.trim() !== '');
    expect(lines.length).toBeGreaterThan(0);
    for (const line of lines) expect(isJsonObject(line), line).toBe(true);
    expect(lines.map((l) => JSON.parse(l).msg)).toContain('leadtrail listening');
  });

  it('default at a terminal: pretty (run under script(1), which gives it a pseudo-terminal)', async () => {
    const port = await freePort();
    const command = `'${process.execPath}' '${CLI}' serve --port ${port}`;
    const child = spawn('script', ['-qfec', command, '/dev/null'], { env: cleanEnv({ ...keyEnv(), LEADTRAIL_LOG_LEVEL: 'info' }), detached: true });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    const exited = new Promise((done) => child.once('exit', done));
    try {
      const until = Date.now() + 30_000;
      while (!out.includes('leadtrail listening') && Date.now() < until && child.exitCode === null) await new Promise((d) => setTimeout(d, 50));
      expect(out).toContain('leadtrail listening');
      expect(out).not.toContain('"msg":"leadtrail listening"');
      expect(out).toMatch(/INFO/);
    } finally {
      // The group: script and the server under it.
      if (child.exitCode === null) process.kill(-child.pid!, 'SIGTERM');
      await exited;
    }
  });

  it('an unknown format stops the start naming the option', async () => {
    await expect(serve(['--port', '0'], { ...keyEnv(), LEADTRAIL_LOG_FORMAT: 'xml' })).rejects.toThrow(/LEADTRAIL_LOG_FORMAT must be one of auto, json, pretty, got "xml"/);
  });
});
