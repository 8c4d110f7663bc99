/**
 * Option values that could never work stop the start with the option's name (README: "Invalid
 * values stop the server at start with a message that names the option"). A webhook allow list of
 * `*` had been taken as a host named "*", and every webhook URL was refused (a fresh-eyes user).
 */
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config.js';
import { hostAllowed } from '../../src/domain/webhooks.js';

describe('LEADTRAIL_WEBHOOK_ALLOW', () => {
  const allow = (v: string) => loadConfig({ LEADTRAIL_WEBHOOK_ALLOW: v }).webhookAllow;

  it('`*` alone, like an empty list, allows any host', () => {
    expect(allow('*')).toEqual([]);
    expect(allow(' * ')).toEqual([]);
    expect(hostAllowed('localhost', allow('*'))).toBe(true);
    expect(allow('')).toEqual([]);
  });

  it('takes host names, subdomain rules and addresses', () => {
    expect(allow('Hooks.Example.com, *.example.org, localhost, 127.0.0.1, [::1], ::1')).toEqual(['hooks.example.com', '*.example.org', 'localhost', '127.0.0.1', '[::1]', '::1']);
  });

  it.each(['http://hooks.example.com', 'hooks.example.com:8080', '*', 'a b', 'hooks.*.com', '*example.com'].map((bad) => [bad, `localhost,${bad}`]))(
    'refuses an entry that can never match a host: %s',
    (bad, list) => {
      const value = bad === '*' ? list : bad;
      expect(() => allow(value)).toThrow(ConfigError);
      expect(() => allow(value)).toThrow(/LEADTRAIL_WEBHOOK_ALLOW/);
    },
  );

  it('names the flag when the flag was given', () => {
    expect(() => loadConfig({}, { webhookAllow: 'http://x.example' })).toThrow(/--webhook-allow/);
  });
});

describe('LEADTRAIL_PG_WRITE_BATCHES', () => {
  it('set above half of LEADTRAIL_PG_POOL stops the start naming both, rather than being cut down without a word', () => {
    expect(() => loadConfig({ LEADTRAIL_PG_WRITE_BATCHES: '6', LEADTRAIL_PG_POOL: '10' })).toThrow(ConfigError);
    expect(() => loadConfig({ LEADTRAIL_PG_WRITE_BATCHES: '6', LEADTRAIL_PG_POOL: '10' })).toThrow(/LEADTRAIL_PG_WRITE_BATCHES 6 .*LEADTRAIL_PG_POOL 10, so at most 5/);
    expect(() => loadConfig({ LEADTRAIL_PG_POOL: '10' }, { pgWriteBatches: '6' })).toThrow(/--pg-write-batches 6/);
    expect(loadConfig({ LEADTRAIL_PG_WRITE_BATCHES: '5', LEADTRAIL_PG_POOL: '10' }).pgWriteBatches).toBe(5);
  });

  it('left at its default, it fits a small pool as before', () => {
    expect(loadConfig({ LEADTRAIL_PG_POOL: '2' }).pgWriteBatches).toBe(3);
  });
});
