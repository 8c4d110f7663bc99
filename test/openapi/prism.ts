/**
 * Prism's validating proxy (`prism proxy openapi/leadtrail.json <target>`) in front of a leadtrail,
 * for tests that check answers against the document. Without `errors`, Prism forwards every
 * request, even one the document refuses, and reports what does not match the document in the
 * answer's `sl-violations` header.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort } from '../helpers/ports.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

export interface Prism {
  url: string;
  /** Everything Prism printed so far. */
  log(): string;
  stop(): void;
}

export async function startPrism(target: string, opts: { errors?: boolean } = {}): Promise<Prism> {
  const port = await freePort();
  let log = '';
  const args = ['proxy', path.join(ROOT, 'openapi/leadtrail.json'), target, ...(opts.errors ? ['--errors'] : []), '--host', '127.0.0.1', '--port', String(port)];
  const child: ChildProcess = spawn(path.join(ROOT, 'node_modules/.bin/prism'), args, { stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout!.on('data', (d) => (log += d));
  child.stderr!.on('data', (d) => (log += d));
  const until = Date.now() + 60_000;
  while (!log.includes('Prism is listening')) {
    if (Date.now() > until || child.exitCode !== null) {
      child.kill();
      throw new Error(`Prism did not start:\n${log}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return { url: `http://127.0.0.1:${port}`, log: () => log, stop: () => child.kill() };
}

export interface Violation {
  location: string[];
  severity: string;
  message: string;
}

/** The violations Prism found in an answer it forwarded, split by side: the request's and the answer's. */
export function violations(res: Response): { request: Violation[]; response: Violation[] } {
  const all = JSON.parse(res.headers.get('sl-violations') ?? '[]') as Violation[];
  return { request: all.filter((v) => v.location[0] === 'request'), response: all.filter((v) => v.location[0] === 'response') };
}
