/**
 * The DNS-rebinding defence as a table (src/web/host-check.ts) and the exposure rules of serve's
 * listener (src/serve/web-exposure.ts): which Host values are answered, which listen addresses
 * need credentials, what a reload can change without a restart.
 */
import { describe, expect, it } from 'vitest';
import type { Config, WebConfig } from '../src/config/types.js';
import { hostNameOf, isAllowedHost } from '../src/web/host-check.js';
import { checkExposure, credentialsChanged, restartOnlyChanges } from '../src/serve/web-exposure.js';
import { defineSecret } from '../src/config/secrets.js';

function web(fields: Partial<WebConfig> & { password?: string; token?: string } = {}): WebConfig {
  const { password, token, ...plain } = fields;
  const result: WebConfig = {
    listen: '127.0.0.1',
    port: 8080,
    hosts: [],
    metricsOpen: false,
    allowAnonymous: false,
    ...plain,
  };
  defineSecret(result, 'password', password);
  defineSecret(result, 'token', token);
  return result;
}

describe('Host check', () => {
  const onLoopback = { names: ['fleet.corp'], boundAddress: '127.0.0.1', localAddress: '127.0.0.1' };
  it.each([
    ['127.0.0.1:8080', true],
    ['127.0.0.1', true],
    ['localhost:8080', true],
    ['LOCALHOST', true],
    ['fleet.corp:8080', true],
    ['Fleet.Corp.', true],
    ['evil.example:8080', false],
    ['127.0.0.2:8080', false],
    ['[::1]:8080', false],
    ['fleet.corp.evil.example', false],
    ['localhost.evil.example', false],
    ['', false],
    [undefined, false],
  ])('bound to 127.0.0.1: Host %j → %s', (host, allowed) => {
    expect(isAllowedHost(host, onLoopback)).toBe(allowed);
  });

  it('on a wildcard address accepts any address literal but still no unknown name', () => {
    const wildcard = { names: [], boundAddress: '::', localAddress: '::ffff:10.1.2.3' };
    expect(isAllowedHost('10.1.2.3:8080', wildcard)).toBe(true);
    expect(isAllowedHost('[2001:db8::5]:8080', wildcard)).toBe(true);
    expect(isAllowedHost('evil.example', wildcard)).toBe(false);
    // localhost only when the connection really came in over loopback.
    expect(isAllowedHost('localhost', wildcard)).toBe(false);
    expect(isAllowedHost('localhost', { ...wildcard, localAddress: '::1' })).toBe(true);
  });

  it('on one IPv6 address accepts that address in brackets', () => {
    const v6 = { names: [], boundAddress: '::1', localAddress: '::1' };
    expect(isAllowedHost('[::1]:8080', v6)).toBe(true);
    expect(isAllowedHost('[::1]', v6)).toBe(true);
    expect(hostNameOf('[::1]:8080')).toBe('::1');
  });
});

describe('serve listener exposure', () => {
  it('refuses beyond loopback without credentials unless allow-anonymous', () => {
    expect(checkExposure('127.0.0.1', web()).status).toBe('loopback');
    expect(checkExposure('::1', web()).status).toBe('loopback');
    expect(checkExposure('localhost', web()).status).toBe('loopback');
    expect(checkExposure('0.0.0.0', web())).toMatchObject({
      status: 'open-refused',
      reason: expect.stringMatching(/without credentials/),
    });
    expect(checkExposure('::', web()).status).toBe('open-refused');
    expect(checkExposure('fleet.corp', web()).status).toBe('open-refused');
    expect(checkExposure('0.0.0.0', web({ token: 't' })).status).toBe('protected');
    expect(checkExposure('0.0.0.0', web({ user: 'u', password: 'p' })).status).toBe('protected');
    expect(checkExposure('0.0.0.0', web({ allowAnonymous: true })).status).toBe('open-allowed');
  });

  it('names listen and database changes as needing a restart, never the database URL itself', () => {
    const config = (w: WebConfig, databaseUrl: string) => {
      const settings = {} as Config['settings'];
      Object.defineProperty(settings, 'databaseUrl', { get: () => databaseUrl, enumerable: false });
      return { web: w, settings } as Config;
    };
    const before = config(web(), 'postgres://u:secret-a@127.0.0.1/db');
    const after = config(web({ listen: '127.0.0.1', port: 9090 }), 'postgres://u:secret-b@127.0.0.1/db');
    const changes = restartOnlyChanges(before, after, { listen: false, database: false });
    expect(changes).toEqual(['<web listen/port> (127.0.0.1:8080 -> 127.0.0.1:9090)', 'the database URL']);
    expect(changes.join(' ')).not.toMatch(/secret/);
    expect(restartOnlyChanges(before, after, { listen: true, database: true })).toEqual([]);
    expect(restartOnlyChanges(before, before, { listen: false, database: false })).toEqual([]);
  });

  it('sees a rotated token or password', () => {
    expect(credentialsChanged(web({ token: 'a' }), web({ token: 'b' }))).toBe(true);
    expect(credentialsChanged(web({ user: 'u', password: 'a' }), web({ user: 'u', password: 'b' }))).toBe(true);
    expect(credentialsChanged(web({ token: 'a' }), web({ token: 'a' }))).toBe(false);
  });
});
