/**
 * The spool: when the database fails mid-round, collected reports are written here (one file
 * each, mode 0600, written to a temp name then renamed, so a crash never leaves half a file)
 * and imported by the next round before it collects anything. Nothing collected is lost.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, readdir, readFile, rename, stat, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import { reportSchema, type Report } from '../probe/report.js';
import type { Store } from '../store/open-store.js';
import { ensureHost } from '../store/hosts.js';
import type { CpuUsage } from '../store/cpu-counters.js';
import { saveReport } from '../store/save-report.js';

const spooledSchema = z.object({
  ip: z.string().max(255),
  port: z.number().int().min(1).max(65535),
  name: z.string().max(255),
  collected_at: z.string().datetime(),
  report: reportSchema,
  // How the round obtained report.cpu.percent (absent in files of older versions).
  cpu: z
    .object({
      method: z.enum(['counters', 'sample', 'since-boot']),
      interval_ms: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER),
    })
    .strict()
    .optional(),
});

export interface SpooledReport {
  ip: string;
  port: number;
  name: string;
  collectedAt: Date;
  report: Report;
  cpu?: CpuUsage;
}

/** Writes one report to the spool directory; returns the file's path. */
export async function spoolReport(dir: string, entry: SpooledReport): Promise<string> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const base = `${entry.collectedAt.toISOString().replace(/[:.]/g, '-')}-${randomBytes(6).toString('hex')}`;
  const path = join(dir, `${base}.json`);
  const temp = join(dir, `.${base}.tmp`);
  const body = JSON.stringify({
    ip: entry.ip,
    port: entry.port,
    name: entry.name,
    collected_at: entry.collectedAt.toISOString(),
    report: entry.report,
    ...(entry.cpu && { cpu: { method: entry.cpu.method, interval_ms: entry.cpu.intervalMs } }),
  });
  await writeFile(temp, body, { mode: 0o600 });
  await rename(temp, path);
  return path;
}

export interface SpoolImport {
  imported: number;
  /** Files that could not be read or validated: left in place, named here. */
  rejected: string[];
}

const CLAIM_SUFFIX = '.claimed';
/** A claim older than this belongs to a collector that died mid-import: it is taken back. */
const STALE_CLAIM_MS = 10 * 60_000;

/**
 * Stores every spooled report (oldest first) and removes each file once its transaction has
 * committed. Each file is first claimed by an atomic rename, so two collectors sharing a spool
 * directory never import the same report twice. Stops at the first database error, leaving
 * the rest (and the failed one, unclaimed again) for a later round, and at the first file error
 * other than a file another collector took (the caller reports it).
 */
export async function importSpool(store: Store, dir: string): Promise<SpoolImport> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { imported: 0, rejected: [] };
    throw error;
  }
  await reclaimStaleClaims(dir, names);
  const result: SpoolImport = { imported: 0, rejected: [] };
  for (const name of names.filter((n) => n.endsWith('.json')).sort()) {
    const path = join(dir, name);
    const claimed = `${path}${CLAIM_SUFFIX}-${process.pid}-${randomBytes(4).toString('hex')}`;
    try {
      await rename(path, claimed);
    } catch (error) {
      if (isGone(error)) continue; // another collector took it
      throw error;
    }
    let entry: z.infer<typeof spooledSchema>;
    try {
      entry = spooledSchema.parse(JSON.parse(await readFile(claimed, 'utf8')));
    } catch {
      // Reported by the caller as a rejected file, left in place for a person to look at.
      await rename(claimed, path);
      result.rejected.push(path);
      continue;
    }
    try {
      const hostId = await ensureHost(store, { ip: entry.ip, port: entry.port, name: entry.name });
      const cpu = entry.cpu && { method: entry.cpu.method, intervalMs: entry.cpu.interval_ms };
      await saveReport(store, {
        hostId,
        roundId: null,
        collectedAt: new Date(entry.collected_at),
        report: entry.report,
        cpu,
      });
    } catch (error) {
      await rename(claimed, path);
      throw error;
    }
    await unlink(claimed);
    result.imported++;
  }
  return result;
}

/** Gives back the claims of collectors that died mid-import; one that vanished meanwhile was another's to take. */
async function reclaimStaleClaims(dir: string, names: string[]): Promise<void> {
  for (const name of names) {
    const at = name.indexOf(`.json${CLAIM_SUFFIX}-`);
    if (at < 0) continue;
    const path = join(dir, name);
    try {
      if (Date.now() - (await stat(path)).mtimeMs > STALE_CLAIM_MS)
        await rename(path, join(dir, name.slice(0, at + 5)));
    } catch (error) {
      // Imported, or reclaimed by another collector, since readdir: nothing left to do.
      if (!isGone(error)) throw error;
    }
  }
}

/** Whether a file operation failed only because the file is no longer there. */
function isGone(error: unknown): boolean {
  return (error as NodeJS.ErrnoException).code === 'ENOENT';
}
