/**
 * A loopback fleet of real OpenSSH servers for benchmarks and manual tests.
 *
 *   npx tsx scripts/fleet.ts start N [--dir D] [--batch B]   start N sshd on 127.0.1.1 … (250 per /24)
 *   npx tsx scripts/fleet.ts status --dir D                  how many still run, their memory
 *   npx tsx scripts/fleet.ts stop --dir D [--keep]           stop them by PID, remove D
 *
 * Each sshd has its own throwaway ed25519 host key and runs detached (it outlives this command).
 * D gets fleet.json, pids, known_hosts, the client key, config.xml (key auth),
 * config-password.xml, inventory.ini (Ansible) and ssh_config (plain OpenSSH): see
 * bench/fleet-files.ts. Needs root once for the test account (scripts/test-user.sh).
 */
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { startFleet, stopPid } from '../test/support/sshd.js';
import { manifestOf, readManifest, writeFleetFiles, type FleetManifest } from '../bench/fleet-files.js';

const USAGE = 'usage: fleet.ts start N [--dir D] [--batch B] | status --dir D | stop --dir D [--keep]';

/** True when `pid` is one of this fleet's sshd (not a reused PID of something else). */
function isFleetSshd(pid: number, dir: string): boolean {
  try {
    // sshd rewrites its title ("sshd: /usr/sbin/sshd -D -e -f … [listener] …"): match the text.
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(` ${dir}/sshd_`);
  } catch {
    return false;
  }
}

/** Memory of the running sshd of the fleet, in MiB: proportional set size (shared pages split). */
function fleetRssMiB(fleet: FleetManifest): { running: number; rssMiB: number } {
  let running = 0;
  let kb = 0;
  for (const h of fleet.hosts) {
    if (!isFleetSshd(h.pid, fleet.dir)) continue;
    running++;
    const rollup = readFileSync(`/proc/${h.pid}/smaps_rollup`, 'utf8');
    kb += Number(/^Pss:\s+(\d+)/m.exec(rollup)?.[1] ?? 0);
  }
  return { running, rssMiB: Math.round(kb / 1024) };
}

async function start(count: number, dir: string, batchSize: number): Promise<void> {
  if (existsSync(join(dir, 'fleet.json')))
    throw new Error(`${dir} already holds a fleet: stop it first (fleet.ts stop --dir ${dir})`);
  const began = Date.now();
  const fleet = await startFleet(count, { dir, detached: true, batchSize });
  const manifest = manifestOf(fleet);
  writeFleetFiles(manifest);
  const { running, rssMiB } = fleetRssMiB(manifest);
  const first = manifest.hosts[0]!;
  const last = manifest.hosts.at(-1)!;
  console.log(
    `started ${running} sshd in ${((Date.now() - began) / 1000).toFixed(1)}s (${first.address} … ${last.address}), PSS ${rssMiB} MiB in all`,
  );
  console.log(`dir: ${dir}`);
  console.log(`  fleetstat: node dist/cli/main.js collect --config ${join(dir, 'config.xml')}`);
  console.log(`  ansible:   ansible all -i ${join(dir, 'inventory.ini')} -m setup -f 50`);
  console.log(`  ssh:       ssh -F ${join(dir, 'ssh_config')} ${first.address} uptime`);
  console.log(`stop with: npx tsx scripts/fleet.ts stop --dir ${dir}`);
}

async function stop(dir: string, keep: boolean): Promise<void> {
  const fleet = readManifest(dir);
  const ours = fleet.hosts.filter((h) => isFleetSshd(h.pid, fleet.dir));
  await Promise.all(ours.map((h) => stopPid(h.pid)));
  if (!keep) rmSync(dir, { recursive: true, force: true });
  console.log(
    `stopped ${ours.length} sshd (${fleet.hosts.length - ours.length} were already gone)${keep ? '' : `; removed ${dir}`}`,
  );
}

async function main(argv: string[]): Promise<void> {
  const { positionals, values } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: { dir: { type: 'string' }, batch: { type: 'string' }, keep: { type: 'boolean' } },
  });
  const [command, countText] = positionals;
  const dir = values.dir ? resolve(values.dir) : undefined;
  if (command === 'start') {
    const count = Number(countText);
    if (!Number.isInteger(count) || count < 1 || count > 60_000)
      throw new Error(`start needs a host count from 1 to 60000\n${USAGE}`);
    await start(count, dir ?? join(tmpdir(), `fleetstat-fleet-${count}-${process.pid}`), Number(values.batch ?? 64));
  } else if (command === 'stop' && dir) {
    await stop(dir, values.keep ?? false);
  } else if (command === 'status' && dir) {
    const fleet = readManifest(dir);
    const { running, rssMiB } = fleetRssMiB(fleet);
    console.log(`${running} of ${fleet.hosts.length} sshd running, PSS ${rssMiB} MiB in all`);
  } else {
    throw new Error(USAGE);
  }
}

main(process.argv.slice(2)).catch((error: Error) => {
  console.error(`fleet: ${error.message}`);
  process.exitCode = 1;
});
