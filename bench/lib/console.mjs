/**
 * The console's bench scenarios (issue 15): its pages rendered from the database under load, read
 * on SQLite. Run with `--scenarios retrieve-1m,console-lead,...` so the lead page is that of the
 * lead holding the Retrieve scenario's 1 million activities (its timeline's first page); without
 * retrieve-1m it is a seeded lead's. The console needs a session: `signInConsole(server, keys)`
 * signs in once per server (CSRF token + form post, as a browser does) and the scenarios send its
 * cookie.
 */
import { get } from './load.mjs';

const cookies = new Map();

/** Signs in to the console of `server` with its access/secret key; remembers the cookies for its scenarios. */
export async function signInConsole(server, keys) {
  const form = await fetch(`${server.url}/console/sign-in`);
  const html = await form.text();
  const token = /name="_csrf" value="([^"]+)"/.exec(html)?.[1];
  const jar = form.headers.getSetCookie().map((c) => c.split(';')[0]);
  if (!token) throw new Error(`console sign-in page has no CSRF token (status ${form.status})`);
  const res = await fetch(`${server.url}/console/sign-in`, {
    method: 'POST',
    redirect: 'manual',
    headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: jar.join('; ') },
    body: new URLSearchParams({ _csrf: token, accessKey: keys.accessKey, secretKey: keys.secretKey }),
  });
  const session = res.headers.getSetCookie().map((c) => c.split(';')[0]).find((c) => c.startsWith('leadtrail_console='));
  if (res.status !== 303 || !session) throw new Error(`console sign-in failed: ${res.status}`);
  cookies.set(server.url, [...jar, session].join('; '));
}

const headersOf = (ctx) => {
  const cookie = cookies.get(ctx.server.url);
  if (!cookie) throw new Error('console scenarios need signInConsole(server, keys) first');
  return { cookie };
};

let seq = 0;

/** Scenario rows in run.mjs's shape (read pages: SQLite). */
export const CONSOLE_SCENARIOS = [
  {
    id: 'console-lead',
    title: "console: a lead's page (fields + first 50 of its timeline; the 1M-activity lead with retrieve-1m)",
    engines: ['sqlite'],
    request: (ctx) => get(headersOf(ctx), () => `/console/leads/${ctx.retrieveLeadId ?? ctx.leads[seq++ % ctx.leads.length].id}`),
  },
  {
    id: 'console-leads',
    title: 'console: leads list, searched by email',
    engines: ['sqlite'],
    request: (ctx) => get(headersOf(ctx), () => `/console/leads?q=${encodeURIComponent(ctx.leads[seq++ % ctx.leads.length].email)}`),
  },
  {
    id: 'console-async',
    title: 'console: async requests page (newest 50)',
    engines: ['sqlite'],
    request: (ctx) => get(headersOf(ctx), () => '/console/async'),
  },
];
