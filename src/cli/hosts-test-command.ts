/**
 * `fleetstat hosts test`: collect from some clients without storing anything or sending mail,
 * and print what came back (or the stage that failed) — for checking a new host's access.
 */
import { collectHost } from '../collect/collect-host.js';
import { forEachConcurrently } from '../collect/pool.js';
import { asStageError } from '../errors/stage-error.js';
import { loadProbeScripts } from '../probe/scripts.js';
import { HostKeyStore } from '../ssh/host-key-policy.js';
import { oneLine } from '../text/untrusted-text.js';
import { EXIT } from './exit-codes.js';
import { loadConfigOrFail, runCommand, chooseClients } from './command-context.js';

export interface HostsTestOptions {
  config: string;
  /** Client names or IPs; none means every client. */
  hosts: string[];
  json?: boolean;
}

/** Resolves with ok when every chosen host answered, hostsFailed or allHostsFailed otherwise. */
export function hostsTestCommand(options: HostsTestOptions): Promise<number> {
  return runCommand(async () => {
    const config = await loadConfigOrFail(options.config);
    const clients = chooseClients(config, options.hosts, options.config);
    const [hostKeys, scripts] = await Promise.all([
      HostKeyStore.load(config.settings.knownHostsPath),
      loadProbeScripts(),
    ]);

    // One line and one JSON object per chosen client, in the order given.
    const results = new Array<{ line: string; json: object; ok: boolean }>(clients.length);
    await forEachConcurrently(clients, config.settings.concurrency, async (client, index) => {
      const began = Date.now();
      try {
        const { report } = await collectHost(client, { hostKeys, settings: config.settings, scripts, lastRecordId: 0 });
        const seconds = ((Date.now() - began) / 1000).toFixed(1);
        results[index] = {
          ok: true,
          json: { host: client.name, ip: client.ip, ok: true, seconds: Number(seconds), report },
          line: `ok     ${client.name} (${client.ip}:${client.port}) ${seconds}s: ${oneLine(report.host.os_name, 256)} ${oneLine(report.host.arch, 32)}, cpu ${report.cpu.percent.toFixed(1)}%, memory ${report.memory.percent.toFixed(1)}%, ${report.disks.length} disks, events ${report.events.readable ? 'readable' : 'not readable'}`,
        };
      } catch (thrown) {
        const error = asStageError(thrown, 'connect');
        results[index] = {
          ok: false,
          json: { host: client.name, ip: client.ip, ok: false, stage: error.stage, message: error.describe() },
          line: `FAILED ${client.name} (${client.ip}:${client.port}) [${error.stage}] ${error.describe()}`,
        };
      }
    });
    if (options.json)
      process.stdout.write(
        `${JSON.stringify(
          results.map((r) => r.json),
          null,
          2,
        )}\n`,
      );
    else process.stdout.write(`${results.map((r) => r.line).join('\n')}\n`);
    const failed = results.filter((r) => !r.ok).length;
    if (failed === 0) return EXIT.ok;
    return failed === results.length ? EXIT.allHostsFailed : EXIT.hostsFailed;
  });
}
