/**
 * Faults on the target side: no openssl in PATH, a read-only temp area, a full temp area (a
 * tiny tmpfs mounted and filled for the test). Each gives a clear per-host error at the right
 * stage; the healthy host of the same round is stored. The temp area matters only where the
 * probe goes through a file (sudo, the generic path): without sudo it runs from memory, and a
 * read-only temp area stops nothing.
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
    fleet = await startFaultFleet(5, { firstIndex: 50 });
    dir = mkdtempSync(join(tmpdir(), 'fleetstat-faults-target-'));
  });
  afterAll(async () => {
    unmount?.();
    await fleet?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('names openssl when it is missing, and the temp area when it is read-only or full', async () => {
    const [healthy, noOpenssl, readOnly, full, readOnlyNoSudo] = fleet.hosts;
    fleet.setMode(noOpenssl!, `path ${pathWithout(join(fleet.faultDir, 'bin-no-openssl'), 'openssl')}`);
    const readOnlyTmp = readOnlyDir(join(fleet.faultDir, 'read-only-tmp'));
    fleet.setMode(readOnly!, `tmpdir ${readOnlyTmp}`);
    fleet.setMode(readOnlyNoSudo!, `tmpdir ${readOnlyTmp}`);
    const fullTmp = join(fleet.faultDir, 'full-tmp');
    unmount = fullTmpfs(fullTmp);
    fleet.setMode(full!, `tmpdir ${fullTmp}`);

    const { summary, summaryErrors, tableErrors, stored } = await runFaultRound(fleet, {
      dir,
      clients: [
        { host: healthy!, auth: 'key', name: 'healthy' },
        { host: noOpenssl!, auth: 'key', name: 'no-openssl' },
        // sudo: the probe goes through a private directory (sudo -n fails later, never reached here).
        { host: readOnly!, auth: 'key', name: 'read-only-tmp', attributes: { sudo: 'true' } },
        { host: full!, auth: 'key', name: 'full-tmp', attributes: { sudo: 'true' } },
        { host: readOnlyNoSudo!, auth: 'key', name: 'read-only-tmp-no-sudo' },
      ],
    });
    expect(stored).toEqual(['healthy', 'read-only-tmp-no-sudo']);
    expect(summary).toMatchObject({ hostsOk: 2, hostsFailed: 3 });

    expect(summaryErrors.get('no-openssl')).toMatchObject({ stage: 'run' });
    expect(summaryErrors.get('no-openssl')!.message).toMatch(/required tool openssl not found in PATH/);
    expect(summaryErrors.get('no-openssl')!.message).toMatch(/install the named tool on the target/);

    expect(summaryErrors.get('read-only-tmp')).toMatchObject({ stage: 'upload' });
    expect(summaryErrors.get('read-only-tmp')!.message).toBe(
      `cannot create a private directory in ${readOnlyTmp} (read-only or full?)`,
    );

    expect(summaryErrors.get('full-tmp')).toMatchObject({ stage: 'upload' });
    // The tmpfs has room for the directory but not the file: the writer's own ENOSPC text, then ours.
    expect(summaryErrors.get('full-tmp')!.message).toMatch(/No space left on device/);
    expect(summaryErrors.get('full-tmp')!.message).toMatch(
      new RegExp(`cannot write the probe into ${fullTmp}/fleetstat\\.\\w+ \\(disk full`),
    );
    // The upload removed its half-made directory: only the filler is left in the full area.
    expect(readdirSync(fullTmp)).toEqual(['filler']);

    for (const name of ['no-openssl', 'read-only-tmp', 'full-tmp'])
      expect(tableErrors.get(name), name).toEqual(summaryErrors.get(name));
    // The failed upload removed its half-made directory; the failed run removed its own.
    expect(fleet.leftovers(noOpenssl!)).toEqual([]);
  });
});
