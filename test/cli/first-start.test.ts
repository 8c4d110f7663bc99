import net from 'node:net';
import path from 'node:path';
import { expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { start } from '../../src/main.js';
import { tempDir } from '../helpers/server.js';

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
