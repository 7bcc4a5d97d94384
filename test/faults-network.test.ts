/**
 * Network faults in a real round: a host that is down, a tarpit, a host stalling mid-handshake,
 * one stalling mid-run and one whose session dies mid-reply, next to healthy hosts. Each failure
 * is recorded with its stage in host_errors and the summary, the healthy hosts are stored, and
 * the per-host timeouts bound the whole round.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FleetClient } from './support/fleet-config.js';
import { closedPort, startBannerStall, startTarpit, type FaultEndpoint } from './support/fault-servers.js';
import { startFaultFleet, type FaultFleet } from './support/hostile-fleet.js';
import { runFaultRound } from './support/hostile-round.js';

// The connect timeout is 3 s (test/support/hostile-round.ts); each host has 6 s in all.
const HOST_TIMEOUT_S = 6;

describe('network faults in a round', () => {
  let fleet: FaultFleet;
  let endpoints: FaultEndpoint[];
  let dir: string;
  let clients: FleetClient[];

  beforeAll(async () => {
    fleet = await startFaultFleet(4, { firstIndex: 40 });
    endpoints = await Promise.all([closedPort('127.0.9.1'), startTarpit('127.0.9.2'), startBannerStall('127.0.9.3')]);
    dir = mkdtempSync(join(tmpdir(), 'fleetstat-faults-net-'));
    const [healthy1, healthy2, stall, killed] = fleet.hosts;
    fleet.setMode(stall!, 'stall-run 60');
    fleet.setMode(killed!, 'kill-mid-reply');
    const [down, tarpit, banner] = endpoints;
    const timeout = { timeout: String(HOST_TIMEOUT_S) };
    clients = [
      { host: healthy1!, auth: 'key', name: 'healthy-1', attributes: timeout },
      { host: down!, auth: 'key', name: 'down', attributes: timeout },
      { host: tarpit!, auth: 'key', name: 'tarpit', attributes: timeout },
      { host: banner!, auth: 'key', name: 'banner-stall', attributes: timeout },
      { host: stall!, auth: 'key', name: 'stall-run', attributes: timeout },
      { host: killed!, auth: 'key', name: 'killed-mid-reply', attributes: timeout },
      { host: healthy2!, auth: 'password', name: 'healthy-2', attributes: timeout },
    ];
  });
  afterAll(async () => {
    await Promise.all([fleet?.stop(), ...(endpoints ?? []).map((e) => e.stop())]);
    rmSync(dir, { recursive: true, force: true });
  });

  it('records each fault with its stage and stores the healthy hosts', async () => {
    const result = await runFaultRound(fleet, { dir, clients, database: 'mixed.sqlite' });
    const { summary, summaryErrors, tableErrors } = result;

    expect(result.stored).toEqual(['healthy-1', 'healthy-2']);
    expect(summary).toMatchObject({ hostsOk: 2, hostsFailed: 5, spooled: 0 });
    const expected: Record<string, [string, RegExp]> = {
      down: ['connect', /^connection refused by 127\.0\.9\.1:\d+ /],
      tarpit: ['connect', /^no SSH handshake from 127\.0\.9\.2:\d+ within the connect timeout/],
      'banner-stall': ['connect', /^no SSH handshake from 127\.0\.9\.3:\d+ within the connect timeout/],
      'stall-run': ['run', new RegExp(`^timed out after ${HOST_TIMEOUT_S}s during run`)],
      'killed-mid-reply': ['run', /^the probe failed \(ended by signal .* or a dropped connection\)/],
    };
    for (const [name, [stage, message]] of Object.entries(expected)) {
      expect(summaryErrors.get(name), name).toMatchObject({ stage });
      expect(summaryErrors.get(name)!.message, name).toMatch(message);
      // The table holds exactly what the summary reported.
      expect(tableErrors.get(name), name).toEqual(summaryErrors.get(name));
    }
    expect([...tableErrors.keys()].sort()).toEqual(Object.keys(expected).sort());

    // The tarpit and the stalled banner were really connected to (not refused).
    expect(endpoints[1]!.connections).toBeGreaterThan(0);
    expect(endpoints[2]!.connections).toBeGreaterThan(0);
    // The one-shot command runs the probe from memory: not even the stalled run leaves a directory.
    const [healthy1, healthy2, stall, killed] = fleet.hosts;
    expect(fleet.leftovers(healthy1!)).toEqual([]);
    expect(fleet.leftovers(healthy2!)).toEqual([]);
    expect(fleet.leftovers(killed!)).toEqual([]);
    expect(fleet.leftovers(stall!)).toEqual([]);
  });

  it('ends each stuck host by its own timeout, so a round of stuck hosts in batches still finishes', async () => {
    // Boundedness, not speed: the round returns (a hang would end in the test's timeout), and
    // every stuck host was ended by the connect or host timeout, never waited out.
    const result = await runFaultRound(fleet, {
      dir,
      clients,
      database: 'bound.sqlite',
      settings: { concurrency: '3' },
    });
    expect(result.summary.hostsOk).toBe(2);
    expect(result.summary.hostsFailed).toBe(5);
    expect(result.summaryErrors.get('tarpit')!.message).toMatch(/within the connect timeout/);
    expect(result.summaryErrors.get('banner-stall')!.message).toMatch(/within the connect timeout/);
    expect(result.summaryErrors.get('stall-run')!.message).toMatch(
      new RegExp(`^timed out after ${HOST_TIMEOUT_S}s during run`),
    );
  });
});
