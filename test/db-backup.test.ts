/**
 * `fleetstat db backup FILE`: an online copy of a SQLite database that another process keeps
 * writing to, consistent (every transaction in the copy whole or absent), checked, and put in
 * place atomically; PostgreSQL and MySQL are pointed at their own dump tools.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fleetstat } from './support/cli.js';
import { createTestDatabase, testDialects, type TestDatabase } from './support/databases.js';
import { openStore } from '../src/store/open-store.js';
import { migrate } from '../src/store/migrate.js';
import { ensureHost } from '../src/store/hosts.js';

const ROOT = new URL('..', import.meta.url).pathname;

// Each transaction writes one round with hosts_ok = k and exactly k host_errors rows for it, so
// a torn copy shows as a round whose error count differs from its hosts_ok.
const WRITER = `
const Database = require('better-sqlite3');
const db = new Database(process.argv[1]);
db.pragma('busy_timeout = 10000');
const round = db.prepare('insert into rounds (started_at, hosts_ok, hosts_failed) values (?, ?, 0)');
const error = db.prepare("insert into host_errors (round_id, host_id, occurred_at, stage, message) values (?, 1, ?, 'connect', ?)");
const write = db.transaction((k) => {
  const now = new Date().toISOString();
  const id = round.run(now, k).lastInsertRowid;
  for (let i = 0; i < k; i++) error.run(id, now, 'x'.repeat(500));
});
let n = 0;
const step = () => { write(1 + (n % 20)); n++; if (n % 25 === 0) process.stdout.write(n + '\\n'); setImmediate(step); };
step();
`;

/** Resolves when the writer has committed at least `count` transactions. */
function writerReached(writer: ChildProcess, count: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const deadline = setTimeout(() => reject(new Error(`writer did not reach ${count} transactions`)), 120_000);
    const onData = (chunk: Buffer) => {
      const last = Number(chunk.toString().trim().split('\n').pop());
      if (last >= count) {
        clearTimeout(deadline);
        writer.stdout!.off('data', onData);
        resolve();
      }
    };
    writer.stdout!.on('data', onData);
  });
}

describe('db backup on SQLite, while another process writes', () => {
  let dir: string;
  let database: string;
  let writer: ChildProcess | undefined;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'fleetstat-backup-'));
    database = join(dir, 'fleetstat.sqlite');
    const store = await openStore(`sqlite:${database}`);
    await migrate(store);
    await ensureHost(store, { ip: '127.0.0.1', port: 22, name: 'one' });
    await store.close();
    writer = spawn(process.execPath, ['-e', WRITER, database], { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'] });
  });
  afterAll(() => {
    if (writer?.pid && writer.exitCode === null) process.kill(writer.pid, 'SIGTERM');
    rmSync(dir, { recursive: true, force: true });
  });

  it('writes a consistent, complete copy and leaves the writer running', async () => {
    await writerReached(writer!, 300);
    const file = join(dir, 'backup.sqlite');
    const result = await fleetstat(['db', 'backup', file, '--db', `sqlite:${database}`]);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/backed up .* \(\d+ pages, integrity ok\)/);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(existsSync(`${file}.partial-${process.pid}`)).toBe(false);
    await writerReached(writer!, 350); // still writing after the backup

    const copy = new BetterSqlite3(file, { readonly: true });
    try {
      expect(copy.pragma('integrity_check', { simple: true })).toBe('ok');
      expect(copy.pragma('foreign_key_check')).toEqual([]);
      const rounds = copy.prepare('select count(*) as n from rounds').get() as { n: number };
      expect(rounds.n).toBeGreaterThanOrEqual(300);
      const torn = copy
        .prepare(
          'select r.id from rounds r left join host_errors e on e.round_id = r.id group by r.id having count(e.id) <> r.hosts_ok',
        )
        .all();
      expect(torn).toEqual([]);
    } finally {
      copy.close();
    }
  });

  it('replaces an existing backup file', async () => {
    const file = join(dir, 'backup.sqlite');
    const before = statSync(file).ino;
    const result = await fleetstat(['db', 'backup', file, '--db', `sqlite:${database}`]);
    expect(result.code, result.stderr).toBe(0);
    expect(statSync(file).ino).not.toBe(before);
  });

  it('refuses a database file that does not exist, and creates nothing', async () => {
    const missing = join(dir, 'missing.sqlite');
    const result = await fleetstat(['db', 'backup', join(dir, 'never.sqlite'), '--db', `sqlite:${missing}`]);
    expect(result.code).toBe(4);
    expect(result.stderr).toContain(`backup of ${missing} failed`);
    expect(existsSync(missing)).toBe(false);
    expect(existsSync(join(dir, 'never.sqlite'))).toBe(false);
  });
});

describe.each(testDialects().filter((d) => d !== 'sqlite'))('db backup on %s', (dialect) => {
  let database: TestDatabase;
  beforeAll(async () => {
    database = await createTestDatabase(dialect);
  });
  afterAll(async () => {
    await database?.drop();
  });

  it("points at the database's own dump tool", async () => {
    const result = await fleetstat(['db', 'backup', join(tmpdir(), 'unused.sqlite'), '--db', database.url]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(dialect === 'postgres' ? 'pg_dump' : 'mariadb-dump');
  });
});
