/**
 * The config reloader's hooks with real files: a valid config that would expose the dashboard
 * (credentials dropped while listening beyond loopback) is refused and the old one kept; a taken
 * config is handed to `changed` with the one it replaced.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { afterAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config/load-config.js';
import type { Config } from '../src/config/types.js';
import { createLogger } from '../src/log/logger.js';
import { ConfigReloader } from '../src/serve/config-reloader.js';
import { checkExposure } from '../src/serve/web-exposure.js';

const dir = mkdtempSync(join(tmpdir(), 'fleetstat-reloader-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function writeConfig(web: string): string {
  const path = join(dir, 'config.xml');
  writeFileSync(join(dir, 'token'), 'tok-7c1e', { mode: 0o600 });
  writeFileSync(
    path,
    `<clients>\n  <web ${web}/>\n  <client ip="127.0.0.1" port="1" username="n" agent="true"/>\n</clients>\n`,
    { mode: 0o600 },
  );
  return path;
}

describe('config reloader hooks', () => {
  it('refuses a config the serve command vetoes and keeps the old one; passes a taken one to changed', async () => {
    const out = new PassThrough();
    let log = '';
    out.on('data', (chunk: Buffer) => {
      log += chunk.toString();
    });
    const initial = await loadConfig(writeConfig('token-file="token"'));
    const changes: Array<[Config, Config]> = [];
    const reloader = new ConfigReloader(initial, createLogger({ format: 'json', out }), {
      vet: (next) => {
        const e = checkExposure('0.0.0.0', next.web);
        return e.status === 'open-refused' ? e.reason : undefined;
      },
      changed: (previous, next) => changes.push([previous, next]),
    });

    writeConfig('metrics-open="true"');
    expect(await reloader.reload('test')).toBe(false);
    expect(reloader.config).toBe(initial);
    expect(reloader.config.web.token).toBe('tok-7c1e');
    expect(JSON.parse(log.trim().split('\n').at(-1)!)).toMatchObject({
      level: 'error',
      msg: expect.stringMatching(
        /^config reload \(test\) rejected, keeping the previous config: the dashboard would listen on 0\.0\.0\.0 without credentials/,
      ),
    });
    expect(changes).toEqual([]);

    writeConfig('token-file="token" metrics-open="true"');
    expect(await reloader.reload('test')).toBe(true);
    expect(reloader.config.web.metricsOpen).toBe(true);
    expect(changes).toHaveLength(1);
    expect(changes[0]![0]).toBe(initial);
    expect(changes[0]![1]).toBe(reloader.config);
    expect(log).not.toContain('tok-7c1e');
  });
});

describe('config reloader watching included files and host lists', () => {
  it('reloads when an included file or a host-list file changes, like the main file', async () => {
    const sub = mkdtempSync(join(dir, 'inc-'));
    mkdirSync(join(sub, 'conf.d'));
    writeFileSync(
      join(sub, 'conf.d/web.xml'),
      '<clients><client ip="127.0.0.1" port="1" username="n" agent="true"/></clients>\n',
      { mode: 0o600 },
    );
    writeFileSync(join(sub, 'hosts.txt'), '127.0.0.2\n', { mode: 0o600 });
    writeFileSync(
      join(sub, 'config.xml'),
      '<clients>\n<include path="conf.d/*.xml"/>\n<client hosts-file="hosts.txt" port="1" username="n" agent="true"/>\n</clients>\n',
      { mode: 0o600 },
    );
    const stream = new PassThrough();
    const reloader = new ConfigReloader(
      await loadConfig(join(sub, 'config.xml')),
      createLogger({ format: 'json', out: stream }),
    );
    expect(reloader.config.sourceFiles).toEqual([join(sub, 'conf.d/web.xml'), join(sub, 'hosts.txt')]);
    reloader.start();
    try {
      writeFileSync(
        join(sub, 'conf.d/web.xml'),
        '<clients><client ip="127.0.0.1,127.0.0.3" port="1" username="n" agent="true"/></clients>\n',
      );
      await until(() => reloader.config.clients.length === 3);
      writeFileSync(join(sub, 'hosts.txt'), '127.0.0.2\n127.0.0.4\n');
      await until(() => reloader.config.clients.length === 4);
      expect(reloader.config.clients.map((c) => c.ip)).toEqual(['127.0.0.1', '127.0.0.3', '127.0.0.2', '127.0.0.4']);
    } finally {
      reloader.stop();
    }
  });
});

/** Waits (generously: a busy machine delays file events) until `done` holds. */
async function until(done: () => boolean, deadlineMs = 30_000): Promise<void> {
  const deadline = Date.now() + deadlineMs;
  while (!done()) {
    if (Date.now() > deadline) throw new Error('condition not reached before the deadline');
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
