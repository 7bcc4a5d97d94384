/**
 * Plausible, varying probe reports for the simulated fleet (bench/sim-fleet.ts): the shape
 * probe.sh prints on a small Debian server (src/probe/report.ts, schema 1), with values that
 * differ per host and drift per run, so the collector stores, validates and alerts on data that
 * looks like a real fleet's and no two rows are the same.
 */
import type { Report } from '../src/probe/report.js';

const GIB = 2 ** 30;

/** A small deterministic generator (mulberry32): the same host always gets the same machine. */
function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
  };
}

const round1 = (n: number) => Math.round(n * 10) / 10;
const round2 = (n: number) => Math.round(n * 100) / 100;
const isoSeconds = (ms: number) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');

/** What stays the same for one host across runs. */
interface Machine {
  cores: number;
  memTotal: number;
  swapTotal: number;
  diskSize: number;
  bootMs: number;
  nics: string[];
  /** The share of CPU time this machine is busy, which its counters grow at. */
  busyShare: number;
}

function machineOf(hostIndex: number, startedMs: number): Machine {
  const pick = random(hostIndex * 7919 + 17);
  const cores = [1, 2, 4, 8, 16][Math.floor(pick() * 5)]!;
  return {
    cores,
    memTotal: cores * 2 * GIB,
    swapTotal: pick() < 0.5 ? 0 : 2 * GIB,
    diskSize: (20 + Math.floor(pick() * 480)) * GIB,
    bootMs: startedMs - Math.floor(pick() * 90 * 86_400_000),
    nics: pick() < 0.3 ? ['lo', 'eth0', 'eth1'] : ['lo', 'eth0'],
    busyShare: 0.05 + 0.5 * pick(),
  };
}

/** Counters since boot: total ticks of all cores, and the idle part of them. */
function cpuCounters(uptimeSeconds: number, cores: number, busyShare: number): { total: number; idle: number } {
  const total = uptimeSeconds * 100 * cores;
  return { total, idle: Math.floor(total * (1 - busyShare)) };
}

/**
 * The report host `hostIndex` gives on its `run`-th probe run, at `nowMs`. `cpuMs` is the
 * sampling interval the collector asked for (echoed as probe.sh does).
 */
export function simReport(hostIndex: number, run: number, nowMs: number, cpuMs: number, startedMs: number): Report {
  const m = machineOf(hostIndex, startedMs);
  const pick = random(hostIndex * 104_729 + run * 31 + 1);
  const memUsed = Math.floor(m.memTotal * (0.15 + 0.7 * pick()));
  const swapUsed = Math.floor(m.swapTotal * 0.1 * pick());
  const diskUsed = Math.floor(m.diskSize * (0.1 + 0.8 * pick()));
  const load = m.cores * pick() * 1.2;
  const uptime = Math.floor((nowMs - m.bootMs) / 1000);
  const traffic = (scale: number) => Math.floor(uptime * scale * (0.5 + pick()));
  return {
    schema: 1,
    probe: 'sh',
    collected_at: isoSeconds(nowMs),
    host: {
      hostname: `sim-${hostIndex + 1}`,
      os: 'linux',
      os_name: 'Debian GNU/Linux 12 (bookworm)',
      kernel: '6.1.0-28-amd64',
      arch: 'x86_64',
    },
    cpu: {
      percent: round1(100 * pick() ** 2),
      cores: m.cores,
      interval_ms: cpuMs,
      load1: round2(load),
      load5: round2(load * 0.9),
      load15: round2(load * 0.8),
      // Cumulative ticks (USER_HZ 100) that grow with uptime at the host's own busy share, as /proc/stat's do.
      counters: cpuCounters(uptime, m.cores, m.busyShare),
    },
    memory: {
      total_bytes: m.memTotal,
      used_bytes: memUsed,
      available_bytes: m.memTotal - memUsed,
      percent: round1((100 * memUsed) / m.memTotal),
    },
    swap: {
      total_bytes: m.swapTotal,
      used_bytes: swapUsed,
      percent: m.swapTotal === 0 ? 0 : round1((100 * swapUsed) / m.swapTotal),
    },
    uptime_seconds: uptime,
    boot_time: isoSeconds(m.bootMs),
    process_count: 80 + Math.floor(pick() * 200),
    disks: [
      {
        mount: '/',
        fs: 'ext4',
        device: '/dev/vda1',
        size_bytes: m.diskSize,
        used_bytes: diskUsed,
        avail_bytes: m.diskSize - diskUsed,
        used_percent: round1((100 * diskUsed) / m.diskSize),
      },
      {
        mount: '/boot/efi',
        fs: 'vfat',
        device: '/dev/vda15',
        size_bytes: 124 * 2 ** 20,
        used_bytes: 12 * 2 ** 20,
        avail_bytes: 112 * 2 ** 20,
        used_percent: 9.7,
      },
    ],
    nics: m.nics.map((name) => {
      const scale = name === 'lo' ? 2_000 : 50_000;
      const rx = traffic(scale);
      return {
        name,
        rx_bytes: rx,
        tx_bytes: name === 'lo' ? rx : traffic(scale / 4),
        rx_packets: Math.floor(rx / 900),
        tx_packets: Math.floor(rx / 1200),
        rx_errors: 0,
        tx_errors: 0,
      };
    }),
    users:
      pick() < 0.1 ? [{ name: 'admin', tty: 'pts/0', from: '127.0.0.1', login_at: isoSeconds(nowMs - 3_600_000) }] : [],
    events: { readable: true, truncated: false, note: 'source: journal', items: [] },
    warnings: [],
  };
}
