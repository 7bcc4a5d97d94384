/**
 * Bytes fleetstat sends to a host per round, as the collector itself counts them: one real
 * collection of the first host of a config through `collectHost`, outside any timing.
 */
import { loadConfig } from '../src/config/index.js';
import { collectHost } from '../src/collect/collect-host.js';
import { loadProbeScripts } from '../src/probe/scripts.js';
import { HostKeyStore } from '../src/ssh/host-key-policy.js';

export interface UploadSize {
  /** Probe bytes sent to the host (compressed when the target can decompress). */
  uploadedBytes: number;
  /** Size of probe.sh as shipped. */
  probeScriptBytes: number;
}

/** Collects the config's first host once and reports what was uploaded. */
export async function measureUploadSize(configPath: string): Promise<UploadSize> {
  const config = await loadConfig(configPath);
  const client = config.clients[0];
  if (!client) throw new Error(`${configPath} lists no client`);
  const [hostKeys, scripts] = await Promise.all([
    HostKeyStore.load(config.settings.knownHostsPath),
    loadProbeScripts(),
  ]);
  const result = await collectHost(client, { hostKeys, settings: config.settings, scripts, lastRecordId: 0 });
  return { uploadedBytes: result.uploadedBytes, probeScriptBytes: Buffer.byteLength(scripts.sh) };
}
