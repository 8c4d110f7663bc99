/**
 * Runs the built CLI (`node dist/cli/main.js`, what `npx leadtrail` and `npm start` run) as a child
 * process, the way a user does. `npm test` builds dist/ first.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll } from 'vitest';
import { OPTIONS } from '../../src/config.js';
import { freePort } from '../helpers/ports.js';

export const CLI = fileURLToPath(new URL('../../dist/cli/main.js', import.meta.url));

if (!fs.existsSync(CLI)) throw new Error(`${CLI} is missing: run \`npm run build\` (npm test does it first)`);

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** The test runner's environment without any leadtrail option, plus `extra`. */
export function cleanEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const o of OPTIONS) delete env[o.env];
  return { ...env, LEADTRAIL_LOG_LEVEL: 'warn', ...extra };
}

/** `cwd`: the folder it runs in (default: the test's), where a relative `--db` and the default database file are. */
export function runCli(args: string[], env: Record<string, string> = {}, opts: { cwd?: string } = {}): Promise<CliResult> {
  return new Promise((resolve) => {
    execFile(process.execPath, [CLI, ...args], { env: cleanEnv(env), timeout: 90_000, cwd: opts.cwd }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === 'number' ? err.code : null) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

/** Runs the CLI, expects exit 0 and JSON on stdout. */
export async function cliJson(args: string[], env: Record<string, string> = {}): Promise<any> {
  const r = await runCli(args, env);
  if (r.code !== 0) throw new Error(`leadtrail ${args.join(' ')} exited ${r.code}: ${r.stderr}`);
  return JSON.parse(r.stdout);
}

export { freePort };

/** The commands that may make the database they are pointed at (README, The CLI): the file, or the PostgreSQL `?schema=`. */
export const CREATING_COMMANDS = ['serve', 'migrate', 'account create'];

/**
 * Every other command, with the arguments to run it as a user would (they read or change what a
 * database holds, so they refuse one that is not there). `dir`: a folder for the files some of
 * them read (a valid activity-types file; the seed is the repository's example).
 */
export function refusingCommands(dir: string): string[][] {
  const types = path.join(dir, 'types.json');
  fs.writeFileSync(types, JSON.stringify({ ActivityEventName: 'Demo Booked', Score: 5 }));
  return [
    ['account', 'list'],
    ['keys', 'create', '--account', 'acc'],
    ['keys', 'list', '--account', 'acc'],
    ['keys', 'revoke', '--account', 'acc', 'key'],
    ['keys', 'set-limit', '--account', 'acc', 'key', '0'],
    ['activity-types', 'create', '--account', 'acc', '--file', types],
    ['activity-types', 'list', '--account', 'acc'],
    ['lead-fields', 'set', '--account', 'acc', '--name', 'mx_Customer_No', '--unique'],
    ['lead-fields', 'list', '--account', 'acc'],
    ['seed', '--file', SEED_EXAMPLE],
    ['reset'],
  ];
}

export const SEED_EXAMPLE = fileURLToPath(new URL('../../examples/walkthrough-seed.json', import.meta.url));

export interface Served {
  url: string;
  child: ChildProcess;
  stdout(): string;
  stderr(): string;
  stop(): Promise<void>;
}

const running = new Set<Served>();
afterAll(async () => {
  for (const s of running) await s.stop();
});

/**
 * `leadtrail serve …` as a child process (`leadtrail …` with `bare`: serve is the default command;
 * `nodeArgs` go to node before the script); resolves once it logs that it is listening (info
 * level). Rejects with its stderr if it exits first.
 */
export function serve(args: string[], env: Record<string, string> = {}, opts: { bare?: boolean; nodeArgs?: string[] } = {}): Promise<Served> {
  const child = spawn(process.execPath, [...(opts.nodeArgs ?? []), CLI, ...(opts.bare ? [] : ['serve']), ...args], { env: cleanEnv({ LEADTRAIL_LOG_LEVEL: 'info', ...env }) });
  let out = '';
  let err = '';
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const served: Served = {
    url: '',
    child,
    stdout: () => out,
    stderr: () => err,
    async stop() {
      running.delete(served);
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      const t = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(t);
    },
  };
  running.add(served);
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`serve did not start in 60 s.\nstdout: ${out}\nstderr: ${err}`)), 60_000);
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      if (served.url) return;
      // Complete lines only: a chunk may end mid-line.
      for (const line of out.split('\n').slice(0, -1)) {
        if (!line.includes('leadtrail listening')) continue;
        // A JSON line carries the url; a pretty one (LEADTRAIL_LOG_FORMAT=pretty) has it on a later line.
        const url = jsonUrl(line) ?? /^\s+url: "(http[^"]+)"$/m.exec(out)?.[1];
        if (!url) return;
        clearTimeout(timer);
        served.url = url;
        // The key announcement goes to stderr before the listen line; let that pipe catch up.
        setTimeout(() => resolve(served), 100);
        return;
      }
    });
    void exited.then(() => {
      clearTimeout(timer);
      reject(new Error(`serve exited with ${child.exitCode}.\nstdout: ${out}\nstderr: ${err}`));
    });
  });
}

function jsonUrl(line: string): string | undefined {
  try {
    return (JSON.parse(line) as { url?: string }).url;
  } catch {
    return undefined;
  }
}

/** Real HTTP to a served process, with sync keys as headers. */
export async function http(
  base: string,
  method: string,
  path: string,
  opts: { keys?: { accessKey: string; secretKey: string }; apiKey?: string; body?: unknown } = {},
): Promise<{ status: number; body: any; text: string }> {
  const headers: Record<string, string> = {};
  if (opts.keys) {
    headers['x-LSQ-AccessKey'] = opts.keys.accessKey;
    headers['x-LSQ-SecretKey'] = opts.keys.secretKey;
  }
  if (opts.apiKey) headers['x-api-key'] = opts.apiKey;
  if (opts.body !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(`${base}${path}`, { method, headers, body: opts.body === undefined ? undefined : JSON.stringify(opts.body) });
  const text = await res.text();
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    body = undefined;
  }
  return { status: res.status, body, text };
}

/** The keys `serve` prints once on first start (stderr), or null when it printed none. */
export function announcedKeys(stderr: string): { accountId: string; accessKey: string; secretKey: string; apiKey: string } | null {
  if (!stderr.includes('created the first account')) return null;
  const get = (label: string) => new RegExp(`${label}:\\s+(\\S+)`).exec(stderr)?.[1] ?? '';
  return { accountId: get('account id'), accessKey: get('access key'), secretKey: get('secret key'), apiKey: get('x-api-key') };
}
