/**
 * How fairly several `fleetstat serve` processes on one database share a loopback fleet when
 * they cannot keep up (issue 17): runs `--collectors` real serve processes (dist/cli/main.js,
 * so `npm run build` first) for `--seconds`, then prints, per host, how many times it was
 * collected (samples plus host errors): min, median, max, the hosts never collected, and the
 * collectors' overload log lines.
 *
 *   npx tsx bench/scale-fairness.ts [--hosts 30] [--collectors 2] [--seconds 40] [--interval 5]
 *                                   [--dialect postgres|mysql|sqlite] [--cpu-sample 100]
 *                                   [--concurrency N]   (default: the config's default)
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { clientKey } from '../src/serve/host-claimer.js';
import { migrate } from '../src/store/migrate.js';
import { openStore } from '../src/store/open-store.js';
import { createTestDatabase, type TestDialect } from '../test/support/databases.js';
import { writeFleetConfig } from '../test/support/fleet-config.js';
import { startFleet } from '../test/support/sshd.js';

/** FLEETSTAT_CLI runs another build (e.g. the code before a change, for a before/after figure). */
const CLI = process.env.FLEETSTAT_CLI ?? new URL('../dist/cli/main.js', import.meta.url).pathname;

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      hosts: { type: 'string', default: '30' },
      collectors: { type: 'string', default: '2' },
      seconds: { type: 'string', default: '40' },
      interval: { type: 'string', default: '5' },
      dialect: { type: 'string', default: 'postgres' },
      'cpu-sample': { type: 'string', default: '100' },
      concurrency: { type: 'string' },
    },
  });
  const dialect = values.dialect as TestDialect;
  const fleet = await startFleet(Number(values.hosts));
  const dir = mkdtempSync(join(tmpdir(), 'fleetstat-fairness-'));
  const database = await createTestDatabase(dialect);
  const store = await openStore(database.url);
  const children: ChildProcess[] = [];
  const logs: string[] = [];
  try {
    await migrate(store);
    const configPath = writeFleetConfig(fleet, {
      dir,
      databaseUrl: database.url,
      settings: {
        interval: `${values.interval}s`,
        'cpu-sample': values['cpu-sample'],
        'spool-dir': join(dir, 'spool'),
        ...(values.concurrency ? { concurrency: values.concurrency } : {}),
      },
      clients: fleet.hosts.map((host, i) => ({ host, auth: 'key' as const, name: `h${i}` })),
    });
    for (let i = 0; i < Number(values.collectors); i++) {
      const child = spawn(
        process.execPath,
        [CLI, 'serve', '--config', configPath, '--listen', '127.0.0.1:0', '--grace', '10'],
        { stdio: ['ignore', 'ignore', 'pipe'] },
      );
      logs.push('');
      child.stderr.on('data', (chunk: Buffer) => {
        logs[i] += chunk.toString();
      });
      children.push(child);
    }
    await new Promise((resolve) => setTimeout(resolve, Number(values.seconds) * 1000));
    await Promise.all(
      children.map(
        (child) =>
          new Promise<void>((resolve) => {
            child.once('exit', () => resolve());
            child.kill('SIGTERM');
          }),
      ),
    );

    const counts = new Map(fleet.hosts.map((h) => [clientKey({ ip: h.address, port: h.port }), 0]));
    const collected = [
      ...(await store.db
        .selectFrom('samples')
        .innerJoin('hosts', 'hosts.id', 'samples.host_id')
        .select(['hosts.ip', 'hosts.port'])
        .execute()),
      ...(await store.db
        .selectFrom('host_errors')
        .innerJoin('hosts', 'hosts.id', 'host_errors.host_id')
        .select(['hosts.ip', 'hosts.port'])
        .execute()),
    ];
    for (const row of collected) counts.set(clientKey(row), (counts.get(clientKey(row)) ?? 0) + 1);
    const sorted = [...counts.values()].sort((a, b) => a - b);
    const median =
      sorted.length % 2
        ? sorted[(sorted.length - 1) / 2]!
        : (sorted[sorted.length / 2 - 1]! + sorted[sorted.length / 2]!) / 2;
    console.log(
      `${values.hosts} hosts, ${values.collectors} collectors on ${dialect}, interval ${values.interval} s, concurrency ${values.concurrency ?? 'default'}, ${values.seconds} s`,
    );
    console.log(
      `collections per host: min ${sorted[0]}, median ${median}, max ${sorted.at(-1)}; never collected: ${sorted.filter((n) => n === 0).length}`,
    );
    console.log(
      `distribution: ${JSON.stringify(Object.fromEntries([...new Set(sorted)].map((n) => [n, sorted.filter((m) => m === n).length])))}`,
    );
    logs.forEach((text, i) => {
      const overload = text.split('\n').filter((line) => /behind|caught up/.test(line));
      const rounds = text.match(/round \d+: .* in [\d.]+s/g) ?? [];
      console.log(
        `collector ${i + 1}: ${rounds.length} rounds (${rounds.map((r) => r.replace(/^.* in /, '')).join(' ')})${overload.length ? `\n  ${overload.join('\n  ')}` : ''}`,
      );
    });
  } finally {
    for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await store.close();
    await database.drop();
    await fleet.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
