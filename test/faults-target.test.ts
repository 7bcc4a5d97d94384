/**
 * Faults on the target side: no openssl in PATH, a read-only temp area, a full temp area (a
 * tiny tmpfs mounted and filled for the test). Each gives a clear per-host error at the right
 * stage; the healthy host of the same round is stored.
 */
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fullTmpfs, pathWithout, readOnlyDir, startFaultFleet, type FaultFleet } from './support/hostile-fleet.js';
import { runFaultRound } from './support/hostile-round.js';

describe('target faults in a round', () => {
  let fleet: FaultFleet;
  let dir: string;
  let unmount: (() => void) | undefined;

  beforeAll(async () => {
    fleet = await startFaultFleet(4, { firstIndex: 50 });
    dir = mkdtempSync(join(tmpdir(), 'fleetstat-faults-target-'));
  });
  afterAll(async () => {
    unmount?.();
    await fleet?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('names openssl when it is missing, and the temp area when it is read-only or full', async () => {
    const [healthy, noOpenssl, readOnly, full] = fleet.hosts;
    fleet.setMode(noOpenssl!, `path ${pathWithout(join(fleet.faultDir, 'bin-no-openssl'), 'openssl')}`);
    const readOnlyTmp = readOnlyDir(join(fleet.faultDir, 'read-only-tmp'));
    fleet.setMode(readOnly!, `tmpdir ${readOnlyTmp}`);
    const fullTmp = join(fleet.faultDir, 'full-tmp');
    unmount = fullTmpfs(fullTmp);
    fleet.setMode(full!, `tmpdir ${fullTmp}`);

    const { summary, summaryErrors, tableErrors, stored } = await runFaultRound(fleet, {
      dir, clients: [
        { host: healthy!, auth: 'key', name: 'healthy' },
        { host: noOpenssl!, auth: 'key', name: 'no-openssl' },
        { host: readOnly!, auth: 'key', name: 'read-only-tmp' },
        { host: full!, auth: 'key', name: 'full-tmp' },
      ],
    });
    expect(stored).toEqual(['healthy']);
    expect(summary).toMatchObject({ hostsOk: 1, hostsFailed: 3 });

    expect(summaryErrors.get('no-openssl')).toMatchObject({ stage: 'run' });
    expect(summaryErrors.get('no-openssl')!.message).toMatch(/required tool openssl not found in PATH/);
    expect(summaryErrors.get('no-openssl')!.message).toMatch(/install the named tool on the target/);

    expect(summaryErrors.get('read-only-tmp')).toMatchObject({ stage: 'upload' });
    expect(summaryErrors.get('read-only-tmp')!.message).toBe(`cannot create a private directory in ${readOnlyTmp} (read-only or full?)`);

    expect(summaryErrors.get('full-tmp')).toMatchObject({ stage: 'upload' });
    // The tmpfs has room for the directory but not the file: the writer's own ENOSPC text, then ours.
    expect(summaryErrors.get('full-tmp')!.message).toMatch(/No space left on device/);
    expect(summaryErrors.get('full-tmp')!.message).toMatch(new RegExp(`cannot write the probe into ${fullTmp}/fleetstat\\.\\w+ \\(disk full`));
    // The upload removed its half-made directory: only the filler is left in the full area.
    expect(readdirSync(fullTmp)).toEqual(['filler']);

    for (const name of ['no-openssl', 'read-only-tmp', 'full-tmp']) expect(tableErrors.get(name), name).toEqual(summaryErrors.get(name));
    // The failed upload removed its half-made directory; the failed run removed its own.
    expect(fleet.leftovers(noOpenssl!)).toEqual([]);
  });
});
