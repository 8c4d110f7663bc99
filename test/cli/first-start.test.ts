import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { start } from '../../src/main.js';
import { tempDir } from '../helpers/server.js';
import { runCli, serve } from './cli-runner.js';

it('a start that cannot listen makes no account and prints no keys; the next start prints them', async () => {
  const blocker = net.createServer();
  await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
  const port = (blocker.address() as net.AddressInfo).port;
  const db = path.join(tempDir(), 'leadtrail.db');
  const config = (p: number) => loadConfig({ PORT: String(p), HOST: '127.0.0.1', LEADTRAIL_DB: db, LEADTRAIL_LOG_LEVEL: 'silent' });
  const announced: string[] = [];

  await expect(start(config(port), { announce: (t) => announced.push(t) })).rejects.toThrow(/EADDRINUSE/);
  expect(announced).toEqual([]);
  await new Promise((resolve) => blocker.close(resolve));

  const s = await start(config(0), { announce: (t) => announced.push(t) });
  try {
    expect(announced).toHaveLength(1);
    expect(announced[0]).toMatch(/access key:\s+\S+/);
    expect(await s.services.store.accounts.count()).toBe(1);
  } finally {
    await s.close();
  }
});

it('a host that is not this machine’s, or a port taken: exit 2 with a message naming the setting, no stack, no keys', async () => {
  const unresolvable = await runCli(['serve'], { HOST: '999.1.1.1', LEADTRAIL_DB: path.join(tempDir(), 'a.db') });
  expect(unresolvable.code).toBe(2);
  expect(unresolvable.stderr).toMatch(/^leadtrail: HOST \(--host\) "999\.1\.1\.1" does not resolve to an address \(getaddrinfo ENOTFOUND/m);
  expect(unresolvable.stderr).not.toMatch(/\n\s+at |access key/);

  const blocker = net.createServer();
  await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
  const port = (blocker.address() as net.AddressInfo).port;
  try {
    const taken = await runCli(['serve'], { HOST: '127.0.0.1', PORT: String(port), LEADTRAIL_DB: path.join(tempDir(), 'b.db') });
    expect(taken.code).toBe(2);
    expect(taken.stderr).toContain(`leadtrail: PORT (--port) ${port} cannot be used on 127.0.0.1 (listen EADDRINUSE`);
    expect(taken.stderr).not.toMatch(/access key/);
  } finally {
    await new Promise((resolve) => blocker.close(resolve));
  }
});

it('a key no client could send stops the start before the database is made, naming its option', async () => {
  const dir = path.join(tempDir(), 'not-made');
  const r = await runCli(['serve', '--port', '0', '--db', path.join(dir, 'k.db'), '--access-key', ' x']);
  expect(r.code, r.stderr).toBe(2);
  expect(r.stderr.trim()).toBe("leadtrail: LEADTRAIL_ACCESS_KEY (--access-key): The access key starts or ends with a space, which HTTP drops from a header's value: it could never be matched.");
  expect(fs.existsSync(dir)).toBe(false);
});

it('--async-port the same as --port stops the start before the database is made, naming both (found by a fresh-eyes run: EADDRINUSE)', async () => {
  const dir = path.join(tempDir(), 'not-made');
  const r = await runCli(['serve', '--port', '8123', '--async-port', '8123', '--db', path.join(dir, 'p.db')]);
  expect(r.code, r.stderr).toBe(2);
  expect(r.stderr.trim()).toBe('leadtrail: LEADTRAIL_ASYNC_PORT (--async-port) must differ from PORT (--port) (both 8123): it is a second port that also serves the API; leave it unset to serve everything on one');
  expect(fs.existsSync(dir)).toBe(false);
});

it('an environment variable that looks like a misspelt option is named on stderr, with the option meant', async () => {
  const db = path.join(tempDir(), 'c.db');
  const r = await runCli(['migrate', '--db', db], { LEADTRAIL_RATELIMIT: '0', database_url: '', LEADTRAIL_NODE24_DIR: '/x', HOME: process.env.HOME ?? '/root' });
  expect(r.code, r.stderr).toBe(0);
  expect(r.stderr).toContain('leadtrail: warning: LEADTRAIL_RATELIMIT is not an option and is ignored; did you mean LEADTRAIL_RATE_LIMIT?\n');
  expect(r.stderr).toContain('leadtrail: warning: database_url is not an option and is ignored; did you mean DATABASE_URL?\n');
  // Names of other tools, and HOME (two letters from HOST), are not ours to judge.
  expect(r.stderr).not.toMatch(/NODE24|HOME/);
});

it('a second serve on the same SQLite file stops at once, naming it; the CLI still works beside the server; a killed owner leaves no lock', async () => {
  const db = path.join(tempDir(), 'owned.db');
  const first = await serve(['--port', '0'], { LEADTRAIL_DB: db });
  try {
    const second = await runCli(['serve', '--port', '0'], { LEADTRAIL_DB: db });
    expect(second.code).toBe(1);
    expect(second.stderr.trim().split('\n')).toHaveLength(1);
    expect(second.stderr).toContain(`leadtrail: Another leadtrail serve is using ${db} (LEADTRAIL_DB, --db; that process holds ${db}-lock).`);
    expect(second.stderr).not.toMatch(/access key/);
    // A symbolic link to the file, or to its folder, names the same file: refused too (each had
    // started, and two servers wrote to one file).
    const linked = path.join(tempDir(), 'link.db');
    fs.symlinkSync(db, linked);
    const linkedDir = path.join(tempDir(), 'linked-dir');
    fs.symlinkSync(path.dirname(db), linkedDir);
    for (const other of [linked, path.join(linkedDir, 'owned.db')]) {
      const third = await runCli(['serve', '--port', '0'], { LEADTRAIL_DB: other });
      expect(third.code, other).toBe(1);
      expect(third.stderr).toContain(`that process holds ${db}-lock).`);
    }
    // The other commands run beside a server, as before.
    expect((await runCli(['account', 'list', '--db', db])).code).toBe(0);
    expect((await fetch(`${first.url}/health`)).status).toBe(200);
  } finally {
    first.child.kill('SIGKILL');
    await new Promise((r) => first.child.once('exit', r));
  }
  // The operating system dropped the killed owner's lock: the next start serves.
  const next = await serve(['--port', '0'], { LEADTRAIL_DB: db });
  try {
    expect((await fetch(`${next.url}/health`)).status).toBe(200);
  } finally {
    await next.stop();
  }
});

it('a folder leadtrail may not write stops the start naming the file and its setting, not a bare EACCES (found by a fresh-eyes run)', async (ctx) => {
  const locked = path.join(tempDir(), 'locked');
  fs.mkdirSync(locked);
  // Root writes any folder whatever its mode: as root the folder is made immutable instead, which
  // some file systems (tmpfs, overlayfs) and containers without CAP_LINUX_IMMUTABLE do not allow.
  const asRoot = process.getuid?.() === 0;
  if (asRoot) {
    try {
      execFileSync('chattr', ['+i', locked], { stdio: 'ignore' });
    } catch {
      ctx.skip(`chattr +i is not allowed on ${locked}: no folder root may not write`);
    }
  } else fs.chmodSync(locked, 0o555);
  try {
    for (const db of [path.join(locked, 'sub', 'x.db'), path.join(locked, 'x.db')]) {
      for (const args of [['serve', '--port', '0'], ['migrate']]) {
        const r = await runCli([...args, '--db', db]);
        expect(r.code, r.stderr).not.toBe(0);
        expect(r.stderr.trim().split('\n'), r.stderr).toHaveLength(1);
        expect(r.stderr).toMatch(new RegExp(`^leadtrail: Cannot open ${db.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} \\(--db, LEADTRAIL_DB\\): .*is the folder writable\\?\\)$`, 'm'));
      }
    }
  } finally {
    if (asRoot) execFileSync('chattr', ['-i', locked]);
    else fs.chmodSync(locked, 0o755);
  }
});
