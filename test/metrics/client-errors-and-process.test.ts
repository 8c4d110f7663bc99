/**
 * /metrics counts what Node's client-error handler answers before any route (a 408 for a request
 * that did not arrive in time, a 400 for broken HTTP), and process metrics come from one collector
 * per process however many servers it starts (prom-client's default metrics cannot be stopped).
 */
import net from 'node:net';
import { describe, expect, it } from 'vitest';
import { startLeadtrail } from '../../src/embed.js';
import { processMetricsRegistry } from '../../src/metrics.js';
import { KEYS, started } from '../helpers/server.js';

const requestsLine = (text: string, status: string) =>
  Number(new RegExp(`^leadtrail_http_requests_total\\{route="unmatched",method="OTHER",status="${status}"\\} (\\d+)$`, 'm').exec(text)?.[1] ?? 0);

/** Sends `head` (and nothing more) and resolves with what the server answered before closing. */
function raw(url: string, head: string): Promise<string> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = net.connect(Number(port), hostname, () => socket.write(head));
    let got = '';
    socket.on('data', (d) => (got += d.toString()));
    socket.on('close', () => resolve(got));
    socket.on('error', reject);
  });
}

describe('requests answered before any route', () => {
  it('a 408 (stalled body) and a 400 (broken HTTP) are counted in leadtrail_http_requests_total', async () => {
    const s = await started({ LEADTRAIL_REQUEST_TIMEOUT_MS: '300' });
    const keys = `accessKey=${KEYS.accessKey}&secretKey=${KEYS.secretKey}`;
    const before = await (await fetch(`${s.url}/metrics`)).text();
    expect(requestsLine(before, '408')).toBe(0);

    const path = `/v2/LeadManagement.svc/Lead.Create?${keys}`;
    const stalled = await Promise.all(
      [1, 2].map(() => raw(s.url, `POST ${path} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{"a":`)),
    );
    for (const a of stalled) expect(a).toMatch(/^HTTP\/1\.1 408 /);
    const broken = await raw(s.url, 'NOT-HTTP\r\n\r\n');
    expect(broken).toMatch(/^HTTP\/1\.1 400 /);

    const after = await (await fetch(`${s.url}/metrics`)).text();
    expect(requestsLine(after, '408')).toBe(2);
    expect(requestsLine(after, '400')).toBe(1);
  });
});

describe('process metrics', () => {
  it('one shared collector: every server in the process reports them once, and starting more servers adds none', async () => {
    const shared = processMetricsRegistry();
    const families = shared.getMetricsAsArray().length;
    expect(families).toBeGreaterThan(5);
    const servers = await Promise.all(Array.from({ length: 4 }, () => startLeadtrail()));
    try {
      for (const lt of servers) {
        const text = await (await fetch(`${lt.baseUrl}/metrics`)).text();
        expect(text.match(/^# TYPE process_cpu_seconds_total /gm)).toHaveLength(1);
        expect(text.match(/^# TYPE leadtrail_http_requests_total /gm)).toHaveLength(1);
        expect(text).toMatch(/^nodejs_eventloop_lag_seconds \d/m);
      }
    } finally {
      await Promise.all(servers.map((lt) => lt.close()));
    }
    expect(processMetricsRegistry()).toBe(shared);
    expect(shared.getMetricsAsArray().length).toBe(families);
  });
});
