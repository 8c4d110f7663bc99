/** Signing in to the console over plain HTTP (no browser): CSRF token from the form, then the post. */
import { KEYS } from '../helpers/server.js';

export interface ConsoleClient {
  cookie: string;
  get(path: string): Promise<{ status: number; text: string; headers: Headers }>;
  /** Posts a form with the CSRF token of the page at `from`. */
  post(path: string, from: string, form?: Record<string, string>): Promise<{ status: number; text: string; headers: Headers }>;
}

const cookiesOf = (h: Headers) => h.getSetCookie().map((c) => c.split(';')[0]);

export async function consoleClient(base: string, keys: { accessKey: string; secretKey: string } = KEYS): Promise<ConsoleClient> {
  const form = await fetch(`${base}/console/sign-in`);
  const token = /name="_csrf" value="([^"]+)"/.exec(await form.text())![1];
  const jar = cookiesOf(form.headers);
  const res = await fetch(`${base}/console/sign-in`, {
    method: 'POST',
    redirect: 'manual',
    headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: jar.join('; ') },
    body: new URLSearchParams({ _csrf: token, ...keys }),
  });
  if (res.status !== 303) throw new Error(`sign-in failed: ${res.status}`);
  const cookie = [...jar, ...cookiesOf(res.headers)].join('; ');
  const get = async (path: string) => {
    const r = await fetch(`${base}${path}`, { headers: { cookie }, redirect: 'manual' });
    return { status: r.status, text: await r.text(), headers: r.headers };
  };
  return {
    cookie,
    get,
    async post(path, from, extra = {}) {
      const page = await get(from);
      const csrf = /name="_csrf" value="([^"]+)"/.exec(page.text)![1];
      const r = await fetch(`${base}${path}`, {
        method: 'POST',
        redirect: 'manual',
        headers: { cookie, 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ _csrf: csrf, ...extra }),
      });
      return { status: r.status, text: await r.text(), headers: r.headers };
    },
  };
}
