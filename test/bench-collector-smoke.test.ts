/**
 * Smoke run of the collector-alone benchmark (bench/collector-scale.ts over bench/sim-fleet.ts)
 * on 20 simulated hosts, one of each kind slow, failing (probe exit 1, garbage reply) and
 * refusing (key refused, no listener). No timing is asserted; only that the real
 * `fleetstat collect` round over the simulated SSH fleet stored every healthy host (the slow
 * one too), recorded each failing or refusing host as a failure of its stage, and that the
 * simulator reported its CPU and stopped.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { requireTool } from './support/requirements.js';

const run = promisify(execFile);
const TSX = new URL('../node_modules/.bin/tsx', import.meta.url).pathname;
const BENCH = new URL('../bench/collector-scale.ts', import.meta.url).pathname;

interface Row {
  hosts: number;
  hostsOk: number;
  hostsFailed: number;
  samplesStored: number;
  faultsMisrecorded: string[];
  faultsMisrecordedCount: number;
  cpuMsPerHost: number;
  peakRssMiB: number;
  simCpuMsPerHost: number;
  exitCode: number;
}

describe('bench/collector-scale.ts smoke run', () => {
  const time = requireTool('time', 'the benchmark measures the collector with GNU time');
  it.skipIf(!time)(
    'collects 20 simulated hosts and reports the failing and refusing ones as failures',
    async () => {
      // A port of its own, so a benchmark running beside the suite does not collide.
      const port = String(30_000 + (process.pid % 5000));
      const { stdout } = await run(
        TSX,
        [
          BENCH,
          '--hosts',
          '20',
          '--fault-share',
          '0.05',
          '--slow-ms',
          '500',
          '--concurrency',
          '8',
          '--port',
          port,
          '--octet',
          '202',
          // Generous: a healthy host must not time out on a machine busy with other work.
          '--connect-timeout',
          '120',
          '--host-timeout',
          '180',
        ],
        {
          maxBuffer: 16 << 20,
          timeout: 400_000,
        },
      ).catch((error: { stdout?: string; stderr?: string }) => {
        throw new Error(`benchmark failed:\n${error.stdout ?? ''}\n${error.stderr ?? ''}`);
      });
      const line = stdout.split('\n').find((l) => l.startsWith('BENCH-JSON '));
      expect(line).toBeDefined();
      const [row] = (JSON.parse(line!.slice('BENCH-JSON '.length)) as { rows: Row[] }).rows;
      expect(row).toBeDefined();
      expect(row!.hosts).toBe(20);
      // slow, exit, garbage, auth, closed: one each; the slow host is stored.
      expect(row!.hostsFailed).toBe(4);
      expect(row!.hostsOk).toBe(16);
      expect(row!.samplesStored).toBe(16);
      expect(row!.faultsMisrecorded).toEqual([]);
      expect(row!.faultsMisrecordedCount).toBe(0);
      expect(row!.exitCode).toBe(1); // some hosts failed (src/cli/exit-codes.ts)
      expect(row!.cpuMsPerHost).toBeGreaterThan(0);
      expect(row!.peakRssMiB).toBeGreaterThan(0);
      expect(row!.simCpuMsPerHost).toBeGreaterThan(0);
      // The simulator is gone: nothing listens on its port any more.
      const { stdout: ps } = await run('ps', ['-eo', 'args=']);
      expect(ps.split('\n').filter((l) => l.includes('sim-fleet.ts') && l.includes(`--port ${port}`))).toEqual([]);
    },
    450_000,
  );
});
