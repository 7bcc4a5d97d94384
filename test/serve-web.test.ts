/**
 * The web boundary of a real `fleetstat serve` process: a config reload applies rotated web
 * credentials at once and names what needs a restart; only known Host names are answered; serve
 * will not listen beyond loopback without credentials; a 500 is logged with its request id; no
 * configured secret ever reaches the log.
 */
import { mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openStore } from '../src/store/open-store.js';
import { EXIT } from '../src/cli/exit-codes.js';
import { startServe, type ServeProcess } from './support/serve-process.js';
import { freePort } from './support/sshd.js';

const SECRETS = {
  oldToken: 'old-token-5f2a9c1e7b',
  newToken: 'new-token-0d8e4b6a3f',
  oldPassword: 'old-web-pass-c41d',
  newPassword: 'new-web-pass-9e2b',
  sshPassword: 'ssh-pass-77aa01',
  smtpPassword: 'smtp-pass-3b9f6c',
};

/** A GET with an explicit Host header (fetch cannot set one). */
function get(
  port: number,
  path: string,
  headers: Record<string, string> = {},
): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, headers }, (res) => {
      let body = '';
      res.on('data', (chunk: Buffer) => {
        body += chunk.toString();
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

const bearer = (token: string) => ({ authorization: `Bearer ${token}` });
const basic = (user: string, password: string) => ({
  authorization: `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`,
});

describe('fleetstat serve: web boundary', () => {
  let dir: string;
  let deadPort: number;
  const running: ServeProcess[] = [];

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'fleetstat-serve-web-'));
    writeFileSync(join(dir, 'known_hosts'), '');
    writeFileSync(join(dir, 'ssh.pw'), SECRETS.sshPassword, { mode: 0o600 });
    writeFileSync(join(dir, 'smtp.pw'), SECRETS.smtpPassword, { mode: 0o600 });
    // A configured host nobody listens on: rounds run (and fail at connect) without any sshd.
    deadPort = await freePort('127.0.0.1');
  });
  afterAll(async () => {
    for (const serve of running) if (serve.child.exitCode === null) serve.child.kill('SIGTERM');
    await Promise.all(running.map((s) => s.exited));
    rmSync(dir, { recursive: true, force: true });
  });

  function writeConfig(name: string, web: string, database = 'serve.sqlite'): string {
    const path = join(dir, name);
    writeFileSync(
      path,
      `<clients>
  <settings database="sqlite:${database}" known-hosts="known_hosts" interval="1h"/>
  <smtp host="127.0.0.1" port="${deadPort}" from="fleetstat@example.test" user="fleetstat" password-file="smtp.pw"/>
  <web ${web}/>
  <client ip="127.0.0.1" port="${deadPort}" username="nobody" password-file="ssh.pw" name="dead"/>
</clients>
`,
      { mode: 0o600 },
    );
    return path;
  }

  function serve(config: string, args?: string[]): ServeProcess {
    const process = startServe(config, args);
    running.push(process);
    return process;
  }

  it('applies rotated credentials on reload at once and names the settings that need a restart', async () => {
    writeFileSync(join(dir, 'token'), `${SECRETS.oldToken}\n`, { mode: 0o600 });
    writeFileSync(join(dir, 'web.pw'), SECRETS.oldPassword, { mode: 0o600 });
    const [port, otherPort] = [await freePort('127.0.0.1'), await freePort('127.0.0.1')];
    const web = (p: number) => `listen="127.0.0.1" port="${p}" user="admin" password-file="web.pw" token-file="token"`;
    const path = writeConfig('rotate.xml', web(port));
    const server = serve(path, ['--log-format', 'text']);
    // Text format asked for: readable lines even though stderr is a pipe.
    await server.waitFor(/^\d{4}-\d\d-\d\dT[\d:.]+Z INFO {2}serve: dashboard on http:\/\/127\.0\.0\.1:\d+\//m);
    expect((await get(port, '/api/hosts', bearer(SECRETS.oldToken))).status).toBe(200);
    expect((await get(port, '/api/hosts', basic('admin', SECRETS.oldPassword))).status).toBe(200);
    expect((await get(port, '/api/hosts', bearer(SECRETS.newToken))).status).toBe(401);

    // Rotate both secrets, move the listener and the database in the config, then SIGHUP.
    writeFileSync(join(dir, 'token'), `${SECRETS.newToken}\n`, { mode: 0o600 });
    writeFileSync(join(dir, 'web.pw'), SECRETS.newPassword, { mode: 0o600 });
    writeConfig('rotate.xml', web(otherPort), 'moved.sqlite');
    server.child.kill('SIGHUP');
    // The files are watched too, so a reload may come first; the SIGHUP one sees every change.
    await server.waitFor(/config reloaded \(SIGHUP\)/);
    await server.waitFor(/web credentials changed: applied/);
    expect((await get(port, '/api/hosts', bearer(SECRETS.oldToken))).status).toBe(401);
    expect((await get(port, '/api/hosts', basic('admin', SECRETS.oldPassword))).status).toBe(401);
    expect((await get(port, '/api/hosts', bearer(SECRETS.newToken))).status).toBe(200);
    expect((await get(port, '/api/hosts', basic('admin', SECRETS.newPassword))).status).toBe(200);

    const listenLine = await server.waitFor(
      /WARN .*<web listen\/port> \(127\.0\.0\.1:(\d+) -> 127\.0\.0\.1:(\d+)\) changed: takes effect only after a restart.*/,
    );
    expect([Number(listenLine[1]), Number(listenLine[2])]).toEqual([port, otherPort]);
    const databaseLine = (
      await server.waitFor(/WARN .*the database URL changed: takes effect only after a restart.*/)
    )[0];
    expect(databaseLine).not.toContain('moved.sqlite');
    for (const secret of Object.values(SECRETS)) expect(server.raw()).not.toContain(secret);
    server.child.kill('SIGTERM');
    expect(await server.exited).toBe(EXIT.ok);
  });

  it('picks up a rotated token-file without a signal', async () => {
    writeFileSync(join(dir, 'watched-token'), SECRETS.oldToken, { mode: 0o600 });
    const server = serve(writeConfig('watched.xml', 'token-file="watched-token"'));
    const port = Number((await server.waitFor(/dashboard on http:\/\/127\.0\.0\.1:(\d+)\//))[1]);
    expect((await get(port, '/api/hosts', bearer(SECRETS.oldToken))).status).toBe(200);
    // Rotate the way tools do: write a new file, rename it over the old one.
    writeFileSync(join(dir, 'watched-token.new'), SECRETS.newToken, { mode: 0o600 });
    renameSync(join(dir, 'watched-token.new'), join(dir, 'watched-token'));
    await server.waitFor(/config reloaded \(file changed\)[\s\S]*web credentials changed: applied/);
    expect((await get(port, '/api/hosts', bearer(SECRETS.oldToken))).status).toBe(401);
    expect((await get(port, '/api/hosts', bearer(SECRETS.newToken))).status).toBe(200);
  });

  it('answers only its own address and configured names (DNS rebinding), and keeps /metrics behind the credentials', async () => {
    writeFileSync(join(dir, 'token'), SECRETS.oldToken, { mode: 0o600 });
    const server = serve(writeConfig('hosts.xml', 'hosts="fleet.example.test, dash" token-file="token"'));
    const port = Number((await server.waitFor(/dashboard on http:\/\/127\.0\.0\.1:(\d+)\//))[1]);
    const auth = bearer(SECRETS.oldToken);
    for (const host of [
      `127.0.0.1:${port}`,
      `localhost:${port}`,
      `fleet.example.test:${port}`,
      'FLEET.example.test.',
      'dash',
    ]) {
      expect({ host, status: (await get(port, '/api/hosts', { ...auth, host })).status }).toEqual({
        host,
        status: 200,
      });
    }
    for (const host of [
      `rebind.attacker.test:${port}`,
      `127.0.0.2:${port}`,
      `fleet.example.test.attacker.test:${port}`,
    ]) {
      const answer = await get(port, '/api/hosts', { ...auth, host });
      expect({ host, status: answer.status }).toEqual({ host, status: 421 });
      expect(answer.body).not.toContain('dead');
    }
    await server.waitFor(/WARN {2}web: refused a request for an unknown host name .*host=rebind\.attacker\.test/);
    expect((await get(port, '/metrics')).status).toBe(401);
    expect((await get(port, '/metrics', auth)).status).toBe(200);
  });

  it('refuses to listen beyond loopback without credentials', async () => {
    const server = serve(writeConfig('open.xml', 'port="8080"'), ['--listen', '0.0.0.0:0']);
    expect(await server.exited).toBe(EXIT.configInvalid);
    expect(server.raw()).toMatch(
      /refusing to serve: the dashboard would listen on 0\.0\.0\.0 without credentials.*allow-anonymous/,
    );
  });

  it('logs a 500 as JSON with its request id and the error, and never a configured secret', async () => {
    writeFileSync(join(dir, 'token'), SECRETS.oldToken, { mode: 0o600 });
    writeFileSync(join(dir, 'web.pw'), SECRETS.oldPassword, { mode: 0o600 });
    const database = 'broken.sqlite';
    const server = serve(writeConfig('broken.xml', 'user="admin" password-file="web.pw" token-file="token"', database));
    const port = Number((await server.waitFor(/dashboard on http:\/\/127\.0\.0\.1:(\d+)\//))[1]);
    await server.waitFor(/round \d+: 0 ok, 1 failed/);
    // Wrong guesses that contain the secrets, and the right ones.
    expect((await get(port, '/api/hosts', bearer(`${SECRETS.oldToken}x`))).status).toBe(401);
    expect((await get(port, '/api/hosts', basic('admin', `${SECRETS.oldPassword}x`))).status).toBe(401);
    expect((await get(port, '/', basic('admin', SECRETS.oldPassword))).status).toBe(200);

    // Break the database under the running server: the next query fails inside the handler.
    const store = await openStore(`sqlite:${join(dir, database)}`);
    await sql`alter table hosts rename to hosts_gone`.execute(store.db);
    await store.close();
    const answer = await get(port, '/api/hosts', bearer(SECRETS.oldToken));
    expect(answer.status).toBe(500);
    const requestId = /request ([0-9a-f]+)\)/.exec(JSON.parse(answer.body).error as string)?.[1];
    expect(requestId).toBeDefined();
    await server.waitFor(new RegExp(`ERROR web: request failed \\[req ${requestId}\\]`));
    const logged = server.records().find((r) => r.reqId === requestId && r.msg === 'request failed');
    expect(logged).toMatchObject({
      level: 'error',
      component: 'web',
      url: '/api/hosts',
      err: { message: expect.stringMatching(/no such table: hosts/) },
    });
    // The completion line follows the answer; wait for it rather than race it.
    await server.waitFor(new RegExp(`ERROR web: request completed \\[req ${requestId}\\] .*status=500`));

    // A reload rereads every secret, and a stop ends the log: nothing secret in any of it.
    server.child.kill('SIGHUP');
    await server.waitFor(/config reloaded \(SIGHUP\)/);
    server.child.kill('SIGTERM');
    expect(await server.exited).toBe(EXIT.ok);
    const lines = server
      .raw()
      .split('\n')
      .filter((l) => l !== '');
    expect(lines.length).toBeGreaterThan(5);
    for (const line of lines) expect(() => JSON.parse(line), line).not.toThrow();
    for (const secret of Object.values(SECRETS)) expect(server.raw()).not.toContain(secret);
  });
});
