/**
 * The console in a real browser (chromium + playwright-core) against a real leadtrail: signing in,
 * what an API caller did showing up on the pages, async requests changing status without a reload,
 * escaping, and one account never reaching another's data. On SQLite and PostgreSQL.
 *
 * LEADTRAIL_SCREENSHOTS=1 also writes the README's screenshots (docs/images/) from these pages.
 */
import path from 'node:path';
import type { BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { journalOf } from '../../src/console/journal.js';
import { flushJournal } from '../../src/journal/recorder.js';
import { createAccount } from '../../src/domain/accounts.js';
import { accept, asyncCall } from '../async/helpers.js';
import { KEYS, started, type TestServer } from '../helpers/server.js';
import { receiverForFile } from '../webhooks/receiver.js';
import { launchBrowser, type TestBrowser } from './browser.js';

const PA = '/v2/ProspectActivity.svc';
const LM = '/v2/LeadManagement.svc';
const XSS_NOTE = '<script>window.__xss = "note"</script>Called back about pricing';
const XSS_FIELD = '<img src=x onerror="window.__xss = \'field\'">';
const SHOTS = process.env.LEADTRAIL_SCREENSHOTS === '1' && process.env.LEADTRAIL_TEST_STORE !== 'postgres';
const shot = async (page: Page, name: string) => {
  if (SHOTS) await page.screenshot({ path: path.resolve('docs/images', name), fullPage: false });
};

let s: TestServer;
let b: TestBrowser;
let eventCode: number;
let other: { accessKey: string; secretKey: string; apiKey: string };

async function signIn(ctx: BrowserContext, keys: { accessKey: string; secretKey: string } = KEYS): Promise<Page> {
  const page = await ctx.newPage();
  await page.goto(`${s.url}/console`);
  await page.getByLabel('Access key').fill(keys.accessKey);
  await page.getByLabel('Secret key').fill(keys.secretKey);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.waitForURL((u) => !u.pathname.endsWith('/sign-in'));
  return page;
}

let phones = 0;
async function newLead(email: string, first: string, keys?: { accessKey: string; secretKey: string }): Promise<string> {
  const phone = `+91-98765432${String(++phones).padStart(2, '0')}`;
  const r = await s.call('POST', `${LM}/Lead.Create`, [{ Attribute: 'EmailAddress', Value: email }, { Attribute: 'FirstName', Value: first }, { Attribute: 'Phone', Value: phone }], keys ? { keys } : {});
  expect(r.status, r.text).toBe(200);
  return r.body.Message.Id as string;
}

beforeAll(async () => {
  [s, b] = await Promise.all([started({ LEADTRAIL_FAULTS: 'true' }), launchBrowser()]);
  const type = await s.call('POST', `${PA}/CreateType`, {
    ActivityEventName: 'Support call',
    Score: 7,
    Fields: [
      { SchemaName: 'mx_Custom_1', DisplayName: 'Outcome', DataType: 'String' },
      { SchemaName: 'mx_Custom_2', DisplayName: 'Call details', DataType: 'CustomObject', Fields: [{ SchemaName: 'mx_CustomObject_1', DisplayName: 'Agent', DataType: 'String' }] },
    ],
  });
  expect(type.status, type.text).toBe(200);
  eventCode = type.body.Message.Id;
  const made = await s.services.store.transaction((tx) => createAccount(tx, s.services.ctx, { name: 'Other', accessKey: 'other-access', secretKey: 'other-secret', apiKey: 'other-api' }));
  other = { ...made.keys, apiKey: made.apiKey };
});
afterAll(async () => {
  await b?.close();
});

describe('signing in', () => {
  it('a wrong secret key, or an unknown access key, cannot sign in and reaches no page', async () => {
    const ctx = await b.context();
    const page = await ctx.newPage();
    for (const keys of [{ accessKey: KEYS.accessKey, secretKey: 'not-the-secret' }, { accessKey: 'nobody', secretKey: KEYS.secretKey }]) {
      await page.goto(`${s.url}/console/sign-in`);
      await page.getByLabel('Access key').fill(keys.accessKey);
      await page.getByLabel('Secret key').fill(keys.secretKey);
      await page.getByRole('button', { name: 'Sign in' }).click();
      await expect.poll(() => page.getByRole('alert').textContent()).toContain('do not match');
    }
    expect((await ctx.cookies()).map((c) => c.name)).not.toContain('leadtrail_console');
    await page.goto(`${s.url}/console/leads`);
    expect(new URL(page.url()).pathname).toBe('/console/sign-in');
    await ctx.close();
  });

  it('the right keys sign in with an HttpOnly, SameSite=Strict cookie; signing out ends the session', async () => {
    const ctx = await b.context();
    // Nothing the pages load fails (the browser's own /favicon.ico request was a 404 on every page).
    const failed: string[] = [];
    ctx.on('response', (r) => {
      if (r.status() >= 400) failed.push(`${r.status()} ${r.url()}`);
    });
    const page = await signIn(ctx);
    const cookie = (await ctx.cookies()).find((c) => c.name === 'leadtrail_console');
    expect(cookie).toMatchObject({ httpOnly: true, sameSite: 'Strict', path: '/console' });
    await expect.poll(() => page.locator('header').textContent()).toContain(KEYS.accessKey);
    await page.getByRole('link', { name: 'Lead fields' }).click();
    await expect.poll(() => page.getByRole('cell', { name: 'EmailAddress', exact: true }).count()).toBe(1);
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.waitForURL((u) => u.pathname === '/console/sign-in');
    await page.goto(`${s.url}/console/leads`);
    expect(new URL(page.url()).pathname).toBe('/console/sign-in');
    await ctx.close();
    expect(failed).toEqual([]);
  });

  it('signing out in another tab ends the live Requests list and sends the async list to sign-in (found by a fresh-eyes run)', async () => {
    const ctx = await b.context();
    const live = await signIn(ctx);
    await live.goto(`${s.url}/console/requests`);
    await expect.poll(() => live.locator('#live-status').textContent()).toContain('Live');
    const polling = await ctx.newPage();
    await polling.goto(`${s.url}/console/async`);
    const other = await ctx.newPage();
    await other.goto(`${s.url}/console/leads`);
    await other.getByRole('button', { name: 'Sign out' }).click();
    await other.waitForURL((u) => u.pathname === '/console/sign-in');
    await expect.poll(() => live.locator('#signed-out').textContent(), { timeout: 10_000 }).toContain('Signed out');
    await expect.poll(() => live.locator('#live-status').textContent()).toContain('no longer live');
    // A call made now does not appear in the list that was live.
    expect((await s.call('GET', '/v2/LeadManagement.svc/LeadsMetaData.Get?after=signout')).status).toBe(200);
    await new Promise((r) => setTimeout(r, 1_500));
    expect(await live.locator('#journal-rows a', { hasText: 'LeadsMetaData.Get' }).count()).toBe(0);
    // The async list polls every 2 s; its next poll takes the page to sign-in.
    await polling.waitForURL((u) => u.pathname === '/console/sign-in', { timeout: 10_000 });
    await ctx.close();
  });

  it('signing out in another tab sends the Activity page to sign-in too, where its charts had stopped without a word (found by a fresh-eyes run)', async () => {
    const ctx = await b.context();
    const charts = await signIn(ctx);
    await charts.goto(`${s.url}/console/activity`);
    await expect.poll(() => charts.locator('#queue-depth').textContent()).toMatch(/Queue depth: \d+ queued/);
    const other = await ctx.newPage();
    await other.goto(`${s.url}/console/leads`);
    await other.getByRole('button', { name: 'Sign out' }).click();
    await other.waitForURL((u) => u.pathname === '/console/sign-in');
    // It polls every 5 s: its next poll takes it to sign-in.
    await charts.waitForURL((u) => u.pathname === '/console/sign-in', { timeout: 15_000 });
    await ctx.close();
  });

  it('a 200-character name wraps instead of widening the page, and a phone-sized window scrolls tables, not the page (found by a fresh-eyes run)', async () => {
    const long = 'W'.repeat(200);
    const id = await newLead('long-name@example.com', long);
    const ctx = await b.context();
    const page = await signIn(ctx);
    await page.setViewportSize({ width: 1280, height: 800 });
    const pageWidth = () => page.evaluate(() => document.documentElement.scrollWidth);
    await page.goto(`${s.url}/console/leads/${id}`);
    expect(await pageWidth()).toBeLessThanOrEqual(1280);
    await page.goto(`${s.url}/console/leads`);
    expect(await pageWidth()).toBeLessThanOrEqual(1280);
    await page.setViewportSize({ width: 375, height: 700 });
    for (const p of ['/console/leads', '/console/requests', '/console/async', '/console/activity']) {
      await page.goto(`${s.url}${p}`);
      expect(await pageWidth(), p).toBeLessThanOrEqual(375);
    }
    await ctx.close();
  });

  it('a form posted without its CSRF token is refused', async () => {
    const res = await fetch(`${s.url}/console/sign-in`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ accessKey: KEYS.accessKey, secretKey: KEYS.secretKey }),
      redirect: 'manual',
    });
    expect(res.status).toBe(403);
    expect(res.headers.getSetCookie().join(';')).not.toContain('leadtrail_console=');
  });
});

describe('what the API did, on the pages', () => {
  it('an activity posted through the API is on its lead’s timeline (and in the journal), with every field, and hostile text stays text', async () => {
    const leadId = await newLead('ada@example.com', 'Ada');
    const ctx = await b.context();
    const page = await signIn(ctx);
    await page.goto(`${s.url}/console/requests`); // live: the entry should arrive without a reload
    let reloaded = false;
    page.on('framenavigated', (f) => (reloaded ||= f === page.mainFrame()));

    const act = await s.call('POST', `${PA}/Create`, {
      RelatedProspectId: leadId,
      ActivityEvent: eventCode,
      ActivityNote: XSS_NOTE,
      Fields: [
        { SchemaName: 'mx_Custom_1', Value: XSS_FIELD },
        { SchemaName: 'mx_Custom_2', Value: '', Fields: [{ SchemaName: 'mx_CustomObject_1', Value: 'Grace' }] },
      ],
    });
    expect(act.status, act.text).toBe(200);

    {
      const createLink = page.getByRole('link', { name: /^\/v2\/ProspectActivity\.svc\/Create$/i });
      await expect.poll(() => page.locator('#journal-rows tr').filter({ has: createLink }).count(), { timeout: 10_000 }).toBe(1);
      expect(reloaded).toBe(false);
      await createLink.click();
      await expect.poll(() => page.locator('pre').first().textContent()).toContain(JSON.stringify(XSS_NOTE));
      await expect.poll(() => page.locator('#curl').textContent()).toContain('YOUR_SECRET_KEY');
      // Copy, where the browser gives the page no clipboard (plain HTTP from another address than
      // localhost: the console on a LAN), selects the command for the user instead of doing nothing
      // (found by a fresh-eyes run).
      const entry = page.url();
      const bare = await ctx.newPage();
      await bare.addInitScript(() => Object.defineProperty(navigator, 'clipboard', { value: undefined }));
      await bare.goto(entry);
      await bare.getByRole('button', { name: 'Copy' }).click();
      await expect.poll(() => bare.getByRole('button', { name: /^Selected/ }).count()).toBe(1);
      expect(await bare.evaluate(() => getSelection()?.toString())).toBe(await bare.locator('#curl').textContent());
      await bare.close();
    }

    await page.goto(`${s.url}/console/leads`);
    await page.getByRole('searchbox').fill('ada@example');
    await page.getByRole('button', { name: 'Search' }).click();
    await page.getByRole('link', { name: 'Ada' }).click();
    await page.waitForURL((u) => u.pathname === `/console/leads/${leadId}`);
    const item = page.locator('ol.timeline > li').first();
    await expect.poll(() => item.locator('h3').textContent()).toContain('Support call');
    expect(await item.locator('.note').textContent()).toBe(XSS_NOTE);
    const text = await item.textContent();
    expect(text).toContain(XSS_FIELD);
    expect(text).toContain('mx_Custom_2 › mx_CustomObject_1');
    expect(text).toContain('Grace');
    for (const label of ['Outcome', 'Call details', 'Agent']) expect(text).toContain(label);
    expect(text).toContain('score +7');
    expect(await page.locator('dl.facts').textContent()).toMatch(/Score\s*7/);
    // Inert: no script ran, no element was made from the caller's text.
    expect(await page.evaluate(() => (window as unknown as { __xss?: string }).__xss)).toBeUndefined();
    expect(await page.locator('main script, main img').count()).toBe(0);
    await shot(page, 'console-lead-timeline.png');
    await ctx.close();
  });

  it('an async request goes from In-Queue to Success on the page without a reload, and links its activity', async () => {
    await newLead('grace@example.com', 'Grace');
    // The first attempt fails with a forced system error, so the request waits out its back-off
    // (In-Queue) until the retries are made due.
    expect((await s.call('POST', '/_leadtrail/faults', { operation: 'activity.create', times: 1 })).status).toBe(200);
    const id = await accept(s.url, '/activity/create', { EmailAddress: 'grace@example.com', ActivityEvent: eventCode, ActivityNote: 'async note' });
    const ctx = await b.context();
    const page = await signIn(ctx);
    await page.goto(`${s.url}/console/async/${id}`);
    await expect.poll(() => page.locator('#async-status-value').textContent(), { timeout: 10_000 }).toBe('In-Queue');
    await expect.poll(() => page.locator('#async-reason').textContent(), { timeout: 10_000 }).toContain('Waiting to retry');
    let reloaded = false;
    page.on('framenavigated', (f) => (reloaded ||= f === page.mainFrame()));

    expect((await s.call('POST', '/_leadtrail/retries/run-now')).status).toBe(200);
    await expect.poll(() => page.locator('#async-status-value').textContent(), { timeout: 15_000 }).toBe('Success');
    expect(reloaded).toBe(false);
    const link = page.getByRole('link', { name: /^[0-9a-f-]{36}$/ });
    await link.first().click();
    await expect.poll(() => page.locator(':target .note').textContent()).toBe('async note');
    await ctx.close();
  });

  it('the async list keeps the keyboard focus on its link when a new request changes the list (found by a fresh-eyes run)', async () => {
    const ctx = await b.context();
    const page = await signIn(ctx);
    await accept(s.url, '/lead/capture', [{ Attribute: 'EmailAddress', Value: 'focus-1@example.com' }]);
    await page.goto(`${s.url}/console/async`);
    const link = page.locator('#async-table tbody a').first();
    const id = await link.getAttribute('id');
    expect(id).toMatch(/^req-/);
    await link.focus();
    const before = await page.locator('#async-table p').first().textContent();
    await accept(s.url, '/lead/capture', [{ Attribute: 'EmailAddress', Value: 'focus-2@example.com' }]);
    // The table is replaced at its next poll (every 2 s), the new request on top: the focus had
    // fallen to <body>, and a keyboard user started again from "Skip to content".
    await expect.poll(() => page.locator('#async-table p').first().textContent(), { timeout: 10_000 }).not.toBe(before);
    expect(await page.evaluate(() => document.activeElement?.id)).toBe(id);
    await ctx.close();
  });

  it('a failed async request shows its reason, in the list filtered by status and on its page', async () => {
    const id = await accept(s.url, '/activity/create', { EmailAddress: 'nobody-here@example.com', ActivityEvent: 999_999 });
    const ctx = await b.context();
    const page = await signIn(ctx);
    await page.goto(`${s.url}/console/async`);
    await page.getByLabel('Status').selectOption('failed');
    await page.getByRole('button', { name: 'Filter' }).click();
    const row = page.locator('#async-table tr', { hasText: id });
    await expect.poll(() => row.locator('.status').textContent(), { timeout: 15_000 }).toBe('FAILURE');
    const reason = (await row.locator('td').nth(3).textContent()) ?? '';
    expect(reason).toMatch(/^MX\w+Exception: /);
    await row.getByRole('link').click();
    await expect.poll(() => page.locator('#async-reason').textContent()).toBe(reason);
    await ctx.close();
  });
});

describe('one account only', () => {
  it("another account's lead, activity, async request and journal entries are unreachable by URL", async () => {
    const theirLead = await newLead('secret.lead@example.com', 'Theirs', other);
    const act = await s.call('POST', `${PA}/Create`, { RelatedProspectId: theirLead, ActivityEvent: 21, ActivityNote: 'their note' }, { keys: other });
    expect(act.status, act.text).toBe(200);
    const theirRequest = await accept(s.url, '/lead/capture', [{ Attribute: 'EmailAddress', Value: 'secret.lead@example.com' }], { keys: other, headers: { 'x-api-key': other.apiKey } });
    const ctx = await b.context();
    const page = await signIn(ctx);
    for (const p of [`/console/leads/${theirLead}`, `/console/activities/${act.body.Message.Id}`, `/console/async/${theirRequest}`]) {
      const res = await page.goto(`${s.url}${p}`);
      expect(res?.status(), p).toBe(404);
      expect(await page.locator('main').textContent()).not.toContain('Theirs');
    }
    await page.goto(`${s.url}/console/leads?q=secret.lead`);
    expect(await page.locator('main').textContent()).toContain('0 leads matching');
    {
      const journal = journalOf(s.services.store);
      await flushJournal(s.services); // entries are written in batches just after the answer
      const [accountB] = (await s.services.store.accounts.list()).filter((a) => a.name === 'Other');
      const theirs = await journal.list(accountB.id, { limit: 5 });
      expect(theirs.length).toBeGreaterThan(0);
      for (const e of theirs) expect((await page.goto(`${s.url}/console/requests/${e.id}`))?.status()).toBe(404);
      await page.goto(`${s.url}/console/requests?lead=${theirLead}`);
      expect(await page.locator('#journal-rows tr').count()).toBe(0);
    }
    await ctx.close();
  });
});

describe('webhooks', () => {
  it('the Webhooks page shows a new delivery attempt without a reload, and Send again sends the event once more', async () => {
    const rx = await receiverForFile();
    const hook = await s.call('POST', '/v2/Webhook.svc/Create', { URL: `${rx.url}/console-hook`, Method: 'POST', ContentType: 'application/json', WebhookEvent: '3' });
    expect(hook.status, hook.text).toBe(200);
    const ctx = await b.context();
    const page = await signIn(ctx);
    await page.goto(`${s.url}/console/webhooks`);
    await expect.poll(() => page.locator('main').textContent()).toContain(`${rx.url}/console-hook`);
    let reloaded = false;
    page.on('framenavigated', (f) => (reloaded ||= f === page.mainFrame()));
    await newLead('hooked@example.com', 'Hooked');
    const row = page.locator('#webhook-table tbody tr');
    await expect.poll(() => row.count(), { timeout: 10_000 }).toBe(1);
    expect(reloaded).toBe(false);
    expect(await row.first().textContent()).toMatch(/Lead Creation[\s\S]*200[\s\S]*delivered/);
    await row.first().getByRole('button', { name: 'Send again' }).click();
    await page.waitForURL((u) => u.searchParams.has('resent'));
    await expect.poll(() => page.getByRole('status').textContent()).toMatch(/is queued to be sent again/);
    await rx.until((all) => all.filter((r) => r.path === '/console-hook').length === 2);
    const [a, again] = rx.on('/console-hook');
    expect(again.eventId).toBe(a.eventId);
    await ctx.close();
  });

  it("a failing webhook's failures and waiting events update without a reload, and the unchanged attempts table keeps the focus", async () => {
    const rx = await receiverForFile();
    rx.answer = (r) => (r.path === '/down' ? { status: 500 } : { status: 200 });
    const kept = await s.call('POST', '/v2/Webhook.svc/Create', { URL: `${rx.url}/kept`, Method: 'POST', ContentType: 'application/json', WebhookEvent: '3' });
    expect(kept.status, kept.text).toBe(200);
    const id = await newLead('kept@example.com', 'Kept');
    await rx.until((all) => all.some((r) => r.path === '/kept'));
    // Lead updates (event 6) go to /down only, which fails: a retry waits (60 s by default).
    const down = await s.call('POST', '/v2/Webhook.svc/Create', { URL: `${rx.url}/down`, Method: 'POST', ContentType: 'application/json', WebhookEvent: '6' });
    expect(down.status, down.text).toBe(200);
    const ctx = await b.context();
    const page = await signIn(ctx);
    await page.goto(`${s.url}/console/webhooks?webhook=${kept.body.Message.Id}`);
    const row = page.locator('#webhook-table tbody tr');
    await expect.poll(() => row.count(), { timeout: 10_000 }).toBe(1);
    const downRow = page.locator('#webhook-list tr', { hasText: `${rx.url}/down` });
    expect((await downRow.textContent())!.replace(/\s+/g, ' ')).toMatch(/Enabled 0 0 0 s/);
    const sendAgain = row.first().getByRole('button', { name: 'Send again' });
    await sendAgain.focus();
    let reloaded = false;
    page.on('framenavigated', (f) => (reloaded ||= f === page.mainFrame()));
    const update = await s.call('POST', `${LM}/Lead.Update?leadId=${id}`, [{ Attribute: 'Company', Value: 'Acme' }]);
    expect(update.status, update.text).toBe(200);
    await rx.until((all) => all.some((r) => r.path === '/down'));
    // One failed attempt in a row, one event waiting for its retry: the list says so without a reload.
    await expect.poll(async () => (await downRow.textContent())!.replace(/\s+/g, ' '), { timeout: 10_000 }).toMatch(/Enabled 1 1 0 s/);
    await page.waitForTimeout(2_500);
    expect(reloaded).toBe(false);
    // The filtered attempts did not change, so the table was left alone, focus included: it had
    // been replaced at every poll that saw another webhook's failures, and the focus fell to <body>.
    expect(await sendAgain.evaluate((el) => el === document.activeElement)).toBe(true);
    // Send again from the filtered page comes back to it, still filtered to that webhook.
    await page.keyboard.press('Enter');
    await page.waitForURL((u) => u.searchParams.has('resent'));
    expect(new URL(page.url()).searchParams.get('webhook')).toBe(kept.body.Message.Id);
    expect(await page.getByRole('heading', { name: /Delivery attempts to/ }).textContent()).toContain(`${rx.url}/kept`);
    await expect.poll(() => page.getByRole('status').textContent()).toMatch(/is queued to be sent again/);

    // In a 600 px window the tables scroll inside the page and keep their words whole: every cell
    // broke anywhere, squeezing columns to a letter or two ("Enabl|ed", a button reading "S").
    await page.setViewportSize({ width: 600, height: 800 });
    await page.goto(`${s.url}/console/webhooks`);
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(600);
    const lines = (sel: string) =>
      page.locator(sel).evaluateAll((els) =>
        els.map((el) => {
          const r = document.createRange();
          r.selectNodeContents(el);
          return [el.textContent?.trim(), new Set([...r.getClientRects()].map((x) => Math.round(x.top))).size];
        }),
      );
    for (const [text, n] of [...(await lines('.grid th:not(:has(.sr-only))')), ...(await lines('#webhook-list td.status')), ...(await lines('.grid button'))]) {
      expect(n, String(text)).toBe(text === 'Disabled after failures' ? n : 1);
    }
    await ctx.close();
  });
});

describe('pages', () => {
  it('activity types, lead fields and the activity charts render, and every script and style comes from leadtrail', async () => {
    const ctx = await b.context();
    const page = await signIn(ctx);
    const foreign: string[] = [];
    page.on('request', (r) => {
      if (!r.url().startsWith(s.url)) foreign.push(r.url());
    });
    await page.goto(`${s.url}/console/activity-types`);
    await expect.poll(() => page.getByRole('heading', { name: /Support call/ }).count()).toBe(1);
    expect(await page.locator('main').textContent()).toContain('mx_Custom_2 › mx_CustomObject_1');
    await page.goto(`${s.url}/console/activity`);
    await expect.poll(() => page.locator('#queue-depth').textContent(), { timeout: 10_000 }).toMatch(/Queue depth: \d+ queued, \d+ running/);
    expect(await page.evaluate(() => typeof (window as unknown as { Chart?: unknown }).Chart)).toBe('function');
    expect(foreign).toEqual([]);
    await page.goto(`${s.url}/console/requests`);
    await shot(page, 'console-requests.png');
    // The keyboard reaches the navigation first (after the skip link).
    await page.keyboard.press('Tab');
    await page.keyboard.press('Tab');
    expect(await page.evaluate(() => document.activeElement?.textContent)).toBe('Requests');
    await ctx.close();
  });
});
